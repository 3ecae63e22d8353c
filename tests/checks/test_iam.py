"""Pure tests of the IAM (CIS section 1) checks: plain data in, verdicts out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from findings.checks.base import GLOBAL, REGISTRY, Result, Unit
from findings.checks.iam import full_admin_statements, parse_time
from tests.checks.evidence import checked

UNIT = Unit("123456789012", GLOBAL)
ACCOUNT_ARN = "arn:aws:iam::123456789012:root"
NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
ADMIN_DOC = {
    "Version": "2012-10-17",
    "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"},
}
HEADER = (
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


def ago(days: float, seconds: float = 0) -> str:
    """An ISO timestamp ``days`` (and ``seconds``) before NOW, as the credential report writes."""
    moment = NOW - dt.timedelta(days=days, seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def user_arn(name: str) -> str:
    return f"arn:aws:iam::123456789012:user/{name}"


def row(name: str, **values: str) -> dict[str, str]:
    """A credential report row: no password, no MFA, no keys unless given."""
    base = {
        "user": name,
        "arn": user_arn(name),
        "user_creation_time": ago(400),
        "password_enabled": "false",
        "password_last_used": "N/A",
        "password_last_changed": "N/A",
        "mfa_active": "false",
        "access_key_1_active": "false",
        "access_key_1_last_rotated": "N/A",
        "access_key_1_last_used_date": "N/A",
        "access_key_2_active": "false",
        "access_key_2_last_rotated": "N/A",
        "access_key_2_last_used_date": "N/A",
    }
    base.update(values)
    return base


def root_row(**values: str) -> dict[str, str]:
    base = row("<root_account>", password_enabled="not_supported", **values)
    base["arn"] = ACCOUNT_ARN
    return base


def user(name: str, **values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "UserName": name,
        "Arn": user_arn(name),
        "Path": "/",
        "CreateDate": ago(400),
        "GroupList": [],
        "AttachedManagedPolicies": [],
        "UserPolicyList": [],
        "Tags": {},
    }
    base.update(values)
    return base


def data(**values: Any) -> dict[str, Any]:
    """An ``iam`` collector data mapping: an empty account unless given."""
    rows = values.pop("rows", [])
    base: dict[str, Any] = {
        "collected_at": NOW.isoformat(),
        "credential_report": {"generated_at": NOW.isoformat(), "rows": rows},
        "account_summary": {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0},
        "password_policy": None,
        "virtual_mfa_devices": [],
        "users": [user(r["user"]) for r in rows if r["user"] != "<root_account>"],
        "groups": [],
        "roles": [],
        "customer_policies": [],
        "aws_managed_policies": [],
        "server_certificates": [],
        "support_access": {
            "policy_arn": "arn:aws:iam::aws:policy/AWSSupportAccess",
            "roles": [],
            "users": [],
            "groups": [],
        },
    }
    base.update(values)
    return base


def run(check_id: str, payload: dict[str, Any]) -> list[Result]:
    return checked(REGISTRY[check_id].run(payload, UNIT))


def verdicts(check_id: str, payload: dict[str, Any]) -> dict[str, str]:
    return {result.resource_arn: result.status for result in run(check_id, payload)}


def only(check_id: str, payload: dict[str, Any]) -> Result:
    results = run(check_id, payload)
    assert len(results) == 1
    return results[0]


def test_checks_are_registered_with_their_controls() -> None:
    expected = {
        "iam_root_no_access_key": ("1.4", "AWS::::Account"),
        "iam_root_mfa_enabled": ("1.5", "AWS::::Account"),
        "iam_password_policy_min_length_14": ("1.8", "AWS::::Account"),
        "iam_password_policy_reuse_24": ("1.9", "AWS::::Account"),
        "iam_user_console_mfa_enabled": ("1.10", "AWS::IAM::User"),
        "iam_user_unused_credentials_45_days": ("1.12", "AWS::IAM::User"),
        "iam_user_one_active_access_key": ("1.13", "AWS::IAM::User"),
        "iam_user_access_keys_rotated_90_days": ("1.14", "AWS::IAM::User"),
        "iam_user_no_direct_policies": ("1.15", "AWS::IAM::User"),
        "iam_customer_policy_no_full_admin_attached": ("1.16", "AWS::IAM::Policy"),
        "iam_aws_policy_no_full_admin_attached": ("1.16", "AWS::IAM::Policy"),
        "iam_support_role_exists": ("1.17", "AWS::::Account"),
        "iam_server_certificate_not_expired": ("1.19", "AWS::IAM::ServerCertificate"),
    }
    for check_id, (control, resource_type) in expected.items():
        spec = REGISTRY[check_id]
        assert spec.service == "iam"
        assert spec.controls == (control,)
        assert spec.resource_type == resource_type


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize("value", ["N/A", "no_information", "not_supported", "", None])
def test_parse_time_treats_report_placeholders_as_no_date(value: str | None) -> None:
    assert parse_time(value) is None


def test_parse_time_reads_report_and_api_formats() -> None:
    assert parse_time("2024-06-01T12:00:00+00:00") == NOW
    assert parse_time("2024-06-01T12:00:00Z") == NOW
    assert parse_time("2024-06-01T12:00:00") == NOW  # naive means UTC


# --------------------------------------------------------------------------- 1.4, 1.5


def test_root_without_access_key_passes() -> None:
    result = only("iam_root_no_access_key", data(rows=[root_row()]))
    assert (result.resource_arn, result.status) == (ACCOUNT_ARN, "pass")
    assert "AccountAccessKeysPresent is 0" in result.summary


def test_root_with_access_key_in_summary_fails() -> None:
    payload = data(account_summary={"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 1})
    result = only("iam_root_no_access_key", payload)
    assert result.status == "fail"
    assert result.details["AccountAccessKeysPresent"] == 1


def test_root_with_active_key_in_report_fails() -> None:
    payload = data(rows=[root_row(access_key_2_active="true", access_key_2_last_rotated=ago(3))])
    result = only("iam_root_no_access_key", payload)
    assert result.status == "fail"
    assert "root access key 2 active" in result.summary


def test_root_check_works_without_a_root_row() -> None:
    # The summary alone decides when the report has no <root_account> row.
    assert only("iam_root_no_access_key", data()).status == "pass"


@pytest.mark.parametrize(("enabled", "status"), [(1, "pass"), (0, "fail")])
def test_root_mfa(enabled: int, status: str) -> None:
    payload = data(account_summary={"AccountMFAEnabled": enabled, "AccountAccessKeysPresent": 0})
    result = only("iam_root_mfa_enabled", payload)
    assert (result.resource_arn, result.status) == (ACCOUNT_ARN, status)
    assert f"AccountMFAEnabled is {enabled}" in result.summary


def test_root_mfa_fails_when_the_account_summary_does_not_say() -> None:
    # GetAccountSummary always reports AccountMFAEnabled; a summary without it proves nothing.
    payload = data(account_summary={"AccountAccessKeysPresent": 0, "Users": 3})
    result = only("iam_root_mfa_enabled", payload)
    assert (result.resource_arn, result.status) == (ACCOUNT_ARN, "fail")
    assert "MFA is not enabled for the root user" in result.summary
    assert result.details["AccountMFAEnabled"] == 0


def test_root_mfa_shows_the_credential_report_beside_the_summary() -> None:
    payload = data(
        account_summary={"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 0},
        rows=[root_row(mfa_active="false")],
    )
    result = only("iam_root_mfa_enabled", payload)
    assert result.status == "fail"
    assert result.details == {"AccountMFAEnabled": 0, "credential_report": {"mfa_active": "false"}}


# --------------------------------------------------------------------------- 1.8, 1.9


@pytest.mark.parametrize(
    ("length", "status"), [(14, "pass"), (32, "pass"), (13, "fail"), (8, "fail")]
)
def test_password_min_length(length: int, status: str) -> None:
    payload = data(password_policy={"MinimumPasswordLength": length})
    result = only("iam_password_policy_min_length_14", payload)
    assert result.status == status
    assert result.details == {"MinimumPasswordLength": length}


def test_no_password_policy_fails_both_policy_checks() -> None:
    length = only("iam_password_policy_min_length_14", data())
    reuse = only("iam_password_policy_reuse_24", data())
    assert (length.status, reuse.status) == ("fail", "fail")
    assert "No IAM password policy is set" in length.summary
    assert "No IAM password policy is set" in reuse.summary


@pytest.mark.parametrize(("remembered", "status"), [(24, "pass"), (23, "fail"), (1, "fail")])
def test_password_reuse_prevention(remembered: int, status: str) -> None:
    payload = data(
        password_policy={"MinimumPasswordLength": 14, "PasswordReusePrevention": remembered}
    )
    assert only("iam_password_policy_reuse_24", payload).status == status


def test_password_policy_without_reuse_prevention_fails() -> None:
    result = only(
        "iam_password_policy_reuse_24", data(password_policy={"MinimumPasswordLength": 14})
    )
    assert result.status == "fail"
    assert result.summary == "The password policy does not prevent password reuse."


# --------------------------------------------------------------------------- 1.10


def test_console_mfa() -> None:
    payload = data(
        rows=[
            row("with-mfa", password_enabled="true", mfa_active="true"),
            row("no-mfa", password_enabled="true", mfa_active="false"),
            # A user without a console password but with keys: MFA for the console not needed.
            row("keys-only", access_key_1_active="true", access_key_1_last_rotated=ago(2)),
        ]
    )
    results = {r.resource_arn: r for r in run("iam_user_console_mfa_enabled", payload)}
    assert results[user_arn("with-mfa")].status == "pass"
    assert results[user_arn("no-mfa")].status == "fail"
    assert results[user_arn("no-mfa")].summary == (
        "User no-mfa has a console password and no MFA device."
    )
    assert results[user_arn("keys-only")].status == "pass"
    assert "no console password" in results[user_arn("keys-only")].summary


def test_user_checks_skip_users_the_report_does_not_know_yet() -> None:
    # Created after the (up to four hours old) report: no row, so no verdict from the report.
    payload = data(rows=[row("old")], users=[user("old"), user("brand-new")])
    assert set(verdicts("iam_user_console_mfa_enabled", payload)) == {user_arn("old")}
    # A row of a user deleted since the report is not judged either (no such resource).
    payload = data(rows=[row("old"), row("deleted")], users=[user("old")])
    assert set(verdicts("iam_user_one_active_access_key", payload)) == {user_arn("old")}


# --------------------------------------------------------------------------- 1.12


def test_unused_password_fails_at_45_days() -> None:
    payload = data(
        rows=[
            row("recent", password_enabled="true", password_last_used=ago(44, 86399)),
            row("boundary", password_enabled="true", password_last_used=ago(45)),
            row("stale", password_enabled="true", password_last_used=ago(200)),
        ]
    )
    assert verdicts("iam_user_unused_credentials_45_days", payload) == {
        user_arn("recent"): "pass",
        user_arn("boundary"): "fail",
        user_arn("stale"): "fail",
    }


def test_never_used_password_counts_from_when_it_was_set() -> None:
    payload = data(
        rows=[
            row(
                "new-password",
                password_enabled="true",
                password_last_used="no_information",
                password_last_changed=ago(3),
            ),
            row(
                "forgotten",
                password_enabled="true",
                password_last_used="no_information",
                password_last_changed=ago(60),
            ),
            # No date at all for the password: fall back to the user's creation.
            row(
                "no-dates",
                password_enabled="true",
                password_last_used="no_information",
                password_last_changed="N/A",
                user_creation_time=ago(50),
            ),
        ]
    )
    results = {r.resource_arn: r for r in run("iam_user_unused_credentials_45_days", payload)}
    assert results[user_arn("new-password")].status == "pass"
    assert results[user_arn("new-password")].summary == (
        "None of user new-password's enabled credentials has gone unused for 45 days: "
        "console password never used since it was set on 2024-05-29 (3 days ago)."
    )
    assert results[user_arn("forgotten")].status == "fail"
    assert (
        "console password never used since it was set on" in results[user_arn("forgotten")].summary
    )
    assert results[user_arn("no-dates")].status == "fail"
    assert "since the user was created on" in results[user_arn("no-dates")].summary


def test_unused_access_keys() -> None:
    payload = data(
        rows=[
            row(
                "used-key",
                access_key_1_active="true",
                access_key_1_last_rotated=ago(300),
                access_key_1_last_used_date=ago(1),
            ),
            row(
                "idle-key",
                access_key_1_active="true",
                access_key_1_last_rotated=ago(300),
                access_key_1_last_used_date=ago(46),
            ),
            # Never used: counted from its creation.
            row("fresh-unused-key", access_key_2_active="true", access_key_2_last_rotated=ago(10)),
            row("old-unused-key", access_key_2_active="true", access_key_2_last_rotated=ago(45)),
            # An inactive key is disabled already, however old.
            row(
                "inactive-key",
                access_key_1_active="false",
                access_key_1_last_rotated=ago(900),
                access_key_1_last_used_date=ago(800),
            ),
            row("nothing"),
        ]
    )
    results = {r.resource_arn: r for r in run("iam_user_unused_credentials_45_days", payload)}
    assert {arn: r.status for arn, r in results.items()} == {
        user_arn("used-key"): "pass",
        user_arn("idle-key"): "fail",
        user_arn("fresh-unused-key"): "pass",
        user_arn("old-unused-key"): "fail",
        user_arn("inactive-key"): "pass",
        user_arn("nothing"): "pass",
    }
    assert "access key 1 last used on" in results[user_arn("idle-key")].summary
    assert (
        "access key 2 never used since its creation on"
        in results[user_arn("old-unused-key")].summary
    )
    assert results[user_arn("nothing")].summary == (
        "User nothing has no console password and no active access key."
    )


def test_unused_credentials_lists_every_stale_credential() -> None:
    payload = data(
        rows=[
            row(
                "both",
                password_enabled="true",
                password_last_used=ago(90),
                access_key_1_active="true",
                access_key_1_last_rotated=ago(120),
                access_key_1_last_used_date=ago(60),
            )
        ]
    )
    result = only("iam_user_unused_credentials_45_days", payload)
    assert result.status == "fail"
    assert "console password last used on 2024-03-03 (90 days ago)" in result.summary
    assert "access key 1 last used on 2024-04-02 (60 days ago)" in result.summary
    assert [c["credential"] for c in result.details["credentials"]] == [
        "console password",
        "access key 1",
    ]


def test_root_is_not_judged_by_unused_credentials() -> None:
    payload = data(rows=[root_row(password_last_used=ago(400))])
    assert run("iam_user_unused_credentials_45_days", payload) == []


# --------------------------------------------------------------------------- 1.13


def test_one_active_access_key() -> None:
    payload = data(
        rows=[
            row("none"),
            row("one", access_key_1_active="true", access_key_1_last_rotated=ago(1)),
            row(
                "two",
                access_key_1_active="true",
                access_key_1_last_rotated=ago(1),
                access_key_2_active="true",
                access_key_2_last_rotated=ago(1),
            ),
            row(
                "one-of-two",
                access_key_1_active="false",
                access_key_1_last_rotated=ago(1),
                access_key_2_active="true",
                access_key_2_last_rotated=ago(1),
            ),
        ]
    )
    results = {r.resource_arn: r for r in run("iam_user_one_active_access_key", payload)}
    assert {arn: r.status for arn, r in results.items()} == {
        user_arn("none"): "pass",
        user_arn("one"): "pass",
        user_arn("two"): "fail",
        user_arn("one-of-two"): "pass",
    }
    assert results[user_arn("two")].summary == "User two has 2 active access keys."


# --------------------------------------------------------------------------- 1.14


def test_access_key_rotation_boundary_is_90_days() -> None:
    payload = data(
        rows=[
            row("exactly-90", access_key_1_active="true", access_key_1_last_rotated=ago(90)),
            row("over-90", access_key_1_active="true", access_key_1_last_rotated=ago(90, 1)),
            row("young", access_key_2_active="true", access_key_2_last_rotated=ago(5)),
            # Inactive old keys are not in use, so not judged for rotation.
            row("inactive-old", access_key_1_active="false", access_key_1_last_rotated=ago(500)),
            row("no-keys"),
        ]
    )
    results = {r.resource_arn: r for r in run("iam_user_access_keys_rotated_90_days", payload)}
    assert {arn: r.status for arn, r in results.items()} == {
        user_arn("exactly-90"): "pass",
        user_arn("over-90"): "fail",
        user_arn("young"): "pass",
        user_arn("inactive-old"): "pass",
        user_arn("no-keys"): "pass",
    }
    assert results[user_arn("over-90")].summary == (
        "User over-90 has active access keys older than 90 days: "
        "access key 1 created on 2024-03-03, 90 days ago."
    )
    assert results[user_arn("no-keys")].summary == "User no-keys has no active access key."


def test_rotation_judges_each_active_key() -> None:
    payload = data(
        rows=[
            row(
                "mixed",
                access_key_1_active="true",
                access_key_1_last_rotated=ago(10),
                access_key_2_active="true",
                access_key_2_last_rotated=ago(100),
            )
        ]
    )
    result = only("iam_user_access_keys_rotated_90_days", payload)
    assert result.status == "fail"
    assert [k["age_days"] for k in result.details["active_access_keys"]] == [10, 100]


# --------------------------------------------------------------------------- 1.15


def test_permissions_only_through_groups() -> None:
    payload = data(
        users=[
            user("grouped", GroupList=["devs"]),
            user(
                "attached",
                AttachedManagedPolicies=[
                    {
                        "PolicyName": "ReadOnlyAccess",
                        "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
                    }
                ],
            ),
            user(
                "inline",
                UserPolicyList=[{"PolicyName": "s3-read", "PolicyDocument": {"Statement": []}}],
            ),
        ]
    )
    results = {r.resource_arn: r for r in run("iam_user_no_direct_policies", payload)}
    assert results[user_arn("grouped")].status == "pass"
    assert results[user_arn("attached")].status == "fail"
    assert results[user_arn("attached")].summary == (
        "User attached has policies of its own: attached ReadOnlyAccess."
    )
    assert results[user_arn("inline")].status == "fail"
    assert results[user_arn("inline")].details["inline_policies"] == ["s3-read"]


# --------------------------------------------------------------------------- 1.16


@pytest.mark.parametrize(
    ("statement", "admin"),
    [
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, True),
        ({"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}, True),
        ({"Effect": "Allow", "Action": ["s3:GetObject", "*"], "Resource": "*"}, True),
        ({"Effect": "Allow", "Action": "*:*", "Resource": "*"}, True),
        ({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, False),
        ({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::bucket/*"}, False),
        ({"Effect": "Deny", "Action": "*", "Resource": "*"}, False),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, False),
    ],
)
def test_full_admin_statement_shapes(statement: dict[str, Any], admin: bool) -> None:
    as_list = {"Version": "2012-10-17", "Statement": [statement]}
    as_dict = {"Version": "2012-10-17", "Statement": statement}
    assert bool(full_admin_statements(as_list)) is admin
    assert bool(full_admin_statements(as_dict)) is admin


def test_full_admin_statements_of_odd_documents() -> None:
    assert full_admin_statements(None) == []
    assert full_admin_statements({"Version": "2012-10-17"}) == []


def policy(name: str, document: Any, count: int, account: str = "123456789012") -> dict[str, Any]:
    return {
        "Arn": f"arn:aws:iam::{account}:policy/{name}",
        "PolicyName": name,
        "Path": "/",
        "AttachmentCount": count,
        "DefaultVersionId": "v2",
        "Document": document,
    }


def test_customer_policy_full_admin() -> None:
    s3_doc = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    payload = data(
        customer_policies=[
            policy("admin", ADMIN_DOC, 1),
            policy("admin-unused", ADMIN_DOC, 0),
            policy("s3", s3_doc, 3),
        ],
        users=[
            user(
                "alice",
                AttachedManagedPolicies=[
                    {"PolicyName": "admin", "PolicyArn": "arn:aws:iam::123456789012:policy/admin"}
                ],
            )
        ],
    )
    results = {
        r.resource_arn: r for r in run("iam_customer_policy_no_full_admin_attached", payload)
    }
    admin = results["arn:aws:iam::123456789012:policy/admin"]
    assert admin.status == "fail"
    assert admin.summary == (
        'Customer managed policy admin allows Action "*" on Resource "*" in its default version '
        "v2 and is attached to 1 entity (user alice)."
    )
    assert admin.details["statements"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    assert results["arn:aws:iam::123456789012:policy/admin-unused"].status == "pass"
    assert "not attached" in results["arn:aws:iam::123456789012:policy/admin-unused"].summary
    assert results["arn:aws:iam::123456789012:policy/s3"].status == "pass"


def test_aws_managed_policy_full_admin() -> None:
    payload = data(
        aws_managed_policies=[
            policy("AdministratorAccess", ADMIN_DOC, 2, account="aws"),
            policy(
                "ReadOnlyAccess",
                {"Statement": [{"Effect": "Allow", "Action": ["s3:Get*"], "Resource": "*"}]},
                1,
                account="aws",
            ),
        ]
    )
    assert verdicts("iam_aws_policy_no_full_admin_attached", payload) == {
        "arn:aws:iam::aws:policy/AdministratorAccess": "fail",
        "arn:aws:iam::aws:policy/ReadOnlyAccess": "pass",
    }
    # The customer check does not look at AWS managed policies, and vice versa.
    assert run("iam_customer_policy_no_full_admin_attached", payload) == []


# --------------------------------------------------------------------------- 1.17


def test_support_role() -> None:
    missing = only("iam_support_role_exists", data())
    assert (missing.resource_arn, missing.status) == (ACCOUNT_ARN, "fail")
    assert missing.summary == "AWSSupportAccess is not attached to any role."

    support = data()["support_access"] | {"roles": ["support"], "users": ["bob"]}
    found = only("iam_support_role_exists", data(support_access=support))
    assert found.status == "pass"
    assert found.summary == "AWSSupportAccess is attached to 1 role: support."


def test_support_policy_on_a_user_only_is_not_a_support_role() -> None:
    support = data()["support_access"] | {"users": ["bob"], "groups": ["ops"]}
    assert only("iam_support_role_exists", data(support_access=support)).status == "fail"


# --------------------------------------------------------------------------- 1.19


def certificate(name: str, expiration: str) -> dict[str, Any]:
    return {
        "ServerCertificateName": name,
        "ServerCertificateId": "ASCA" + name.upper(),
        "Arn": f"arn:aws:iam::123456789012:server-certificate/{name}",
        "Path": "/",
        "UploadDate": "2023-01-01T00:00:00+00:00",
        "Expiration": expiration,
    }


def test_server_certificates() -> None:
    payload = data(
        server_certificates=[
            certificate("expired", "2024-05-31T23:59:59+00:00"),
            certificate("expires-now", NOW.isoformat()),
            certificate("valid", "2025-06-01T00:00:00+00:00"),
        ]
    )
    results = {
        r.resource_arn.rsplit("/", 1)[1]: r
        for r in run("iam_server_certificate_not_expired", payload)
    }
    assert {name: r.status for name, r in results.items()} == {
        "expired": "fail",
        "expires-now": "fail",
        "valid": "pass",
    }
    assert results["expired"].summary == (
        "Server certificate expired expired on 2024-05-31 and is still stored."
    )
    assert results["valid"].summary == "Server certificate valid is valid until 2025-06-01."


def test_no_server_certificate_no_result() -> None:
    assert run("iam_server_certificate_not_expired", data()) == []


def test_time_checks_need_the_collection_time() -> None:
    payload = data(rows=[row("a")])
    del payload["collected_at"]
    with pytest.raises(KeyError):
        run("iam_user_access_keys_rotated_90_days", payload)


# --------------------------------------------------------------------------- evidence


def test_root_access_key_evidence() -> None:
    payload = data(
        account_summary={"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0},
        rows=[root_row(access_key_2_active="true", access_key_2_last_rotated=ago(10))],
    )
    result = only("iam_root_no_access_key", payload)
    assert result.status == "fail"
    assert result.details == {
        "AccountAccessKeysPresent": 0,
        "credential_report": {"access_key_1_active": "false", "access_key_2_active": "true"},
    }


def test_password_policy_evidence() -> None:
    policy = {"MinimumPasswordLength": 12, "PasswordReusePrevention": 5}
    length = only("iam_password_policy_min_length_14", data(password_policy=policy))
    assert length.details == {"MinimumPasswordLength": 12}
    assert length.summary == (
        "The password policy requires only 12 characters; at least 14 are required."
    )
    reuse = only("iam_password_policy_reuse_24", data(password_policy=policy))
    assert reuse.details == {"PasswordReusePrevention": 5}
    assert reuse.summary == (
        "The password policy prevents reuse of only the last 5 passwords; 24 are required."
    )
    for check_id in ("iam_password_policy_min_length_14", "iam_password_policy_reuse_24"):
        assert only(check_id, data()).details == {"password_policy": None}


def test_console_mfa_evidence() -> None:
    payload = data(rows=[row("carol", password_enabled="true", mfa_active="false")])
    result = only("iam_user_console_mfa_enabled", payload)
    assert result.status == "fail"
    assert result.details == {"password_enabled": "true", "mfa_active": "false"}


def test_unused_credentials_evidence() -> None:
    payload = data(
        rows=[
            row(
                "dave",
                password_enabled="true",
                password_last_used=ago(50),
                password_last_changed=ago(200),
                access_key_1_active="true",
                access_key_1_last_rotated=ago(30),
                access_key_1_last_used_date=ago(1),
            )
        ]
    )
    result = only("iam_user_unused_credentials_45_days", payload)
    assert result.status == "fail"
    assert result.details == {
        "collected_at": NOW.isoformat(),
        "credentials": [
            {
                "credential": "console password",
                "idle_days": 50,
                "password_last_used": ago(50),
                "password_last_changed": ago(200),
                "user_creation_time": ago(400),
            },
            {
                "credential": "access key 1",
                "idle_days": 1,
                "access_key_1_last_used_date": ago(1),
                "access_key_1_last_rotated": ago(30),
            },
        ],
    }
    assert result.summary == (
        "User dave has credentials unused for 45 days or more that are still enabled: "
        "console password last used on 2024-04-12 (50 days ago)."
    )


def test_access_key_evidence() -> None:
    payload = data(
        rows=[
            row(
                "erin",
                access_key_1_active="true",
                access_key_1_last_rotated=ago(100),
                access_key_2_active="true",
                access_key_2_last_rotated=ago(5),
            )
        ]
    )
    count = only("iam_user_one_active_access_key", payload)
    assert count.status == "fail"
    assert count.summary == "User erin has 2 active access keys."
    assert count.details == {"access_key_1_active": "true", "access_key_2_active": "true"}
    rotation = only("iam_user_access_keys_rotated_90_days", payload)
    assert rotation.status == "fail"
    assert rotation.details == {
        "collected_at": NOW.isoformat(),
        "active_access_keys": [
            {"key": 1, "last_rotated": ago(100), "age_days": 100},
            {"key": 2, "last_rotated": ago(5), "age_days": 5},
        ],
    }
    assert rotation.summary == (
        "User erin has active access keys older than 90 days: "
        "access key 1 created on 2024-02-22, 100 days ago."
    )


def test_direct_policies_evidence() -> None:
    payload = data(
        users=[
            user(
                "frank",
                AttachedManagedPolicies=[
                    {
                        "PolicyName": "ReadOnlyAccess",
                        "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
                    }
                ],
                UserPolicyList=[{"PolicyName": "s3-uploads", "PolicyDocument": {}}],
                GroupList=["developers"],
            )
        ]
    )
    result = only("iam_user_no_direct_policies", payload)
    assert result.status == "fail"
    assert result.summary == (
        "User frank has policies of its own: attached ReadOnlyAccess; inline s3-uploads."
    )
    assert result.details == {
        "attached_policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        "inline_policies": ["s3-uploads"],
        "groups": ["developers"],
    }


def test_full_admin_evidence_names_every_attachment() -> None:
    arn = "arn:aws:iam::123456789012:policy/admin"
    attached = [{"PolicyName": "admin", "PolicyArn": arn}]
    payload = data(
        customer_policies=[policy("admin", ADMIN_DOC, 3)],
        users=[user("alice", AttachedManagedPolicies=attached)],
        groups=[{"GroupName": "ops", "AttachedManagedPolicies": attached}],
        roles=[{"RoleName": "deployer", "AttachedManagedPolicies": attached}],
    )
    result = only("iam_customer_policy_no_full_admin_attached", payload)
    assert result.status == "fail"
    assert result.summary.endswith(
        "is attached to 3 entities (user alice, group ops, role deployer)."
    )
    assert result.details == {
        "default_version_id": "v2",
        "attachment_count": 3,
        "attached_to": ["user alice", "group ops", "role deployer"],
        "statements": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }


def test_support_role_evidence() -> None:
    support = data()["support_access"] | {"roles": ["support", "tam"], "groups": ["ops"]}
    result = only("iam_support_role_exists", data(support_access=support))
    assert result.summary == "AWSSupportAccess is attached to 2 roles: support, tam."
    assert result.details == {
        "policy_arn": "arn:aws:iam::aws:policy/AWSSupportAccess",
        "roles": ["support", "tam"],
        "users": [],
        "groups": ["ops"],
    }


def test_server_certificate_evidence() -> None:
    payload = data(server_certificates=[certificate("old", "2024-05-31T23:59:59+00:00")])
    result = only("iam_server_certificate_not_expired", payload)
    assert result.details == {
        "expiration": "2024-05-31T23:59:59+00:00",
        "collected_at": NOW.isoformat(),
        "upload_date": "2023-01-01T00:00:00+00:00",
    }


def test_root_access_key_unknown_from_both_sources_fails() -> None:
    payload = data(account_summary={"AccountMFAEnabled": 1})
    result = only("iam_root_no_access_key", payload)
    assert (result.resource_arn, result.status) == (ACCOUNT_ARN, "fail")
    assert "Neither the account summary" in result.summary
    assert result.details == {"AccountAccessKeysPresent": None}


def test_root_access_key_read_from_the_report_when_the_summary_does_not_say() -> None:
    clean = data(account_summary={"AccountMFAEnabled": 1}, rows=[root_row()])
    assert only("iam_root_no_access_key", clean).status == "pass"
    keyed = data(
        account_summary={"AccountMFAEnabled": 1},
        rows=[root_row(access_key_1_active="true", access_key_1_last_rotated=ago(3))],
    )
    result = only("iam_root_no_access_key", keyed)
    assert result.status == "fail"
    assert result.summary == "The credential report shows root access key 1 active."
