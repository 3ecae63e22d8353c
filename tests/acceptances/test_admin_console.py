"""Changing an acceptance in the admin console goes through the services: history, coverage."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from acceptances.models import AcceptanceEvent, RiskAcceptance, Zone

pytestmark = pytest.mark.django_db


@pytest.fixture
def failing_bucket(make_account, make_finding):
    return make_finding(account=make_account(), control_ref="2.1.2", name="story-images")


def _form(catalog, owner, **extra):
    data = {
        "control": catalog.controls.get(ref="2.1.2").pk,
        "resource": "",
        "zone": "",
        "treatment": "retain",
        "reason": "risk_owned",
        "reason_detail": "",
        "justification": "MFA Delete needs the root user; versioning covers mistakes.",
        "owner": owner.pk,
        "likelihood": "3",
        "impact": "3",
        "compensating_measures": "",
        "expires_at_0": "",
        "expires_at_1": "",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "reminders-TOTAL_FORMS": "0",
        "reminders-INITIAL_FORMS": "0",
        "proposed_changes-TOTAL_FORMS": "0",
        "proposed_changes-INITIAL_FORMS": "0",
    }
    data.update(extra)
    return data


def test_adding_an_acceptance_in_the_admin_writes_history_and_covers_findings(
    client, analyst, catalog, failing_bucket
):
    client.force_login(analyst)
    response = client.post(
        reverse("admin:acceptances_riskacceptance_add"),
        _form(catalog, analyst, resource=failing_bucket.resource.pk),
    )
    assert response.status_code == 302, response.content
    acceptance = RiskAcceptance.objects.get()
    assert acceptance.created_by == analyst and acceptance.state == "active"
    event = acceptance.events.get(action="created")
    assert event.actor == analyst
    assert acceptance.events.get(action="coverage").changes == {"covered": [None, 1]}
    assert event.changes["justification"][1].startswith("MFA Delete")
    failing_bucket.refresh_from_db()
    assert failing_bucket.acceptance == acceptance


def test_the_admin_shows_service_errors_beside_the_fields(client, analyst, catalog, failing_bucket):
    client.force_login(analyst)
    zone = Zone.objects.get(is_builtin=True)
    yesterday = timezone.now() - dt.timedelta(days=1)
    response = client.post(
        reverse("admin:acceptances_riskacceptance_add"),
        _form(
            catalog,
            analyst,
            resource=failing_bucket.resource.pk,
            zone=zone.pk,
            expires_at_0=yesterday.strftime("%Y-%m-%d"),
            expires_at_1="12:00:00",
        ),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["expires_at"] == ["The expiry must be in the future."]
    assert "either for one resource or for one zone" in str(errors["__all__"])
    assert not RiskAcceptance.objects.exists()


def test_editing_in_the_admin_records_before_and_after(client, approver, catalog, failing_bucket):
    from acceptances import services

    acceptance = services.accept_risk(
        actor=approver,
        control=catalog.controls.get(ref="2.1.2"),
        resource=failing_bucket.resource,
        owner=approver,
        reason="risk_owned",
        justification="first reason",
    )
    client.force_login(approver)
    data = _form(catalog, approver, justification="a better reason")
    response = client.post(
        reverse("admin:acceptances_riskacceptance_change", args=[acceptance.pk]), data
    )
    assert response.status_code == 302, response.content
    edit = acceptance.events.get(action="edited")
    assert edit.actor == approver
    assert edit.changes == {"justification": ["first reason", "a better reason"]}


def test_the_admin_is_no_bypass_of_four_eyes_on_widening_changes(
    client, settings, approver, approver2, catalog, failing_bucket
):
    from acceptances import services

    settings.CSPM_REQUIRE_APPROVAL = True
    expiry = timezone.now() + dt.timedelta(days=7)
    acceptance = services.accept_risk(
        actor=approver,
        control=catalog.controls.get(ref="2.1.2"),
        resource=failing_bucket.resource,
        owner=approver,
        reason="risk_owned",
        justification="first reason",
        expires_at=expiry,
    )
    services.approve_acceptance(acceptance, actor=approver2)
    client.force_login(approver)
    data = _form(catalog, approver, justification="a wider reason")
    data.update(expires_at_0=expiry.strftime("%Y-%m-%d"), expires_at_1=expiry.strftime("%H:%M:%S"))
    for readonly in ("control", "resource", "zone"):
        del data[readonly]
    response = client.post(
        reverse("admin:acceptances_riskacceptance_change", args=[acceptance.pk]), data, follow=True
    )
    assert "Proposed, not applied: justification" in response.content.decode()
    acceptance.refresh_from_db()
    assert acceptance.justification == "first reason"
    changelist = reverse("admin:acceptances_riskacceptance_changelist")
    action = {"action": "approve_pending_changes", "_selected_action": [acceptance.pk]}
    client.post(changelist, action)  # the proposer: refused
    acceptance.refresh_from_db()
    assert acceptance.justification == "first reason"
    client.force_login(approver2)
    assert client.post(changelist, action).status_code == 302
    acceptance.refresh_from_db()
    assert acceptance.justification == "a wider reason"
    assert acceptance.events.filter(action="change_approved", actor=approver2).exists()


def test_admins_revoke_through_the_action_and_findings_fail_again(
    client, approver, catalog, failing_bucket
):
    from acceptances import services

    acceptance = services.accept_risk(
        actor=approver,
        control=catalog.controls.get(ref="2.1.2"),
        resource=failing_bucket.resource,
        owner=approver,
        reason="risk_owned",
        justification="j",
    )
    client.force_login(approver)
    response = client.post(
        reverse("admin:acceptances_riskacceptance_changelist"),
        {"action": "revoke_selected", "_selected_action": [acceptance.pk]},
    )
    assert response.status_code == 302
    acceptance.refresh_from_db()
    assert acceptance.state == "revoked" and acceptance.revoked_by == approver
    failing_bucket.refresh_from_db()
    assert failing_bucket.acceptance is None
    assert acceptance.events.filter(action="revoked", actor=approver).exists()


def test_analysts_cannot_revoke_and_nobody_can_delete_or_edit_history(
    client, analyst, admin_user, catalog, failing_bucket
):
    from acceptances import services

    acceptance = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        resource=failing_bucket.resource,
        owner=analyst,
        reason="risk_owned",
        justification="j",
    )
    client.force_login(analyst)
    changelist = reverse("admin:acceptances_riskacceptance_changelist")
    client.post(changelist, {"action": "revoke_selected", "_selected_action": [acceptance.pk]})
    acceptance.refresh_from_db()
    assert acceptance.state == "active"

    client.force_login(admin_user)
    delete = reverse("admin:acceptances_riskacceptance_delete", args=[acceptance.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    event = AcceptanceEvent.objects.get(acceptance=acceptance, action="created")
    change_event = reverse("admin:acceptances_acceptanceevent_change", args=[event.pk])
    client.post(change_event, {"note": "rewritten"})
    event.refresh_from_db()
    assert event.note == ""
    assert (
        client.post(
            reverse("admin:acceptances_acceptanceevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert RiskAcceptance.objects.filter(pk=acceptance.pk).exists()


def test_zone_rules_are_validated_in_the_admin(client, approver, make_account, make_finding):
    make_finding(account=make_account(), tags={"Environment": "prod"})
    client.force_login(approver)
    response = client.post(
        reverse("admin:acceptances_zone_add"),
        {"name": "prod", "description": "", "rules": '{"tags": ["Team in ()"], "regoins": []}'},
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert "unknown rule regoins" in text and "needs at least one value" in text
    response = client.post(
        reverse("admin:acceptances_zone_add"),
        {"name": "prod", "description": "", "rules": '{"tags": ["Environment=prod"]}'},
    )
    assert response.status_code == 302
    zone = Zone.objects.get(name="prod")
    assert zone.memberships.count() == 1 and zone.created_by == approver
