"""Accepting, approving, revoking, editing and expiring: rules, coverage and history."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from acceptances import services
from acceptances.models import RiskAcceptance, Zone

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def bucket(make_account, make_finding):
    return make_finding(account=make_account(), control_ref="2.1.2", name="story-images")


def _accept(actor, control, **kwargs):
    defaults = {
        "owner": actor,
        "reason": "risk_owned",
        "justification": "MFA Delete needs the root user; versioning covers mistakes.",
    }
    defaults.update(kwargs)
    return services.accept_risk(actor=actor, control=control, **defaults)


def test_it_covers_the_failing_finding_of_its_resource(analyst, catalog, bucket):
    acceptance = _accept(analyst, catalog.controls.get(ref="2.1.2"), resource=bucket.resource)
    bucket.refresh_from_db()
    assert bucket.acceptance == acceptance and bucket.display_status == "accepted"


def test_a_zone_acceptance_covers_every_member_of_the_zone(
    analyst, approver, catalog, make_account, make_finding
):
    account = make_account()
    prod = [make_finding(account=account, tags={"Environment": "prod"}) for _ in range(3)]
    dev = make_finding(account=account, tags={"Environment": "dev"})
    zone = services.save_zone(actor=approver, name="prod", rules={"tags": ["Environment=prod"]})
    acceptance = _accept(analyst, catalog.controls.get(ref="2.1.2"), zone=zone)
    assert set(acceptance.covered_findings.all()) == set(prod)
    dev.refresh_from_db()
    assert dev.acceptance is None


@pytest.mark.parametrize("preset,days", [("7", 7), ("30", 30), ("60", 60), ("90", 90)])
def test_expiry_presets(preset, days):
    assert services.expiry_from_preset(preset, NOW) == NOW + dt.timedelta(days=days)


def test_expiry_never_and_a_chosen_date():
    assert services.expiry_from_preset("never", NOW) is None
    chosen = services.expiry_from_preset("date", NOW, dt.date(2027, 1, 31))
    assert chosen.date() == dt.date(2027, 1, 31) and chosen.hour == 23
    with pytest.raises(ValidationError, match="Unknown expiry"):
        services.expiry_from_preset("forever", NOW)


def test_it_refuses_an_expiry_in_the_past(analyst, catalog, bucket):
    with pytest.raises(ValidationError) as info:
        _accept(
            analyst,
            catalog.controls.get(ref="2.1.2"),
            resource=bucket.resource,
            expires_at=timezone.now() - dt.timedelta(minutes=1),
        )
    assert info.value.message_dict == {"expires_at": ["The expiry must be in the future."]}


def test_it_refuses_a_second_live_acceptance_on_the_same_scope(analyst, catalog, bucket):
    control = catalog.controls.get(ref="2.1.2")
    _accept(analyst, control, resource=bucket.resource)
    with pytest.raises(ValidationError, match="already has a live acceptance"):
        _accept(analyst, control, resource=bucket.resource)


def test_it_refuses_roles_that_may_not(viewer, outsider, analyst, catalog, bucket):
    control = catalog.controls.get(ref="2.1.2")
    for user in (viewer, outsider):
        with pytest.raises(PermissionDenied):
            _accept(user, control, resource=bucket.resource)
    acceptance = _accept(analyst, control, resource=bucket.resource)
    with pytest.raises(PermissionDenied):
        services.revoke_acceptance(acceptance, actor=analyst)


def test_four_eyes_when_approval_is_required(settings, analyst, approver, catalog, bucket):
    settings.CSPM_REQUIRE_APPROVAL = True
    acceptance = _accept(approver, catalog.controls.get(ref="2.1.2"), resource=bucket.resource)
    assert acceptance.state == "proposed"
    bucket.refresh_from_db()
    assert bucket.acceptance is None
    with pytest.raises(PermissionDenied, match="someone other than its creator"):
        services.approve_acceptance(acceptance, actor=approver)
    with pytest.raises(PermissionDenied):
        services.approve_acceptance(acceptance, actor=analyst)


def test_an_approval_by_another_approver_activates_it(
    settings, approver, approver2, catalog, bucket
):
    settings.CSPM_REQUIRE_APPROVAL = True
    acceptance = _accept(approver, catalog.controls.get(ref="2.1.2"), resource=bucket.resource)
    services.approve_acceptance(acceptance, actor=approver2)
    acceptance.refresh_from_db()
    assert acceptance.state == "active" and acceptance.approved_by == approver2
    bucket.refresh_from_db()
    assert bucket.acceptance == acceptance
    # The approval's coverage goes to the history too, for the register.
    assert [e.action for e in acceptance.events.all()] == ["proposed", "approved", "coverage"]


def test_revoking_reopens_findings_and_another_acceptance_takes_over(
    analyst, approver, catalog, bucket
):
    control = catalog.controls.get(ref="2.1.2")
    zone = Zone.objects.get(is_builtin=True)
    services.refresh_zone_membership(zone)
    own = _accept(analyst, control, resource=bucket.resource)
    zone_wide = _accept(analyst, control, zone=zone)
    bucket.refresh_from_db()
    assert bucket.acceptance == own
    services.revoke_acceptance(own, actor=approver, note="bucket now holds customer data")
    bucket.refresh_from_db()
    assert bucket.acceptance == zone_wide
    services.revoke_acceptance(zone_wide, actor=approver)
    bucket.refresh_from_db()
    assert bucket.acceptance is None
    revoked = own.events.get(action="revoked")
    assert revoked.actor == approver and revoked.note == "bucket now holds customer data"


def test_expiry_reopens_findings_once(analyst, catalog, bucket):
    with time_machine.travel(NOW, tick=False):
        acceptance = _accept(
            analyst,
            catalog.controls.get(ref="2.1.2"),
            resource=bucket.resource,
            expires_at=NOW + dt.timedelta(days=7),
        )
    with time_machine.travel(NOW + dt.timedelta(days=7, seconds=1), tick=False):
        assert services.expire_due_acceptances() == [acceptance.pk]
        assert services.expire_due_acceptances() == []
    acceptance.refresh_from_db()
    bucket.refresh_from_db()
    assert acceptance.state == "expired" and bucket.acceptance is None
    assert acceptance.events.filter(action="expired", actor=None).count() == 1


def test_extending_needs_the_extend_permission_and_is_recorded(analyst, approver, catalog, bucket):
    acceptance = _accept(
        analyst,
        catalog.controls.get(ref="2.1.2"),
        resource=bucket.resource,
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    later = timezone.now() + dt.timedelta(days=90)
    with pytest.raises(PermissionDenied):
        services.update_acceptance(acceptance, actor=analyst, expires_at=later)
    services.update_acceptance(acceptance, actor=approver, expires_at=later)
    event = acceptance.events.get(action="extended")
    assert event.changes["expires_at"][1] == later.isoformat()


def test_an_expired_acceptance_can_be_reaccepted(analyst, approver, catalog, bucket):
    with time_machine.travel(NOW, tick=False):
        acceptance = _accept(
            analyst,
            catalog.controls.get(ref="2.1.2"),
            resource=bucket.resource,
            expires_at=NOW + dt.timedelta(days=1),
        )
    with time_machine.travel(NOW + dt.timedelta(days=2), tick=False):
        services.expire_due_acceptances()
        acceptance.refresh_from_db()
        services.update_acceptance(
            acceptance, actor=approver, expires_at=NOW + dt.timedelta(days=32)
        )
        # Renewed by someone else: its owner accepts the renewed risk before it covers again.
        services.sign_off_acceptance(acceptance, actor=analyst)
    acceptance.refresh_from_db()
    bucket.refresh_from_db()
    assert acceptance.state == "active" and bucket.acceptance == acceptance
    assert acceptance.events.filter(action="reaccepted").exists()


def test_a_revoked_acceptance_cannot_be_changed(analyst, approver, catalog, bucket):
    acceptance = _accept(analyst, catalog.controls.get(ref="2.1.2"), resource=bucket.resource)
    services.revoke_acceptance(acceptance, actor=approver)
    with pytest.raises(ValidationError, match="revoked acceptance cannot be changed"):
        services.update_acceptance(acceptance, actor=approver, justification="again")


def test_malformed_zone_rules_name_the_bad_part(approver):
    with pytest.raises(ValidationError) as info:
        services.save_zone(
            actor=approver,
            name="bad",
            rules={
                "account_ids": ["12345"],
                "regions": ["moon-1"],
                "tags": ["Team in ()"],
                "colour": "x",
            },
        )
    messages = info.value.message_dict["rules"]
    assert any("unknown rule colour" in m for m in messages)
    assert any("'12345' is not a 12-digit" in m for m in messages)
    assert any("'moon-1' is not a region" in m for m in messages)
    assert any("needs at least one value" in m for m in messages)
    assert not RiskAcceptance.objects.exists()


def test_it_refuses_a_control_that_is_not_evaluated_on_the_resource(analyst, catalog, bucket):
    with pytest.raises(ValidationError) as info:
        _accept(analyst, catalog.controls.get(ref="5.6"), resource=bucket.resource)
    assert "is not evaluated on" in info.value.message_dict["control"][0]


def test_it_refuses_a_resource_outside_the_account(analyst, catalog, bucket, make_account):
    other = make_account()
    with pytest.raises(ValidationError) as info:
        _accept(analyst, catalog.controls.get(ref="2.1.2"), resource=bucket.resource, account=other)
    assert "is not a resource of account" in info.value.message_dict["resource"][0]
    assert not RiskAcceptance.objects.exists()


def test_previewing_zone_rules_counts_matching_resources_without_saving(
    approver, make_account, make_finding
):
    account = make_account()
    for env in ("prod", "prod", "dev"):
        make_finding(account=account, tags={"Environment": env})
    assert services.preview_zone({"tags": ["Environment=prod"]}) == 2
    assert services.preview_zone({"tags": ["Environment in (prod, dev)"]}) == 3
    assert not Zone.objects.filter(is_builtin=False).exists()
    with pytest.raises(ValidationError):
        services.preview_zone({"tags": ["Environment in ()"]})
