"""AWS Organizations as seen from the scanned account: its organisation, the delegated
administrators, and IAM's centralized root access features.

Scope GLOBAL (Organizations and IAM answer in the partition's home region). Calls:

* ``organizations.describe_organization``: ``AWSOrganizationsNotInUseException`` is an answer
  (the account is in no organisation), not a failure; then nothing else is asked.
* In the management account only: ``list_delegated_administrators`` (paginated) and, per
  delegated administrator, ``list_delegated_services_for_account`` (which services it
  administers; organisations have a handful of them). A member account cannot list them, and
  the organisation is judged in its management account's scan.
* ``iam.list_organizations_features``: which centralized root access features are on. Three
  answers are configuration, kept as their error code: ``ServiceAccessNotEnabledException``
  (IAM's trusted access is off in the organisation), ``OrganizationNotInAllFeaturesMode
  Exception`` (consolidated billing only) and ``AccountNotManagementOrDelegatedAdministrator
  Exception`` (a member account that is not IAM's delegated administrator cannot tell).

moto 5.2.5 implements the Organizations calls but not ``ListOrganizationsFeatures`` (HTTP
500); the simulated account's front door answers it (``simulation.front``).

Everything is about the account pseudo-resource (``AWS::::Account``). No control maps the
checks yet, so a scan does not run this collector until a benchmark does.
"""

from __future__ import annotations

from typing import Any

from findings.aws.base import CollectContext, Collected, collector
from findings.toolbox import GLOBAL, ResourceRef, json_safe

NOT_IN_USE = "AWSOrganizationsNotInUseException"
FEATURE_CODES = (
    "ServiceAccessNotEnabledException",
    "OrganizationNotInAllFeaturesModeException",
    "AccountNotManagementOrDelegatedAdministratorException",
    "OrganizationNotFoundException",
)
ORGANIZATION_KEYS = ("Id", "Arn", "FeatureSet", "MasterAccountId", "MasterAccountArn")
ADMIN_KEYS = ("Id", "Arn", "Name", "Email", "Status", "State", "DelegationEnabledDate")


@collector("organizations", scope=GLOBAL)
def collect_organizations(ctx: CollectContext) -> Collected:
    unit = ctx.unit
    organizations = ctx.client("organizations")
    described, _ = ctx.answer_or_code(organizations, "describe_organization", (NOT_IN_USE,))
    data: dict[str, Any] = {
        "account_id": unit.account_id,
        "organization": None,
        "is_management_account": False,
        "delegated_administrators": None,
        "organization_features": None,
        "organization_features_error": None,
    }
    if described is not None:
        raw = described.get("Organization", {})
        organization = {k: json_safe(raw[k]) for k in ORGANIZATION_KEYS if k in raw}
        data["organization"] = organization
        data["is_management_account"] = organization.get("MasterAccountId") == unit.account_id
        if data["is_management_account"]:
            admins = []
            for item in ctx.paginate(
                organizations, "list_delegated_administrators", "DelegatedAdministrators"
            ):
                services = ctx.paginate(
                    organizations,
                    "list_delegated_services_for_account",
                    "DelegatedServices",
                    AccountId=item["Id"],
                )
                admins.append(
                    {
                        **{k: json_safe(item[k]) for k in ADMIN_KEYS if k in item},
                        "services": sorted(str(s["ServicePrincipal"]) for s in services),
                    }
                )
            data["delegated_administrators"] = admins
        features, code = ctx.answer_or_code(
            ctx.client("iam"), "list_organizations_features", FEATURE_CODES
        )
        data["organization_features"] = (
            {
                "OrganizationId": features.get("OrganizationId"),
                "EnabledFeatures": sorted(str(f) for f in features.get("EnabledFeatures", [])),
            }
            if features is not None
            else None
        )
        data["organization_features_error"] = code
    account = ResourceRef(
        arn=unit.account_arn,
        resource_type="AWS::::Account",
        region=GLOBAL,
        name=unit.account_id,
        configuration={"organization": {k: v for k, v in data.items() if k != "account_id"}},
    )
    return Collected(resources=[account], data=data)
