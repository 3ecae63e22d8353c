"""A risk appetite rule tightened later: acceptances already in force that it would refuse are
flagged for re-review (named rule, one email to the owner), their coverage unchanged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from acceptances import services
from acceptances.models import AcceptanceEvent, AppetiteRule
from acceptances.services.compensation import check_appetite

pytestmark = pytest.mark.django_db

RULE = {
    "name": "High: two weeks",
    "description": "",
    "zone": "",
    "severity": "high",
    "min_rating": "",
    "max_term_days": "14",
    "max_renewals": "",
    "approver_role": "",
}


@pytest.fixture
def decided(catalog, make_account, make_finding, analyst):
    """Two IMDS (5.6, high) acceptances: one for 60 days, one for 10."""
    account = make_account()
    made = {}
    for name, days in (("long", 60), ("short", 10)):
        finding = make_finding(
            account=account, control_ref="5.6", resource_type="AWS::EC2::Instance", name=name
        )
        made[name] = services.accept_risk(
            actor=analyst,
            control=catalog.controls.get(ref="5.6"),
            resource=finding.resource,
            owner=analyst,
            reason="risk_owned",
            justification="Until the OS upgrade lands.",
            expires_at=timezone.now() + dt.timedelta(days=days),
        )
        made[name + "_finding"] = finding
    return made


def test_saving_a_stricter_rule_in_the_admin_flags_what_it_refuses(
    client, admin_user, decided, smtp_server, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:acceptances_appetiterule_add"), RULE, follow=True)
    assert response.status_code == 200 and "flagged for re-review" in response.content.decode()
    long, short = decided["long"], decided["short"]
    long.refresh_from_db()
    short.refresh_from_db()
    assert long.review_flagged_at is not None and short.review_flagged_at is None
    assert "High: two weeks" in long.review_reason["appetite"]
    assert long.state == "active"  # coverage stays until a person decides
    decided["long_finding"].refresh_from_db()
    assert decided["long_finding"].acceptance_id == long.pk
    event = AcceptanceEvent.objects.filter(acceptance=long, action="review_flagged").get()
    assert "risk appetite changed" in event.note
    mails = [m for m in smtp_server.messages if "re-review" in m.subject]
    assert len(mails) == 1 and "High: two weeks" in mails[0].text
    page = client.get(reverse("acceptance-detail", args=[long.pk])).content.decode()
    assert "risk appetite changed" in page and "at most 14 days" in page
    # Run again (a retried task, a second worker): nothing new.
    assert check_appetite() == []
    assert len([m for m in smtp_server.messages if "re-review" in m.subject]) == 1


def test_no_end_refused_by_a_new_rule_and_rules_that_do_not_apply(
    decided, catalog, analyst, make_finding
):
    AppetiteRule.objects.all().delete()
    bucket = make_finding(account=decided["short_finding"].resource.account, control_ref="2.1.2")
    endless = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        resource=bucket.resource,
        owner=analyst,
        reason="risk_owned",
        justification="Versioning covers it.",
    )
    # A rule for another severity leaves everything alone.
    AppetiteRule.objects.create(name="Critical: no end", severity="critical", allow_never=False)
    assert check_appetite() == []
    AppetiteRule.objects.create(name="Nothing without an end", allow_never=False)
    assert check_appetite() == [endless.pk]
    endless.refresh_from_db()
    assert "does not allow an acceptance with no end" in endless.review_reason["appetite"]


def test_with_the_broker_down_the_admin_checks_the_appetite_itself(
    client, admin_user, decided, broker_down, django_capture_on_commit_callbacks
):
    """The real broker port closed: the rule is saved, the admin answers (no 500), and the
    acceptances it refuses are flagged all the same, in the admin's own process."""
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:acceptances_appetiterule_add"), RULE, follow=True)
    assert response.status_code == 200
    assert AppetiteRule.objects.filter(name="High: two weeks").exists()
    decided["long"].refresh_from_db()
    decided["short"].refresh_from_db()
    assert decided["long"].review_flagged_at is not None
    assert decided["short"].review_flagged_at is None
