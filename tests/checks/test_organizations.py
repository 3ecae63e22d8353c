"""Pure tests of the organisation-level checks: delegated administrators and centralized root
access (global ``organizations`` collector data, on the account pseudo-resource)."""

from __future__ import annotations

from typing import Any

import pytest

from findings.checks import REGISTRY
from findings.checks.base import GLOBAL, Result, Unit
from tests.checks.evidence import checked

ACCOUNT = "123456789012"
UNIT = Unit(ACCOUNT, GLOBAL)
ACCOUNT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
DELEGATED = "organizations_delegated_administrators"
ROOT = "iam_root_credentials_management_enabled"
ORG = {"Id": "o-abc123", "FeatureSet": "ALL", "MasterAccountId": ACCOUNT}


def data(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "account_id": ACCOUNT,
        "organization": ORG,
        "is_management_account": True,
        "delegated_administrators": [],
        "organization_features": {"OrganizationId": "o-abc123", "EnabledFeatures": []},
        "organization_features_error": None,
    }
    base.update(fields)
    return base


NOT_IN_ORG = data(
    organization=None,
    is_management_account=False,
    delegated_administrators=None,
    organization_features=None,
)


def run(check_id: str, collected: dict[str, Any]) -> list[Result]:
    return checked(REGISTRY[check_id].run(collected, UNIT))


def one(check_id: str, collected: dict[str, Any]) -> Result:
    (result,) = run(check_id, collected)
    assert result.resource_arn == ACCOUNT_ARN
    return result


def admin(account: str, name: str, *services: str, status: str = "ACTIVE") -> dict[str, Any]:
    return {"Id": account, "Name": name, "Status": status, "services": list(services)}


def test_registered_without_a_control_yet() -> None:
    for check_id in (DELEGATED, ROOT):
        spec = REGISTRY[check_id]
        assert (spec.controls, spec.service, spec.resource_type) == (
            (),
            "organizations",
            "AWS::::Account",
        )


# --------------------------------------------------------------------------- delegated admins


def test_a_delegated_administrator_passes_and_names_its_services() -> None:
    result = one(
        DELEGATED,
        data(
            delegated_administrators=[
                admin(
                    "210987654321",
                    "security",
                    "guardduty.amazonaws.com",
                    "securityhub.amazonaws.com",
                )
            ]
        ),
    )
    assert result.status == "pass"
    assert result.summary == (
        "Organization o-abc123 has delegated administrators: 210987654321 (security) for "
        "guardduty.amazonaws.com, securityhub.amazonaws.com."
    )


def test_no_delegated_administrator_fails() -> None:
    result = one(DELEGATED, data())
    assert result.status == "fail"
    assert result.summary == (
        "Organization o-abc123 has no delegated administrator: every integrated service is "
        "administered from the management account."
    )
    assert result.details["delegated_administrators"] == []


def test_only_suspended_delegated_administrators_fail() -> None:
    result = one(
        DELEGATED,
        data(
            delegated_administrators=[
                admin("210987654321", "old", "config.amazonaws.com", status="SUSPENDED")
            ]
        ),
    )
    assert result.status == "fail"
    assert "no active delegated administrator" in result.summary
    assert "210987654321 SUSPENDED" in result.summary


def test_not_in_an_organization_fails_both() -> None:
    delegated = one(DELEGATED, NOT_IN_ORG)
    root = one(ROOT, NOT_IN_ORG)
    assert (delegated.status, root.status) == ("fail", "fail")
    assert delegated.summary.startswith("The account is not in an AWS Organization")
    assert root.summary == (
        "The account is not in an AWS Organization, so its root credentials cannot be managed "
        "centrally."
    )


def test_a_member_account_gets_no_delegated_admin_verdict() -> None:
    member = data(
        organization={**ORG, "MasterAccountId": "999999999999"},
        is_management_account=False,
        delegated_administrators=None,
    )
    assert run(DELEGATED, member) == []


def test_nothing_collected_no_verdict() -> None:
    assert run(DELEGATED, {}) == []
    assert run(ROOT, {}) == []


# --------------------------------------------------------------------------- root access


def test_both_root_features_pass() -> None:
    result = one(
        ROOT,
        data(
            organization_features={
                "OrganizationId": "o-abc123",
                "EnabledFeatures": ["RootCredentialsManagement", "RootSessions"],
            }
        ),
    )
    assert result.status == "pass"
    assert result.summary == (
        "Organization o-abc123 manages root access centrally: RootCredentialsManagement and "
        "RootSessions are enabled."
    )


def test_one_root_feature_is_not_enough() -> None:
    result = one(
        ROOT,
        data(
            organization_features={
                "OrganizationId": "o-abc123",
                "EnabledFeatures": ["RootCredentialsManagement"],
            }
        ),
    )
    assert result.status == "fail"
    assert result.summary == (
        "Organization o-abc123 has RootCredentialsManagement enabled but not RootSessions."
    )
    assert result.details["missing"] == ["RootSessions"]


def test_no_root_feature_fails() -> None:
    result = one(ROOT, data())
    assert result.status == "fail"
    assert result.summary == "Organization o-abc123 has centralized root access disabled."


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("ServiceAccessNotEnabledException", "trusted access for IAM is not enabled"),
        ("OrganizationNotInAllFeaturesModeException", "consolidated billing only"),
        ("SomethingNew", "IAM answered SomethingNew"),
    ],
)
def test_configuration_errors_fail_with_their_reason(code: str, words: str) -> None:
    result = one(ROOT, data(organization_features=None, organization_features_error=code))
    assert result.status == "fail"
    assert result.summary.startswith("Organization o-abc123: ")
    assert words in result.summary
    assert result.details["error"] == code


def test_a_member_account_iam_does_not_answer_gets_no_root_verdict() -> None:
    member = data(
        is_management_account=False,
        delegated_administrators=None,
        organization_features=None,
        organization_features_error="AccountNotManagementOrDelegatedAdministratorException",
    )
    assert run(ROOT, member) == []
