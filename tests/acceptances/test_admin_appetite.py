"""The admin console: the assessment on acceptances, the appetite rules managed by admins, and
the acceptance admin refusing what the rules forbid, with the rule named (through the services)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from acceptances import services
from acceptances.models import AppetiteRule, RiskAcceptance

pytestmark = pytest.mark.django_db


@pytest.fixture
def imds(make_account, make_finding):
    return make_finding(
        account=make_account(), control_ref="5.6", resource_type="AWS::EC2::Instance"
    )


def _form(catalog, owner, resource, **extra):
    data = {
        "control": catalog.controls.get(ref="5.6").pk,
        "resource": resource.pk,
        "zone": "",
        "treatment": "retain",
        "reason": "risk_owned",
        "reason_detail": "",
        "justification": "Until the OS upgrade lands.",
        "owner": owner.pk,
        "likelihood": "4",
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


def test_adding_in_the_admin_needs_the_assessment_and_stores_it(client, analyst, catalog, imds):
    client.force_login(analyst)
    add = reverse("admin:acceptances_riskacceptance_add")
    response = client.post(add, _form(catalog, analyst, imds.resource, likelihood="", impact=""))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "likelihood" in errors and "impact" in errors
    soon = timezone.now() + dt.timedelta(days=20)
    response = client.post(
        add,
        _form(
            catalog,
            analyst,
            imds.resource,
            expires_at_0=soon.strftime("%Y-%m-%d"),
            expires_at_1="12:00:00",
        ),
    )
    assert response.status_code == 302, response.content
    acceptance = RiskAcceptance.objects.get()
    assert (acceptance.likelihood, acceptance.impact, acceptance.residual_rating) == (4, 3, "high")


def test_the_acceptance_admin_refuses_what_the_appetite_forbids_naming_the_rule(
    client, analyst, approver, catalog, imds
):
    client.force_login(analyst)
    response = client.post(
        reverse("admin:acceptances_riskacceptance_add"), _form(catalog, analyst, imds.resource)
    )  # no end, for a high control
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["expires_at"] == [
        "Risk appetite rule “High: at most 90 days” does not allow an acceptance with no end."
    ]
    assert not RiskAcceptance.objects.exists()
    acceptance = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="5.6"),
        resource=imds.resource,
        owner=analyst,
        reason="risk_owned",
        justification="Until the OS upgrade lands.",
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    client.force_login(approver)
    far = timezone.now() + dt.timedelta(days=200)
    data = _form(
        catalog,
        analyst,
        imds.resource,
        likelihood="4",
        impact="4",
        expires_at_0=far.strftime("%Y-%m-%d"),
        expires_at_1="12:00:00",
    )
    for readonly in ("control", "resource", "zone"):
        del data[readonly]
    response = client.post(
        reverse("admin:acceptances_riskacceptance_change", args=[acceptance.pk]), data
    )
    assert response.status_code == 200
    assert "High: at most 90 days" in str(response.context["adminform"].form.errors["expires_at"])


def test_the_approve_action_is_refused_to_an_approver_when_a_rule_names_admins(
    client, settings, analyst, approver, admin_user, catalog, imds
):
    settings.CSPM_REQUIRE_APPROVAL = True
    AppetiteRule.objects.create(name="High: admins approve", severity="high", approver_role="admin")
    proposal = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="5.6"),
        resource=imds.resource,
        owner=analyst,
        reason="risk_owned",
        justification="Until the OS upgrade lands.",
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    changelist = reverse("admin:acceptances_riskacceptance_changelist")
    action = {"action": "approve_selected", "_selected_action": [proposal.pk]}
    client.force_login(approver)
    page = client.post(changelist, action, follow=True).content.decode()
    assert "Risk appetite rule “High: admins approve” requires approval by an admin." in page
    proposal.refresh_from_db()
    assert proposal.state == "proposed"
    client.force_login(admin_user)
    client.post(changelist, action)
    proposal.refresh_from_db()
    assert proposal.state == "active"


def test_admins_manage_rules_with_sensible_values_and_approvers_may_not(
    client, admin_user, approver
):
    add = reverse("admin:acceptances_appetiterule_add")
    client.force_login(approver)
    assert client.get(add).status_code == 403
    client.force_login(admin_user)
    rule = {
        "name": "Prod: two weeks",
        "description": "",
        "zone": "",
        "severity": "",
        "min_rating": "high",
        "max_term_days": "0",
        "allow_never": "on",
        "max_renewals": "",
        "approver_role": "admin",
    }
    response = client.post(add, rule)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "max_term_days" in errors and "allow_never" in errors
    rule.update(max_term_days="14")
    del rule["allow_never"]
    assert client.post(add, rule).status_code == 302
    saved = AppetiteRule.objects.get(name="Prod: two weeks")
    assert (saved.max_term_days, saved.allow_never, saved.approver_role) == (14, False, "admin")
    listing = client.get(reverse("admin:acceptances_appetiterule_changelist")).content.decode()
    assert "Critical: at most 30 days" in listing and "Prod: two weeks" in listing


def test_clearing_an_assessment_in_the_admin_is_refused_beside_the_field(
    client, analyst, approver, catalog, imds
):
    acceptance = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="5.6"),
        resource=imds.resource,
        owner=analyst,
        reason="risk_owned",
        justification="Until the OS upgrade lands.",
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    client.force_login(approver)
    end = timezone.localtime(acceptance.expires_at)
    data = _form(
        catalog,
        analyst,
        imds.resource,
        likelihood="",
        impact="4",
        expires_at_0=end.strftime("%Y-%m-%d"),
        expires_at_1=end.strftime("%H:%M:%S"),
    )
    for readonly in ("control", "resource", "zone"):
        del data[readonly]
    response = client.post(
        reverse("admin:acceptances_riskacceptance_change", args=[acceptance.pk]), data
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["likelihood"] == ["Rate the likelihood, 1 to 5."]
    acceptance.refresh_from_db()
    assert acceptance.likelihood == 4
