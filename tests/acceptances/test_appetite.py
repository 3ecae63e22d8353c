"""Risk appetite: which rules apply and what they allow (pure), and the services refusing the
rest with the rule named: creating, extending, renewing, approving, approving a change."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from acceptances import appetite, services
from acceptances.models import AppetiteRule, RiskAcceptance, ZoneMembership
from acceptances.services import EXPIRY_PRESETS

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)

# --- Pure: rules as unsaved rows, no database ------------------------------------------------


def _rule(name="R", **fields):
    return AppetiteRule(name=name, **fields)


def test_a_rule_applies_by_zone_severity_and_rating():
    rule = _rule(zone_id=7, severity="high", min_rating="medium")
    assert appetite.applies(rule, {7, 9}, "high", "medium")
    assert appetite.applies(rule, {7}, "high", "critical")
    assert not appetite.applies(rule, {9}, "high", "critical")  # other zone
    assert not appetite.applies(rule, {7}, "critical", "critical")  # other severity
    assert not appetite.applies(rule, {7}, "high", "low")  # below its rating
    # Empty criteria match everything.
    assert appetite.applies(_rule(), set(), "low", "low")


def test_the_strictest_rule_on_each_point_is_the_one_named():
    lim = appetite.limits(
        [
            _rule("Ninety", max_term_days=90, allow_never=False, approver_role="approver"),
            _rule("Thirty", max_term_days=30, max_renewals=2),
            _rule("Admins", approver_role="admin", max_renewals=1),
        ]
    )
    assert (lim.max_term_days, lim.term_rule.name) == (30, "Thirty")
    assert (lim.allow_never, lim.never_rule.name) == (False, "Ninety")
    assert (lim.max_renewals, lim.renewals_rule.name) == (1, "Admins")
    assert (lim.approver_role, lim.role_rule.name) == ("admin", "Admins")
    assert appetite.limits([]) == appetite.Limits()


def test_a_term_beyond_the_rule_is_refused_naming_it_and_its_last_day():
    lim = appetite.limits([_rule("Critical: at most 30 days", max_term_days=30)])
    appetite.check_term(lim, NOW + dt.timedelta(days=30), NOW)
    # The whole last day is allowed: "until that date" of the date picker.
    appetite.check_term(lim, NOW + dt.timedelta(days=30, hours=11), NOW)
    with pytest.raises(ValidationError) as refused:
        appetite.check_term(lim, NOW + dt.timedelta(days=31), NOW)
    assert refused.value.message_dict["expires_at"] == [
        "Risk appetite rule “Critical: at most 30 days” allows at most 30 days (until 2026-12-30)."
    ]
    with pytest.raises(ValidationError, match="Critical: at most 30 days"):
        appetite.check_term(lim, None, NOW, field="expiry")


def test_no_end_is_refused_by_a_rule_that_forbids_it():
    lim = appetite.limits([_rule("No never", allow_never=False)])
    appetite.check_term(lim, NOW + dt.timedelta(days=3000), NOW)
    with pytest.raises(ValidationError) as refused:
        appetite.check_term(lim, None, NOW)
    assert "“No never” does not allow an acceptance with no end" in str(refused.value)


def test_the_offered_presets_stop_at_the_term():
    lim = appetite.limits([_rule("Sixty", max_term_days=60, allow_never=False)])
    assert appetite.allowed_presets(lim, EXPIRY_PRESETS, NOW, NOW) == {
        "7": True,
        "30": True,
        "60": True,
        "90": False,
        "date": True,
        "never": False,
    }
    # Extending counts from the current end, 40 days ahead: only 7 more days fit.
    later = appetite.allowed_presets(lim, EXPIRY_PRESETS, NOW + dt.timedelta(days=40), NOW)
    assert [k for k, ok in later.items() if ok] == ["7", "date"]
    assert all(appetite.allowed_presets(appetite.Limits(), EXPIRY_PRESETS, NOW, NOW).values())


def test_renewals_and_approver_roles():
    lim = appetite.limits([_rule("Twice", max_renewals=2, approver_role="admin")])
    appetite.check_renewal(lim, 1)
    with pytest.raises(ValidationError, match="“Twice” allows 2 renewal"):
        appetite.check_renewal(lim, 2)
    appetite.check_approver(lim, ["admin"])
    with pytest.raises(ValidationError) as refused:
        appetite.check_approver(lim, ["approver"])
    assert refused.value.message_dict["approval"] == [
        "Risk appetite rule “Twice” requires approval by an admin."
    ]
    appetite.check_approver(appetite.limits([_rule(approver_role="approver")]), ["admin"])


# --- Services, with the shipped rules ----------------------------------------------------------


@pytest.fixture
def imds(db, make_account, make_finding):
    """5.6 (high severity) failing on an instance."""
    return make_finding(
        account=make_account(),
        control_ref="5.6",
        resource_type="AWS::EC2::Instance",
        name="web-server",
    )


def _accept(actor, catalog, finding, ref="5.6", **extra):
    values = {
        "actor": actor,
        "control": catalog.controls.get(ref=ref),
        "owner": actor,
        "reason": "risk_owned",
        "justification": "The OS upgrade lands next quarter.",
        "resource": finding.resource,
        "expires_at": timezone.now() + dt.timedelta(days=60),
    }
    values.update(extra)
    return services.accept_risk(**values)


@pytest.mark.django_db
def test_the_shipped_rules_refuse_a_high_control_beyond_90_days_or_with_no_end(
    analyst, catalog, imds
):
    assert set(AppetiteRule.objects.values_list("name", flat=True)) == {
        "Critical: at most 30 days",
        "High: at most 90 days",
    }
    with pytest.raises(ValidationError) as refused:
        _accept(analyst, catalog, imds, expires_at=timezone.now() + dt.timedelta(days=120))
    assert "Risk appetite rule “High: at most 90 days” allows at most 90 days" in str(
        refused.value.message_dict["expires_at"]
    )
    with pytest.raises(ValidationError, match="High: at most 90 days"):
        _accept(analyst, catalog, imds, expires_at=None)
    assert not RiskAcceptance.objects.exists()
    assert _accept(analyst, catalog, imds).state == "active"


@pytest.mark.django_db
def test_a_medium_control_may_still_have_no_end(analyst, catalog, make_account, make_finding):
    bucket = make_finding(account=make_account(), control_ref="2.1.2")
    assert _accept(analyst, catalog, bucket, ref="2.1.2", expires_at=None).expires_at is None


@pytest.mark.django_db
def test_a_zone_rule_applies_to_resources_in_the_zone_and_to_the_zone_itself(
    approver, analyst, catalog, make_account, make_finding
):
    account = make_account()
    prod = make_finding(account=account, control_ref="2.1.2", tags={"Env": "prod"})
    dev = make_finding(account=account, control_ref="2.1.2", tags={"Env": "dev"})
    zone = services.save_zone(actor=approver, name="prod", rules={"tags": ["Env=prod"]})
    assert ZoneMembership.objects.filter(zone=zone, resource=prod.resource).exists()
    AppetiteRule.objects.create(name="Prod: 14 days", zone=zone, max_term_days=14)
    month = timezone.now() + dt.timedelta(days=30)
    with pytest.raises(ValidationError, match="Prod: 14 days"):
        _accept(analyst, catalog, prod, ref="2.1.2", expires_at=month)
    with pytest.raises(ValidationError, match="Prod: 14 days"):
        _accept(analyst, catalog, prod, ref="2.1.2", resource=None, zone=zone, expires_at=month)
    # Outside the zone the rule says nothing.
    assert _accept(analyst, catalog, dev, ref="2.1.2", expires_at=month).state == "active"


@pytest.mark.django_db
def test_an_extension_beyond_the_term_is_refused_naming_the_rule(approver, analyst, catalog, imds):
    acceptance = _accept(analyst, catalog, imds)
    with pytest.raises(ValidationError) as refused:
        services.update_acceptance(
            acceptance, actor=approver, expires_at=timezone.now() + dt.timedelta(days=100)
        )
    assert "High: at most 90 days" in str(refused.value.message_dict["expires_at"])
    with pytest.raises(ValidationError, match="High: at most 90 days"):
        services.update_acceptance(acceptance, actor=approver, expires_at=None)
    services.update_acceptance(
        acceptance, actor=approver, expires_at=timezone.now() + dt.timedelta(days=85)
    )


@pytest.mark.django_db
def test_renewals_are_counted_and_refused_past_the_rules_count(approver, analyst, catalog, imds):
    AppetiteRule.objects.create(name="Renew once", severity="high", max_renewals=1)
    acceptance = _accept(analyst, catalog, imds, expires_at=timezone.now() + dt.timedelta(days=1))
    later = timezone.now() + dt.timedelta(days=2)
    services.expire_due_acceptances(later)
    renewed = services.update_acceptance(
        acceptance, actor=approver, now=later, expires_at=later + dt.timedelta(days=1)
    )
    renewed.refresh_from_db()
    assert (renewed.state, renewed.renewals) == (
        "awaiting_owner",
        1,
    )  # renewed by someone else: the owner signs again
    event = renewed.events.get(action="reaccepted")
    assert event.changes["renewals"] == [0, 1]
    again = later + dt.timedelta(days=2)
    services.expire_due_acceptances(again)
    with pytest.raises(ValidationError) as refused:
        services.update_acceptance(
            renewed, actor=approver, now=again, expires_at=again + dt.timedelta(days=1)
        )
    assert "Risk appetite rule “Renew once” allows 1 renewal(s)" in str(
        refused.value.message_dict["renewals"]
    )
    renewed.refresh_from_db()
    assert (renewed.state, renewed.renewals) == ("expired", 1)


@pytest.mark.django_db
def test_a_rule_naming_admins_refuses_an_approvers_approval(
    settings, admin_user, approver, analyst, catalog, imds
):
    settings.CSPM_REQUIRE_APPROVAL = True
    AppetiteRule.objects.create(name="High: admins approve", severity="high", approver_role="admin")
    proposal = _accept(analyst, catalog, imds)
    assert proposal.state == "proposed"
    with pytest.raises(ValidationError) as refused:
        services.approve_acceptance(proposal, actor=approver)
    assert refused.value.message_dict["approval"] == [
        "Risk appetite rule “High: admins approve” requires approval by an admin."
    ]
    proposal.refresh_from_db()
    assert proposal.state == "proposed"
    assert services.approve_acceptance(proposal, actor=admin_user).state == "active"


@pytest.mark.django_db
def test_without_four_eyes_a_creator_below_the_rules_role_only_proposes(
    admin_user, analyst, catalog, imds
):
    AppetiteRule.objects.create(name="High: admins approve", severity="high", approver_role="admin")
    proposal = _accept(analyst, catalog, imds)
    assert proposal.state == "proposed" and not proposal.covered_findings.exists()
    services.approve_acceptance(proposal, actor=admin_user)
    imds.refresh_from_db()
    assert imds.acceptance == proposal


@pytest.mark.django_db
def test_approving_a_proposed_change_needs_the_rules_role_too(
    settings, admin_user, approver, approver2, analyst, catalog, imds
):
    acceptance = _accept(analyst, catalog, imds)
    AppetiteRule.objects.create(name="High: admins approve", severity="high", approver_role="admin")
    settings.CSPM_REQUIRE_APPROVAL = True
    proposed = services.update_acceptance(
        acceptance, actor=approver, expires_at=timezone.now() + dt.timedelta(days=80)
    )
    change = proposed.proposed_change
    assert change is not None
    with pytest.raises(ValidationError, match="High: admins approve"):
        services.approve_acceptance_change(change, actor=approver2)
    with pytest.raises(PermissionDenied):
        services.approve_acceptance_change(change, actor=approver)  # its proposer
    services.approve_acceptance_change(change, actor=admin_user)
