"""Organisation-level checks of the later CIS versions (no control maps them yet), on the
``organizations`` collector's data (global unit, the ``AWS::::Account`` pseudo-resource).

* ``organizations_delegated_administrators``: CIS v7 asks that services integrated with AWS
  Organizations be administered from delegated administrator member accounts rather than from
  the management account. Judged in the management account: it passes when at least one
  active member account is registered as a delegated administrator (the evidence lists which
  services each one administers, so a reader can see whether they are the security, logging
  or governance accounts the benchmark means, which no API can tell). None at all means every
  integrated service is run from the management account: fail.
* ``iam_root_credentials_management_enabled``: centralized root access is on, i.e. IAM lists
  both ``RootCredentialsManagement`` (the organisation can delete and keep deleted the member
  accounts' root credentials) and ``RootSessions`` (root-only tasks are done through short,
  scoped sessions instead of root sign-in).

An account in no organisation fails both: there is no organisation whose management account
could delegate, nor centralize root access, so the control cannot hold. A member account gets
no verdict from either: it cannot read the delegated administrators (only the management
account can), and IAM does not tell it the features unless it is IAM's delegated administrator
(when it is, the features are judged as in the management account). Its organisation is
judged in the management account's own scan, as one finding rather than one per member.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check

ROOT_FEATURES = ("RootCredentialsManagement", "RootSessions")
NOT_TOLD = "AccountNotManagementOrDelegatedAdministratorException"
_FEATURE_ERRORS = {
    "ServiceAccessNotEnabledException": (
        "trusted access for IAM is not enabled in the organization, so centralized root access "
        "is off"
    ),
    "OrganizationNotInAllFeaturesModeException": (
        "the organization uses consolidated billing only (not all features), so centralized "
        "root access cannot be enabled"
    ),
    "OrganizationNotFoundException": "IAM finds no organization for the account",
}


def _not_in_organization(data: Mapping[str, Any]) -> bool:
    return data.get("organization") is None


@check(
    "organizations_delegated_administrators",
    controls=(),
    service="organizations",
    resource_type="AWS::::Account",
    title="Organization services are administered from delegated administrator accounts",
)
def organizations_delegated_administrators(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    if "organization" not in data:
        return
    if _not_in_organization(data):
        yield spec.result(
            unit.account_arn,
            False,
            "The account is not in an AWS Organization, so no member account can administer "
            "its services as a delegated administrator.",
            {"organization": None},
        )
        return
    organization = dict(data["organization"])
    admins = data.get("delegated_administrators")
    if not data.get("is_management_account") or admins is None:
        return  # a member account: judged in the management account's scan
    active = [a for a in admins if str(a.get("Status", "ACTIVE")) == "ACTIVE"]
    details = {"organization_id": organization.get("Id"), "delegated_administrators": admins}
    org_id = organization.get("Id")
    if active:
        described = "; ".join(
            f"{a.get('Id')}"
            + (f" ({a['Name']})" if a.get("Name") else "")
            + f" for {', '.join(a.get('services') or []) or 'no service'}"
            for a in active
        )
        summary = f"Organization {org_id} has delegated administrators: {described}."
    elif admins:
        summary = (
            f"Organization {org_id} has no active delegated administrator (registered accounts "
            f"are {', '.join(str(a.get('Id')) + ' ' + str(a.get('Status')) for a in admins)})."
        )
    else:
        summary = (
            f"Organization {org_id} has no delegated administrator: every integrated service "
            "is administered from the management account."
        )
    yield spec.result(unit.account_arn, bool(active), summary, details)


@check(
    "iam_root_credentials_management_enabled",
    controls=(),
    service="organizations",
    resource_type="AWS::::Account",
    title="Centralized root access (root credentials management and root sessions) is enabled",
)
def iam_root_credentials_management_enabled(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    if "organization" not in data:
        return
    if _not_in_organization(data):
        yield spec.result(
            unit.account_arn,
            False,
            "The account is not in an AWS Organization, so its root credentials cannot be "
            "managed centrally.",
            {"organization": None},
        )
        return
    org_id = dict(data["organization"]).get("Id")
    error = data.get("organization_features_error")
    features = data.get("organization_features")
    if error == NOT_TOLD:
        return  # a member account IAM does not answer: judged in the management account
    if error is not None or features is None:
        reason = _FEATURE_ERRORS.get(str(error), f"IAM answered {error}")
        yield spec.result(
            unit.account_arn,
            False,
            f"Organization {org_id}: {reason}.",
            {"organization_id": org_id, "error": error},
        )
        return
    enabled = list(features.get("EnabledFeatures") or [])
    missing = [f for f in ROOT_FEATURES if f not in enabled]
    if not missing:
        summary = (
            f"Organization {org_id} manages root access centrally: RootCredentialsManagement "
            "and RootSessions are enabled."
        )
    elif len(missing) == len(ROOT_FEATURES):
        summary = f"Organization {org_id} has centralized root access disabled."
    else:
        summary = (
            f"Organization {org_id} has {', '.join(f for f in ROOT_FEATURES if f in enabled)} "
            f"enabled but not {', '.join(missing)}."
        )
    yield spec.result(
        unit.account_arn,
        not missing,
        summary,
        {"organization_id": org_id, "EnabledFeatures": enabled, "missing": missing},
    )
