"""Four-eyes covers every widening change: with approval required, extending, renewing or
rewording an approved acceptance is a proposal that another approver must approve; until then
the approved terms stay in force (the expiry job still ends it at the approved expiry)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from acceptances import services
from acceptances.models import AcceptanceChange, RiskAcceptance

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
EXPIRY = NOW + dt.timedelta(days=7)
JUSTIFICATION = "MFA Delete needs the root user; versioning covers mistakes."


@pytest.fixture(autouse=True)
def _four_eyes(settings):
    settings.CSPM_REQUIRE_APPROVAL = True


@pytest.fixture
def bucket(make_account, make_finding):
    return make_finding(account=make_account(), control_ref="2.1.2", name="story-images", now=NOW)


@pytest.fixture
def approved(catalog, bucket, approver, approver2) -> RiskAcceptance:
    """Created by ``approver`` until EXPIRY, approved by ``approver2``."""
    with time_machine.travel(NOW, tick=False):
        acceptance = services.accept_risk(
            actor=approver,
            control=catalog.controls.get(ref="2.1.2"),
            resource=bucket.resource,
            owner=approver,
            reason="risk_owned",
            justification=JUSTIFICATION,
            expires_at=EXPIRY,
        )
        services.approve_acceptance(acceptance, actor=approver2)
    acceptance.refresh_from_db()
    return acceptance


def _at(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


def _actions(acceptance: RiskAcceptance) -> list[str]:
    # The decisions; coverage counts have their own tests (test_coverage_history.py).
    return [e.action for e in acceptance.events.exclude(action="coverage").order_by("at", "pk")]


def test_the_creator_alone_cannot_extend_to_never_and_the_old_expiry_still_ends_it(
    approved, approver, bucket
):
    with _at(NOW + dt.timedelta(days=1)):
        result = services.update_acceptance(
            approved, actor=approver, expires_at=None, note="forever, please"
        )
    assert result.proposed_change is not None
    approved.refresh_from_db()
    assert approved.expires_at == EXPIRY and approved.state == "active"
    # The history shows the proposal: who, when, what would change.
    proposal = approved.events.get(action="change_proposed")
    assert proposal.actor == approver and proposal.at == NOW + dt.timedelta(days=1)
    assert proposal.changes == {"expires_at": [EXPIRY.isoformat(), None]}
    assert proposal.note == "forever, please"
    # Nobody approves their own proposal.
    with pytest.raises(PermissionDenied, match="someone other than its proposer"):
        services.approve_acceptance_change(result.proposed_change, actor=approver)
    # The approved expiry still applies: the expiry job ends it and the finding fails again.
    with _at(EXPIRY + dt.timedelta(minutes=3)):
        assert services.expire_due_acceptances() == [approved.pk]
    approved.refresh_from_db()
    bucket.refresh_from_db()
    assert approved.state == "expired" and bucket.acceptance is None


def test_another_approvers_approval_puts_the_change_in_force(approved, approver, approver2, bucket):
    with _at(NOW + dt.timedelta(days=1)):
        change = services.update_acceptance(
            approved, actor=approver, expires_at=None, justification="Rewritten alone."
        ).proposed_change
    approved.refresh_from_db()
    assert approved.justification == JUSTIFICATION
    with _at(NOW + dt.timedelta(days=2)):
        services.approve_acceptance_change(change, actor=approver2, note="ok for this bucket")
    approved.refresh_from_db()
    assert approved.expires_at is None and approved.justification == "Rewritten alone."
    change.refresh_from_db()
    assert change.state == "approved" and change.decided_by == approver2
    approval = approved.events.get(action="change_approved")
    assert approval.actor == approver2
    assert approval.changes == {
        "expires_at": [EXPIRY.isoformat(), None],
        "justification": [JUSTIFICATION, "Rewritten alone."],
    }
    assert approval.note.startswith(f"Proposed by {approver} on ")
    assert _actions(approved) == ["proposed", "approved", "change_proposed", "change_approved"]
    # Now in force: the old expiry no longer ends it.
    with _at(EXPIRY + dt.timedelta(minutes=3)):
        assert services.expire_due_acceptances() == []
    bucket.refresh_from_db()
    assert bucket.acceptance == approved
    # Decided once.
    with pytest.raises(ValidationError, match="no longer awaiting approval"):
        services.approve_acceptance_change(change, actor=approver2)


@pytest.mark.parametrize(
    "changes",
    [
        {"justification": "Nobody will ever look at it."},
        {"reason": "not_relevant"},
        {"reason": "custom", "reason_detail": "compensated by SCP"},
        {"treatment": "share"},
        {"expires_at": EXPIRY + dt.timedelta(days=30)},
    ],
)
def test_rewording_or_a_later_expiry_is_proposed_not_applied(approved, approver, changes):
    with _at(NOW + dt.timedelta(days=1)):
        change = services.update_acceptance(approved, actor=approver, **changes).proposed_change
    assert change is not None and set(change.terms) == set(changes)
    fresh = RiskAcceptance.objects.get(pk=approved.pk)
    for name in changes:
        assert getattr(fresh, name) == getattr(approved, name)


def test_renewing_an_expired_acceptance_needs_a_second_approver(
    approved, approver, approver2, bucket
):
    with _at(EXPIRY + dt.timedelta(minutes=3)):
        services.expire_due_acceptances()
    renewed_until = EXPIRY + dt.timedelta(days=30)
    with _at(EXPIRY + dt.timedelta(hours=1)):
        approved.refresh_from_db()
        change = services.update_acceptance(
            approved, actor=approver, expires_at=renewed_until
        ).proposed_change
    approved.refresh_from_db()
    bucket.refresh_from_db()
    assert change.renews
    assert approved.state == "expired" and bucket.acceptance is None
    with _at(EXPIRY + dt.timedelta(hours=2)):
        services.approve_acceptance_change(change, actor=approver2)
    approved.refresh_from_db()
    bucket.refresh_from_db()
    assert approved.state == "active" and approved.expires_at == renewed_until
    assert bucket.acceptance == approved


def test_narrowing_applies_at_once(approved, approver, bucket):
    sooner = NOW + dt.timedelta(days=3)
    with _at(NOW + dt.timedelta(days=1)):
        result = services.update_acceptance(approved, actor=approver, expires_at=sooner)
    assert result.proposed_change is None
    approved.refresh_from_db()
    assert approved.expires_at == sooner
    assert not AcceptanceChange.objects.exists()


def test_a_rejected_change_leaves_the_terms_and_revoking_drops_a_pending_one(
    approved, approver, approver2
):
    with _at(NOW + dt.timedelta(days=1)):
        change = services.update_acceptance(
            approved, actor=approver, justification="Wider."
        ).proposed_change
        # One open proposal at a time: the second waits for the first to be decided.
        with pytest.raises(ValidationError) as info:
            services.update_acceptance(approved, actor=approver, expires_at=None)
        assert "pending_change" in info.value.message_dict
        services.reject_acceptance_change(change, actor=approver2, note="keep it as approved")
        approved.refresh_from_db()
        assert approved.justification == JUSTIFICATION
        change.refresh_from_db()
        assert change.state == "rejected" and change.decided_by == approver2
        again = services.update_acceptance(approved, actor=approver, expires_at=None)
        services.revoke_acceptance(approved, actor=approver, note="fixed instead")
    again.proposed_change.refresh_from_db()
    assert again.proposed_change.state == "rejected"
    assert _actions(approved)[2:] == [
        "change_proposed",
        "change_rejected",
        "change_proposed",
        "revoked",
        "change_rejected",
    ]


def test_the_proposer_may_withdraw_and_an_analyst_may_not_reject(approved, approver, analyst):
    with _at(NOW + dt.timedelta(days=1)):
        change = services.update_acceptance(
            approved, actor=approver, justification="Wider."
        ).proposed_change
        with pytest.raises(PermissionDenied):
            services.reject_acceptance_change(change, actor=analyst)
        services.reject_acceptance_change(change, actor=approver)
    change.refresh_from_db()
    assert change.state == "withdrawn"


def test_an_approver_who_edited_a_proposal_cannot_approve_it(
    catalog, bucket, analyst, approver, approver2
):
    with _at(NOW):
        acceptance = services.accept_risk(
            actor=analyst,
            control=catalog.controls.get(ref="2.1.2"),
            resource=bucket.resource,
            owner=analyst,
            reason="risk_owned",
            justification=JUSTIFICATION,
            expires_at=EXPIRY,
        )
        services.update_acceptance(acceptance, actor=approver, expires_at=None)
        with pytest.raises(PermissionDenied, match="someone else must approve"):
            services.approve_acceptance(acceptance, actor=approver)
        services.approve_acceptance(acceptance, actor=approver2)
    acceptance.refresh_from_db()
    assert acceptance.state == "active" and acceptance.expires_at is None


def test_without_four_eyes_an_extension_applies_at_once(settings, approved, approver):
    settings.CSPM_REQUIRE_APPROVAL = False
    with _at(NOW + dt.timedelta(days=1)):
        assert (
            services.update_acceptance(approved, actor=approver, expires_at=None).proposed_change
            is None
        )
    approved.refresh_from_db()
    assert approved.expires_at is None
