"""The database itself refuses bad rows, whatever code path wrote them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from acceptances.models import RiskAcceptance, Zone
from findings.models import CloudAccount, Finding

pytestmark = pytest.mark.django_db


def _integrity_error(fn) -> str:
    with pytest.raises(IntegrityError) as info, transaction.atomic():
        fn()
    return str(info.value).lower()


def _unique_refused(fn, name: str, columns: str) -> None:
    """PostgreSQL names the violated index; SQLite names its columns instead."""
    message = _integrity_error(fn)
    assert name in message or f"unique constraint failed: {columns}" in message, message


@pytest.mark.parametrize("bad", ["12345678901", "1234567890123", "12345678901a", ""])
def test_it_refuses_an_account_id_that_is_not_12_digits(bad):
    # PostgreSQL refuses a 13-character value by the column's length before the check runs.
    with pytest.raises((IntegrityError, DataError)) as refused, transaction.atomic():
        CloudAccount.objects.create(account_id=bad, name="x")
    message = str(refused.value).lower()
    assert "cloudaccount_account_id_12_digits" in message or "too long" in message
    with pytest.raises(ValidationError) as info:
        CloudAccount(account_id=bad, name="x").full_clean()
    errors = info.value.message_dict["account_id"]
    assert "An AWS account id is exactly 12 digits." in errors or errors == [
        "This field cannot be blank."
    ]


def test_it_accepts_a_12_digit_account_id():
    CloudAccount(account_id="012345678901", name="ok").full_clean()
    CloudAccount.objects.create(account_id="012345678901", name="ok")


def test_it_refuses_a_malformed_role_arn_and_an_external_id_without_role():
    message = _integrity_error(
        lambda: CloudAccount.objects.create(account_id="123456789012", name="x", role_arn="admin")
    )
    assert "cloudaccount_role_arn_format" in message
    message = _integrity_error(
        lambda: CloudAccount.objects.create(account_id="123456789012", name="x", external_id="e")
    )
    assert "cloudaccount_external_id_needs_role" in message


def test_it_refuses_regions_that_are_not_regions():
    account = CloudAccount(account_id="123456789012", name="x", regions=["eu-west-1", "mars-1"])
    with pytest.raises(ValidationError, match="mars-1"):
        account.full_clean()


def test_it_keeps_one_finding_per_check_and_resource(make_account, make_finding):
    finding = make_finding(account=make_account())
    now = timezone.now()
    message = _integrity_error(
        lambda: Finding.objects.create(
            control_check=finding.control_check,
            resource=finding.resource,
            account=finding.account,
            region=finding.region,
            status="pass",
            first_seen=now,
            status_changed_at=now,
        )
    )
    assert "finding_unique_check_resource" in message or "unique" in message


def test_it_refuses_a_passing_finding_linked_to_an_acceptance(
    make_account, make_finding, catalog, admin_user
):
    finding = make_finding(account=make_account(), status="pass")
    acceptance = RiskAcceptance.objects.create(
        control=catalog.controls.get(ref="2.1.2"),
        resource=finding.resource,
        reason="risk_owned",
        justification="j",
        owner=admin_user,
        created_by=admin_user,
    )
    finding.acceptance = acceptance
    message = _integrity_error(lambda: finding.save())
    assert "finding_only_open_failures_accepted" in message


def _acceptance(catalog, user, **scope) -> RiskAcceptance:
    return RiskAcceptance.objects.create(
        control=catalog.controls.get(ref="2.1.2"),
        reason="risk_owned",
        justification="MFA Delete needs the root user; versioning covers accidental deletes.",
        owner=user,
        created_by=user,
        **scope,
    )


def test_an_acceptance_is_scoped_to_exactly_one_resource_or_zone(
    make_account, make_finding, catalog, admin_user
):
    resource = make_finding(account=make_account()).resource
    zone = Zone.objects.create(name="web")
    assert "acceptance_one_scope" in _integrity_error(lambda: _acceptance(catalog, admin_user))
    assert "acceptance_one_scope" in _integrity_error(
        lambda: _acceptance(catalog, admin_user, resource=resource, zone=zone)
    )
    with pytest.raises(ValidationError, match="either one resource or one zone"):
        RiskAcceptance(
            control=catalog.controls.get(ref="2.1.2"),
            reason="risk_owned",
            justification="j",
            owner=admin_user,
            created_by=admin_user,
        ).full_clean()


def test_no_two_live_acceptances_of_a_control_on_the_same_scope(
    make_account, make_finding, catalog, admin_user
):
    resource = make_finding(account=make_account()).resource
    zone = Zone.objects.create(name="web")
    first = _acceptance(catalog, admin_user, resource=resource)
    _acceptance(catalog, admin_user, zone=zone)
    _unique_refused(
        lambda: _acceptance(catalog, admin_user, resource=resource),
        "acceptance_one_live_per_resource",
        "acceptances_riskacceptance.control_id, acceptances_riskacceptance.resource_id",
    )
    _unique_refused(
        lambda: _acceptance(catalog, admin_user, zone=zone),
        "acceptance_one_live_per_zone",
        "acceptances_riskacceptance.control_id, acceptances_riskacceptance.zone_id",
    )
    # Once the first one is revoked, the scope is free again.
    RiskAcceptance.objects.filter(pk=first.pk).update(state="revoked", revoked_at=timezone.now())
    _acceptance(catalog, admin_user, resource=resource)


def test_an_acceptance_needs_a_justification_and_custom_reasons_an_explanation(
    make_account, make_finding, catalog, admin_user
):
    resource = make_finding(account=make_account()).resource
    message = _integrity_error(
        lambda: RiskAcceptance.objects.create(
            control=catalog.controls.get(ref="2.1.2"),
            resource=resource,
            reason="risk_owned",
            justification="",
            owner=admin_user,
            created_by=admin_user,
        )
    )
    assert "acceptance_justified" in message
    message = _integrity_error(
        lambda: RiskAcceptance.objects.create(
            control=catalog.controls.get(ref="2.1.2"),
            resource=resource,
            reason="custom",
            justification="j",
            owner=admin_user,
            created_by=admin_user,
        )
    )
    assert "acceptance_custom_reason_explained" in message


def test_only_one_builtin_zone_exists():
    assert Zone.objects.filter(is_builtin=True).count() == 1
    _unique_refused(
        lambda: Zone.objects.create(name="Another everything", is_builtin=True),
        "zone_single_builtin",
        "acceptances_zone.is_builtin",
    )


def test_history_is_append_only(make_account, make_finding, catalog, admin_user):
    from acceptances import services

    resource = make_finding(account=make_account()).resource
    acceptance = services.accept_risk(
        actor=admin_user,
        control=catalog.controls.get(ref="2.1.2"),
        resource=resource,
        owner=admin_user,
        reason="risk_owned",
        justification="root-only MFA delete",
    )
    event = acceptance.events.get(action="created")
    event.note = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
