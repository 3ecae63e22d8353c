"""Four-eyes in the API: extending, renewing or rewording an approved acceptance answers 202
with the proposal in ``pending_change``; another approver approves it through approve-change."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from acceptances import services
from acceptances.models import RiskAcceptance

pytestmark = pytest.mark.django_db

URL = "/api/v1/acceptances/"
NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
EXPIRY = NOW + dt.timedelta(days=7)


@pytest.fixture
def approved(settings, catalog, make_account, make_finding, approver, approver2):
    settings.CSPM_REQUIRE_APPROVAL = True
    finding = make_finding(account=make_account(), control_ref="2.1.2", now=NOW)
    with time_machine.travel(NOW, tick=False):
        acceptance = services.accept_risk(
            actor=approver,
            control=catalog.controls.get(ref="2.1.2"),
            resource=finding.resource,
            owner=approver,
            reason="risk_owned",
            justification="Versioning covers mistakes.",
            expires_at=EXPIRY,
        )
        services.approve_acceptance(acceptance, actor=approver2)
    return acceptance, finding


def test_the_creator_proposes_and_another_approver_approves(
    token_client, approved, approver, approver2, viewer
):
    acceptance, finding = approved
    creator = token_client(approver)
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        response = creator.post(f"{URL}{acceptance.pk}/extend/", {"expiry": "never"}, format="json")
        assert response.status_code == 202, response.json()
        body = response.json()
        # The terms in force are unchanged; the proposal is beside them.
        assert body["expires_at"] == EXPIRY.isoformat().replace("+00:00", "Z")
        pending = body["pending_change"]
        assert pending["proposed_by"] == approver.username and pending["state"] == "pending"
        assert pending["changes"] == {"expires_at": [EXPIRY.isoformat(), None]}
        rewrite = creator.patch(
            f"{URL}{acceptance.pk}/", {"justification": "Anything goes."}, format="json"
        )
        assert rewrite.status_code == 400 and "pending_change" in rewrite.json()
        decision = {"change": pending["id"]}
        assert (
            creator.post(f"{URL}{acceptance.pk}/approve-change/", decision, format="json")
        ).status_code == 403
        assert (
            token_client(viewer).post(
                f"{URL}{acceptance.pk}/approve-change/", decision, format="json"
            )
        ).status_code == 403
    # Meanwhile the old expiry still applies.
    with time_machine.travel(EXPIRY + dt.timedelta(minutes=3), tick=False):
        assert services.expire_due_acceptances() == [acceptance.pk]
    finding.refresh_from_db()
    assert finding.acceptance is None
    # Another approver's approval renews it with no end.
    with time_machine.travel(EXPIRY + dt.timedelta(hours=1), tick=False):
        response = token_client(approver2).post(
            f"{URL}{acceptance.pk}/approve-change/", decision, format="json"
        )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["expires_at"] is None and body["state"] == "active"
    assert body["pending_change"] is None
    finding.refresh_from_db()
    assert finding.acceptance_id == acceptance.pk
    history = creator.get(f"{URL}{acceptance.pk}/history/").json()
    decisions = [(e["action"], e["actor"]) for e in history if e["action"] != "coverage"]
    assert decisions[2:] == [
        ("change_proposed", approver.username),
        # The proposer's own approval, refused, is on record.
        ("approval_refused", approver.username),
        ("expired", None),
        ("change_approved", approver2.username),
    ]
    assert RiskAcceptance.objects.get(pk=acceptance.pk).expires_at is None
