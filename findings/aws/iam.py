"""IAM: the credential report, account settings, users, policies and server certificates.

Scope GLOBAL (IAM is one global service per account). One call family answers most of what the
CIS section 1 checks need, so no per-user call is made:

* ``generate_credential_report`` until the report is COMPLETE (bounded wait), then
  ``get_credential_report``: one CSV row per user plus ``<root_account>`` with password, MFA and
  access key state and their dates (1.4, 1.5, 1.7, 1.10, 1.11, 1.12, 1.13, 1.14);
* ``get_account_summary``: ``AccountMFAEnabled`` and ``AccountAccessKeysPresent`` (1.4, 1.5, 1.6);
* ``list_virtual_mfa_devices(AssignmentStatus=Assigned)`` (paginated): the virtual MFA devices in
  use and whom they are assigned to; one assigned to the root user means its MFA is not a
  hardware device (1.6). Only serial, user ARN and enable date are kept (never a seed or QR code);
* ``get_account_password_policy``: ``NoSuchEntity`` means no policy is set (1.8, 1.9);
* ``get_account_authorization_details`` (paginated): users with their attached and inline
  policies and groups, groups, roles, and the customer managed policies with every version's
  document (1.15, 1.16);
* ``list_policies(Scope=AWS, OnlyAttached=True)`` and, per AWS managed policy attached in the
  account, ``get_policy_version`` of its default version: the only per-resource calls, made in a
  small thread pool (1.16 also covers AWS managed policies such as AdministratorAccess);
* ``list_server_certificates`` (1.19);
* ``list_entities_for_policy`` for ``AWSSupportAccess`` (1.17).

Timestamps go into ``data`` as ISO 8601 strings; ``data["collected_at"]`` is the "now" that the
time-based checks (1.7, 1.12, 1.14, 1.19) measure ages against, so they stay pure.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
import urllib.parse
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from findings.aws.base import CollectContext, Collected, CollectionError, collector
from findings.toolbox import GLOBAL, ResourceRef, Unit, json_safe, root_virtual_mfa_devices

ROOT_USER = "<root_account>"
SUPPORT_POLICY_NAME = "AWSSupportAccess"
#: The whole wait for the credential report, and the first and largest pause between polls.
REPORT_TIMEOUT_SECONDS = 120.0
REPORT_FIRST_DELAY_SECONDS = 0.2
REPORT_MAX_DELAY_SECONDS = 5.0
#: Threads for the per-policy get_policy_version calls (AWS managed policies in use).
POLICY_WORKERS = 4
#: Only these two summary keys matter to the benchmark.
SUMMARY_KEYS = ("AccountMFAEnabled", "AccountAccessKeysPresent")
#: Credential report columns kept for users (the report has more).
REPORT_COLUMNS = (
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
)


def support_policy_arn(unit: Unit) -> str:
    return f"arn:{unit.partition}:iam::aws:policy/{SUPPORT_POLICY_NAME}"


def _document(value: Any) -> Any:
    """A policy document as a dict.

    IAM returns documents URL-encoded; botocore decodes them into dicts. Decode here too if a
    client ever hands back the raw string.
    """
    if isinstance(value, str):
        return json.loads(urllib.parse.unquote(value))
    return value


def _tags(items: list[Mapping[str, str]] | None) -> dict[str, str]:
    return {str(item["Key"]): str(item.get("Value", "")) for item in items or []}


# --------------------------------------------------------------------------- calls


def _credential_report(ctx: CollectContext, iam: Any) -> dict[str, Any]:
    """Generate the credential report (bounded wait) and return its rows and time."""
    deadline = time.monotonic() + REPORT_TIMEOUT_SECONDS
    delay = REPORT_FIRST_DELAY_SECONDS
    while True:
        state = ctx.call(iam, "generate_credential_report").get("State")
        if state == "COMPLETE":
            break
        if time.monotonic() + delay > deadline:
            raise CollectionError(
                "iam",
                "generate_credential_report",
                "ReportNotComplete",
                f"credential report still {state} after {REPORT_TIMEOUT_SECONDS:.0f}s",
            )
        time.sleep(delay)
        delay = min(delay * 2, REPORT_MAX_DELAY_SECONDS)
    response = ctx.call(iam, "get_credential_report")
    content = response.get("Content", b"")
    text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
    rows = [
        {column: (row.get(column) or "") for column in REPORT_COLUMNS}
        for row in csv.DictReader(io.StringIO(text))
    ]
    return {"generated_at": json_safe(response.get("GeneratedTime")), "rows": rows}


def _authorization_details(ctx: CollectContext, iam: Any) -> dict[str, list[dict[str, Any]]]:
    """Every page of GetAccountAuthorizationDetails (users, groups, roles, customer policies).

    Paginated by hand: the response carries four lists, and ``ctx.paginate`` collects one.
    """
    found: dict[str, list[dict[str, Any]]] = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": [],
        "Policies": [],
    }
    params: dict[str, Any] = {"Filter": ["User", "Group", "Role", "LocalManagedPolicy"]}
    while True:
        page = ctx.call(iam, "get_account_authorization_details", **params)
        for key, items in found.items():
            items.extend(page.get(key, []))
        if not page.get("IsTruncated"):
            return found
        params["Marker"] = page["Marker"]


def _support_entities(ctx: CollectContext, iam: Any, policy_arn: str) -> dict[str, list[str]]:
    """Names of the roles, users and groups AWSSupportAccess is attached to (all pages)."""
    found: dict[str, list[str]] = {"roles": [], "users": [], "groups": []}
    params: dict[str, Any] = {"PolicyArn": policy_arn}
    while True:
        page = ctx.call(iam, "list_entities_for_policy", **params)
        found["roles"] += [str(item["RoleName"]) for item in page.get("PolicyRoles", [])]
        found["users"] += [str(item["UserName"]) for item in page.get("PolicyUsers", [])]
        found["groups"] += [str(item["GroupName"]) for item in page.get("PolicyGroups", [])]
        if not page.get("IsTruncated"):
            return found
        params["Marker"] = page["Marker"]


def _aws_managed_policies(ctx: CollectContext, iam: Any) -> list[dict[str, Any]]:
    """The AWS managed policies attached in the account, with their default version's document.

    GetAccountAuthorizationDetails is asked for customer managed policies only: AWS managed
    policies are the same in every account, and the benchmark cares only about those in use.
    """
    listed = ctx.paginate(iam, "list_policies", "Policies", Scope="AWS", OnlyAttached=True)

    def fetch(policy: Mapping[str, Any]) -> dict[str, Any]:
        version = ctx.call(
            iam,
            "get_policy_version",
            PolicyArn=policy["Arn"],
            VersionId=policy["DefaultVersionId"],
        )["PolicyVersion"]
        return {
            "Arn": str(policy["Arn"]),
            "PolicyName": str(policy["PolicyName"]),
            "Path": str(policy.get("Path", "/")),
            "AttachmentCount": int(policy.get("AttachmentCount", 0)),
            "DefaultVersionId": str(policy["DefaultVersionId"]),
            "Document": _document(version.get("Document")),
            "UpdateDate": json_safe(policy.get("UpdateDate")),
        }

    if not listed:
        return []
    with ThreadPoolExecutor(max_workers=POLICY_WORKERS) as pool:
        return list(pool.map(fetch, listed))


# --------------------------------------------------------------------------- shaping


def _attached(items: list[Mapping[str, Any]] | None) -> list[dict[str, str]]:
    return [
        {"PolicyName": str(item["PolicyName"]), "PolicyArn": str(item["PolicyArn"])}
        for item in items or []
    ]


def _inline(items: list[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    return [
        {"PolicyName": str(item["PolicyName"]), "PolicyDocument": _document(item["PolicyDocument"])}
        for item in items or []
    ]


def _user(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "UserName": str(item["UserName"]),
        "Arn": str(item["Arn"]),
        "Path": str(item.get("Path", "/")),
        "CreateDate": json_safe(item.get("CreateDate")),
        "GroupList": [str(name) for name in item.get("GroupList", [])],
        "AttachedManagedPolicies": _attached(item.get("AttachedManagedPolicies")),
        "UserPolicyList": _inline(item.get("UserPolicyList")),
        "Tags": _tags(item.get("Tags")),
    }


def _group(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "GroupName": str(item["GroupName"]),
        "Arn": str(item["Arn"]),
        "AttachedManagedPolicies": _attached(item.get("AttachedManagedPolicies")),
        "GroupPolicyNames": [str(p["PolicyName"]) for p in item.get("GroupPolicyList", [])],
    }


def _role(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "RoleName": str(item["RoleName"]),
        "Arn": str(item["Arn"]),
        "AttachedManagedPolicies": _attached(item.get("AttachedManagedPolicies")),
        "RolePolicyNames": [str(p["PolicyName"]) for p in item.get("RolePolicyList", [])],
    }


def _customer_policy(item: Mapping[str, Any]) -> dict[str, Any]:
    default_id = str(item.get("DefaultVersionId", ""))
    versions = item.get("PolicyVersionList", [])
    default = next(
        (v for v in versions if v.get("IsDefaultVersion") or v.get("VersionId") == default_id),
        None,
    )
    arn = str(item["Arn"])
    return {
        "Arn": arn,
        # A policy's name is the last part of its ARN (arn:aws:iam::acct:policy/path/name).
        # AWS always sends PolicyName; moto 5.2.5 leaves it out of this call's policies, and
        # the demo scans moto, so the name is read from the ARN when it is missing.
        "PolicyName": str(item.get("PolicyName") or arn.rsplit("/", 1)[-1]),
        "Path": str(item.get("Path", "/")),
        "AttachmentCount": int(item.get("AttachmentCount", 0)),
        "DefaultVersionId": default_id,
        "Document": _document(default.get("Document")) if default else None,
        "UpdateDate": json_safe(item.get("UpdateDate")),
    }


def _virtual_mfa_device(item: Mapping[str, Any]) -> dict[str, Any]:
    """An assigned virtual MFA device: its serial, whom it is assigned to and since when.

    For the root user AWS names the user by the account's ARN (``arn:aws:iam::<account>:root``).
    """
    return {
        "SerialNumber": str(item["SerialNumber"]),
        "UserArn": str((item.get("User") or {}).get("Arn", "")),
        "EnableDate": json_safe(item.get("EnableDate")),
    }


def _certificate(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ServerCertificateName": str(item["ServerCertificateName"]),
        "ServerCertificateId": str(item.get("ServerCertificateId", "")),
        "Arn": str(item["Arn"]),
        "Path": str(item.get("Path", "/")),
        "UploadDate": json_safe(item.get("UploadDate")),
        "Expiration": json_safe(item.get("Expiration")),
    }


def _user_configuration(user: Mapping[str, Any], row: Mapping[str, str] | None) -> dict[str, Any]:
    configuration: dict[str, Any] = {
        "user_name": user["UserName"],
        "path": user["Path"],
        "create_date": user["CreateDate"],
        "groups": user["GroupList"],
        "attached_policies": [p["PolicyArn"] for p in user["AttachedManagedPolicies"]],
        "inline_policies": [p["PolicyName"] for p in user["UserPolicyList"]],
    }
    if row is not None:
        configuration["credentials"] = {
            key: value for key, value in row.items() if key not in ("user", "arn")
        }
    return configuration


def _policy_ref(policy: Mapping[str, Any], managed_by: str) -> ResourceRef:
    return ResourceRef(
        arn=policy["Arn"],
        resource_type="AWS::IAM::Policy",
        region=GLOBAL,
        name=policy["PolicyName"],
        configuration={
            "policy_name": policy["PolicyName"],
            "managed_by": managed_by,
            "path": policy["Path"],
            "attachment_count": policy["AttachmentCount"],
            "default_version_id": policy["DefaultVersionId"],
            "default_version_document": policy["Document"],
        },
    )


# --------------------------------------------------------------------------- collector


@collector("iam", scope=GLOBAL)
def collect_iam(ctx: CollectContext) -> Collected:
    unit = ctx.unit
    iam = ctx.client("iam")
    collected_at = dt.datetime.now(dt.UTC)

    report = _credential_report(ctx, iam)
    summary_map = ctx.call(iam, "get_account_summary").get("SummaryMap", {})
    # AWS always sends both keys; a summary without them must not read as "no root key".
    summary = {key: int(summary_map[key]) for key in SUMMARY_KEYS}
    policy_response = ctx.absent_on(iam, "get_account_password_policy", ("NoSuchEntity",))
    password_policy = dict(policy_response["PasswordPolicy"]) if policy_response else None
    virtual_mfa = [
        _virtual_mfa_device(item)
        for item in ctx.paginate(
            iam, "list_virtual_mfa_devices", "VirtualMFADevices", AssignmentStatus="Assigned"
        )
    ]
    details = _authorization_details(ctx, iam)
    aws_policies = _aws_managed_policies(ctx, iam)
    certificates = [
        _certificate(item)
        for item in ctx.paginate(iam, "list_server_certificates", "ServerCertificateMetadataList")
    ]
    support_arn = support_policy_arn(unit)
    support = _support_entities(ctx, iam, support_arn)

    users = [_user(item) for item in details["UserDetailList"]]
    customer_policies = [_customer_policy(item) for item in details["Policies"]]
    rows_by_arn = {row["arn"]: row for row in report["rows"]}
    root_row = next((row for row in report["rows"] if row["user"] == ROOT_USER), None)

    account = ResourceRef(
        arn=unit.account_arn,
        resource_type="AWS::::Account",
        region=GLOBAL,
        name=unit.account_id,
        configuration={
            "root_user": {
                "account_summary": summary,
                "virtual_mfa_devices": root_virtual_mfa_devices(virtual_mfa, unit),
                "credential_report": (
                    {k: v for k, v in root_row.items() if k not in ("user", "arn")}
                    if root_row
                    else None
                ),
            },
            "password_policy": password_policy,
            "aws_support_access": {"policy_arn": support_arn, **support},
        },
    )
    resources = [account]
    resources += [
        ResourceRef(
            arn=user["Arn"],
            resource_type="AWS::IAM::User",
            region=GLOBAL,
            name=user["UserName"],
            tags=user["Tags"],
            configuration=_user_configuration(user, rows_by_arn.get(user["Arn"])),
        )
        for user in users
    ]
    resources += [_policy_ref(policy, "customer") for policy in customer_policies]
    resources += [_policy_ref(policy, "aws") for policy in aws_policies]
    resources += [
        ResourceRef(
            arn=cert["Arn"],
            resource_type="AWS::IAM::ServerCertificate",
            region=GLOBAL,
            name=cert["ServerCertificateName"],
            configuration={
                "path": cert["Path"],
                "upload_date": cert["UploadDate"],
                "expiration": cert["Expiration"],
            },
        )
        for cert in certificates
    ]

    data = {
        "collected_at": collected_at.isoformat(),
        "credential_report": report,
        "account_summary": summary,
        "password_policy": password_policy,
        "virtual_mfa_devices": virtual_mfa,
        "users": users,
        "groups": [_group(item) for item in details["GroupDetailList"]],
        "roles": [_role(item) for item in details["RoleDetailList"]],
        "customer_policies": customer_policies,
        "aws_managed_policies": aws_policies,
        "server_certificates": certificates,
        "support_access": {"policy_arn": support_arn, **support},
    }
    return Collected(resources=resources, data=data)
