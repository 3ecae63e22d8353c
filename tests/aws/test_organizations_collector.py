"""The ``organizations`` collector (global unit) against the simulated account.

moto 5.2.5 implements the Organizations calls (DescribeOrganization, ListDelegatedAdministrators,
ListDelegatedServicesForAccount); it answers IAM's ListOrganizationsFeatures and the root access
Enable calls with HTTP 500, so the simulated account's front door (``simulation.front``)
answers those in IAM's shapes, asking moto whether the organisation exists. The front does not
model AWS's refusal of ListOrganizationsFeatures to a member account
(AccountNotManagementOrDelegatedAdministratorException); the check's handling of that answer is
covered by the pure tests.
"""

from __future__ import annotations

from simulation.account import client
from tests.aws.collecting import ACCOUNT, collect

ACCOUNT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
DELEGATED = "organizations_delegated_administrators"
ROOT = "iam_root_credentials_management_enabled"


def test_account_in_no_organization_fails_both(aws: str) -> None:
    run = collect(aws, "organizations")

    assert run.statuses(DELEGATED) == {ACCOUNT_ARN: "fail"}
    assert run.statuses(ROOT) == {ACCOUNT_ARN: "fail"}
    assert "not in an AWS Organization" in run.results[(ROOT, ACCOUNT_ARN)].summary
    [account] = run.collected.resources
    assert account.resource_type == "AWS::::Account"
    assert account.configuration["organization"]["organization"] is None
    assert run.ctx.api_calls == 1  # DescribeOrganization alone


def test_management_account_before_and_after_delegating(aws: str) -> None:
    organizations = client(aws, "organizations")
    org_id = organizations.create_organization(FeatureSet="ALL")["Organization"]["Id"]

    run = collect(aws, "organizations")
    assert run.statuses(DELEGATED) == {ACCOUNT_ARN: "fail"}
    assert run.results[(DELEGATED, ACCOUNT_ARN)].summary == (
        f"Organization {org_id} has no delegated administrator: every integrated service is "
        "administered from the management account."
    )
    assert run.results[(ROOT, ACCOUNT_ARN)].summary == (
        f"Organization {org_id} has centralized root access disabled."
    )
    # DescribeOrganization, ListDelegatedAdministrators, ListOrganizationsFeatures.
    assert run.ctx.api_calls == 3

    security = organizations.create_account(Email="security@example.com", AccountName="security")
    security_id = security["CreateAccountStatus"]["AccountId"]
    for principal in ("guardduty.amazonaws.com", "access-analyzer.amazonaws.com"):
        organizations.register_delegated_administrator(
            AccountId=security_id, ServicePrincipal=principal
        )
    iam = client(aws, "iam")
    iam.enable_organizations_root_credentials_management()

    run = collect(aws, "organizations")
    assert run.statuses(DELEGATED) == {ACCOUNT_ARN: "pass"}
    assert run.results[(DELEGATED, ACCOUNT_ARN)].summary == (
        f"Organization {org_id} has delegated administrators: {security_id} (security) for "
        "access-analyzer.amazonaws.com, guardduty.amazonaws.com."
    )
    assert run.statuses(ROOT) == {ACCOUNT_ARN: "fail"}  # root sessions still off
    assert run.results[(ROOT, ACCOUNT_ARN)].details["missing"] == ["RootSessions"]
    assert run.ctx.api_calls == 4  # plus ListDelegatedServicesForAccount for the one admin

    iam.enable_organizations_root_sessions()
    run = collect(aws, "organizations")
    assert run.statuses(ROOT) == {ACCOUNT_ARN: "pass"}


def test_member_account_lists_no_delegated_administrators(aws: str) -> None:
    client(aws, "organizations").create_organization(FeatureSet="ALL")
    member = "210987654321"

    # The unit is another account of the organisation than its management account.
    run = collect(aws, "organizations", account=member)

    assert run.statuses(DELEGATED) == {}  # judged in the management account's scan
    assert run.collected.data["is_management_account"] is False
    assert run.collected.data["delegated_administrators"] is None
    assert run.ctx.api_calls == 2  # DescribeOrganization, ListOrganizationsFeatures
