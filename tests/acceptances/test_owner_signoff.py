"""Owner sign-off (issue 14, point 2): the named owner accepts the residual risk with their own
login; until then the acceptance awaits its owner and covers nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from acceptances import services
from acceptances.models import AcceptanceEvent, RiskAcceptance

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=3)


@pytest.fixture
def bucket(make_account, make_finding):
    return make_finding(account=make_account(), control_ref="2.1.2", name="story-images")


@pytest.fixture
def accept(catalog, bucket):
    def accept(actor, owner, **kwargs):
        return services.accept_risk(
            actor=actor,
            control=catalog.controls.get(ref="2.1.2"),
            resource=bucket.resource,
            owner=owner,
            reason="risk_owned",
            justification="MFA Delete needs the root user; versioning covers mistakes.",
            expires_at=NOW + dt.timedelta(days=30),
            now=NOW,
            **kwargs,
        )

    return accept


def _covered(finding) -> bool:
    finding.refresh_from_db()
    return finding.acceptance_id is not None


def _events(acceptance) -> list[tuple[str, dict]]:
    return list(acceptance.events.order_by("at", "pk").values_list("action", "changes"))


@pytest.fixture
def four_eyes(settings):
    settings.CSPM_REQUIRE_APPROVAL = True


@pytest.fixture
def one_pair_of_eyes(settings):
    settings.CSPM_REQUIRE_APPROVAL = False


# --- Creation -----------------------------------------------------------------------------------


def test_creating_it_as_its_owner_is_the_sign_off(one_pair_of_eyes, analyst, accept, bucket):
    acceptance = accept(analyst, analyst)
    assert acceptance.state == RiskAcceptance.State.ACTIVE
    assert acceptance.owner_signed_off_at == NOW
    assert _covered(bucket)
    (action, changes), *_ = _events(acceptance)
    assert action == AcceptanceEvent.Action.CREATED
    assert changes["owner_signed_off_at"] == [None, NOW.isoformat()]
    assert changes["state"] == [None, "active"]


def test_someone_else_as_owner_awaits_their_sign_off_and_covers_nothing(
    one_pair_of_eyes, analyst, approver, accept, bucket
):
    acceptance = accept(analyst, approver)
    assert acceptance.state == RiskAcceptance.State.AWAITING_OWNER
    assert acceptance.owner_signed_off_at is None
    assert not _covered(bucket)
    (action, changes), *_ = _events(acceptance)
    assert action == AcceptanceEvent.Action.CREATED
    assert changes["state"] == [None, "awaiting_owner"]
    assert "owner_signed_off_at" not in changes


def test_the_owner_signs_off_and_it_covers_its_findings(
    one_pair_of_eyes, analyst, approver, accept, bucket
):
    acceptance = accept(analyst, approver)
    signed = services.sign_off_acceptance(acceptance, actor=approver, note="Agreed.", now=LATER)
    assert signed.state == RiskAcceptance.State.ACTIVE
    assert signed.owner_signed_off_at == LATER
    assert _covered(bucket)
    event = signed.events.get(action=AcceptanceEvent.Action.SIGNED_OFF)
    assert event.actor == approver and event.at == LATER and event.note == "Agreed."
    assert event.changes == {
        "owner_signed_off_at": [None, LATER.isoformat()],
        "state": ["awaiting_owner", "active"],
    }


@pytest.mark.parametrize("who", ["analyst", "admin_user", "viewer"])
def test_only_the_owner_may_sign_off(one_pair_of_eyes, request, approver, accept, bucket, who):
    creator = request.getfixturevalue("analyst")
    acceptance = accept(creator, approver)
    with pytest.raises(PermissionDenied, match="Only the acceptance's owner, arthur-approver"):
        services.sign_off_acceptance(acceptance, actor=request.getfixturevalue(who))
    acceptance.refresh_from_db()
    assert acceptance.state == RiskAcceptance.State.AWAITING_OWNER
    assert acceptance.owner_signed_off_at is None
    assert not _covered(bucket)


def test_a_second_sign_off_and_one_of_an_ended_acceptance_are_refused(
    one_pair_of_eyes, analyst, approver, accept
):
    acceptance = accept(analyst, approver)
    services.sign_off_acceptance(acceptance, actor=approver, now=LATER)
    with pytest.raises(ValidationError, match="already accepted this residual risk"):
        services.sign_off_acceptance(acceptance, actor=approver)
    services.revoke_acceptance(acceptance, actor=approver)
    with pytest.raises(ValidationError):
        services.sign_off_acceptance(acceptance, actor=approver)

    other = accept(analyst, approver)
    services.revoke_acceptance(other, actor=approver)
    with pytest.raises(ValidationError, match="this one is revoked"):
        services.sign_off_acceptance(other, actor=approver)


# --- Four-eyes: approval and sign-off, in either order -----------------------------------------


def test_four_eyes_approval_first_then_sign_off(
    four_eyes, analyst, approver, approver2, accept, bucket
):
    acceptance = accept(analyst, approver2)
    assert acceptance.state == RiskAcceptance.State.PROPOSED
    approved = services.approve_acceptance(acceptance, actor=approver, now=LATER)
    assert approved.state == RiskAcceptance.State.AWAITING_OWNER
    assert not _covered(bucket)
    assert approved.events.get(action="approved").changes == {
        "state": ["proposed", "awaiting_owner"]
    }
    services.sign_off_acceptance(acceptance, actor=approver2, now=LATER)
    acceptance.refresh_from_db()
    assert acceptance.state == RiskAcceptance.State.ACTIVE
    assert _covered(bucket)


def test_four_eyes_sign_off_first_then_approval(
    four_eyes, analyst, approver, approver2, accept, bucket
):
    acceptance = accept(analyst, approver2)
    signed = services.sign_off_acceptance(acceptance, actor=approver2, now=LATER)
    # Signed off, but still a proposal: nothing covered until an approver approves it.
    assert signed.state == RiskAcceptance.State.PROPOSED
    assert signed.owner_signed_off_at == LATER
    assert not _covered(bucket)
    assert signed.events.get(action="signed_off").changes == {
        "owner_signed_off_at": [None, LATER.isoformat()]
    }
    approved = services.approve_acceptance(acceptance, actor=approver, now=LATER)
    assert approved.state == RiskAcceptance.State.ACTIVE
    assert _covered(bucket)


def test_four_eyes_a_self_owned_proposal_is_active_once_approved(
    four_eyes, analyst, approver, accept, bucket
):
    acceptance = accept(analyst, analyst)
    assert acceptance.state == RiskAcceptance.State.PROPOSED
    assert acceptance.owner_signed_off_at == NOW
    assert _events(acceptance)[0][0] == AcceptanceEvent.Action.PROPOSED
    assert _events(acceptance)[0][1]["owner_signed_off_at"] == [None, NOW.isoformat()]
    services.approve_acceptance(acceptance, actor=approver, now=LATER)
    acceptance.refresh_from_db()
    assert acceptance.state == RiskAcceptance.State.ACTIVE
    assert _covered(bucket)


# --- A new owner, a renewal: sign-off again ----------------------------------------------------


def test_a_new_owner_must_sign_off_again_and_the_findings_fail_meanwhile(
    one_pair_of_eyes, analyst, approver, approver2, accept, bucket
):
    acceptance = accept(analyst, analyst)
    assert _covered(bucket)
    services.update_acceptance(acceptance, actor=approver, owner=approver2, now=LATER)
    acceptance.refresh_from_db()
    assert acceptance.state == RiskAcceptance.State.AWAITING_OWNER
    assert acceptance.owner_signed_off_at is None
    assert not _covered(bucket)
    event = acceptance.events.get(action=AcceptanceEvent.Action.EDITED)
    assert event.changes["owner"] == ["ann-analyst", "ada-approver"]
    assert event.changes["owner_signed_off_at"] == [NOW.isoformat(), None]
    assert event.changes["state"] == ["active", "awaiting_owner"]
    services.sign_off_acceptance(acceptance, actor=approver2, now=LATER)
    assert _covered(bucket)


def test_naming_yourself_owner_is_your_sign_off(
    one_pair_of_eyes, analyst, approver, accept, bucket
):
    acceptance = accept(analyst, analyst)
    services.update_acceptance(acceptance, actor=approver, owner=approver, now=LATER)
    acceptance.refresh_from_db()
    assert acceptance.state == RiskAcceptance.State.ACTIVE
    assert acceptance.owner_signed_off_at == LATER
    assert _covered(bucket)
    event = acceptance.events.get(action=AcceptanceEvent.Action.EDITED)
    assert event.changes["owner_signed_off_at"] == [NOW.isoformat(), LATER.isoformat()]
    assert "state" not in event.changes


def test_a_new_owner_of_a_proposal_signs_it_off_before_it_comes_into_force(
    four_eyes, analyst, approver, approver2, admin_user, accept, bucket
):
    acceptance = accept(analyst, analyst)
    services.update_acceptance(acceptance, actor=approver, owner=approver2, now=LATER)
    acceptance.refresh_from_db()
    assert acceptance.state == RiskAcceptance.State.PROPOSED
    assert acceptance.owner_signed_off_at is None
    services.approve_acceptance(acceptance, actor=admin_user, now=LATER)
    acceptance.refresh_from_db()
    assert acceptance.state == RiskAcceptance.State.AWAITING_OWNER
    assert not _covered(bucket)


def test_a_renewal_asks_the_owner_again_unless_they_renew_it(
    one_pair_of_eyes, analyst, approver, accept, bucket
):
    acceptance = accept(analyst, analyst)
    expired_at = NOW + dt.timedelta(days=31)
    assert services.expire_due_acceptances(expired_at) == [acceptance.pk]
    assert not _covered(bucket)
    # The approver renews: the owner (the analyst) must accept the renewed risk.
    services.update_acceptance(
        acceptance, actor=approver, expires_at=expired_at + dt.timedelta(days=30), now=expired_at
    )
    acceptance.refresh_from_db()
    assert acceptance.state == RiskAcceptance.State.AWAITING_OWNER
    assert acceptance.owner_signed_off_at is None
    assert not _covered(bucket)
    event = acceptance.events.get(action=AcceptanceEvent.Action.REACCEPTED)
    assert event.changes["state"] == ["expired", "awaiting_owner"]
    assert event.changes["owner_signed_off_at"] == [NOW.isoformat(), None]
    services.sign_off_acceptance(acceptance, actor=analyst, now=expired_at)
    assert _covered(bucket)


def test_an_owner_who_renews_signs_off_by_renewing(one_pair_of_eyes, approver, accept, bucket):
    acceptance = accept(approver, approver)
    expired_at = NOW + dt.timedelta(days=31)
    services.expire_due_acceptances(expired_at)
    services.update_acceptance(
        acceptance, actor=approver, expires_at=expired_at + dt.timedelta(days=30), now=expired_at
    )
    acceptance.refresh_from_db()
    assert acceptance.state == RiskAcceptance.State.ACTIVE
    assert acceptance.owner_signed_off_at == expired_at
    assert _covered(bucket)


def test_an_acceptance_awaiting_its_owner_still_expires(
    one_pair_of_eyes, analyst, approver, accept
):
    acceptance = accept(analyst, approver)
    assert services.expire_due_acceptances(NOW + dt.timedelta(days=31)) == [acceptance.pk]
    acceptance.refresh_from_db()
    assert acceptance.state == RiskAcceptance.State.EXPIRED
    with pytest.raises(ValidationError):
        services.sign_off_acceptance(acceptance, actor=approver)


# --- The admin console ------------------------------------------------------------------------


def test_the_admin_shows_the_sign_off_and_signs_off_only_for_the_owner(
    one_pair_of_eyes, client, admin_user, approver, accept, bucket
):
    acceptance = accept(admin_user, approver)
    client.force_login(admin_user)
    url = "/admin/acceptances/riskacceptance/"
    page = client.get(f"{url}{acceptance.pk}/change/")
    assert page.status_code == 200
    assert b"Owner signed off at" in page.content and b"Awaiting the owner" in page.content
    # An admin is not the owner: the action refuses, naming who may.
    response = client.post(
        url, {"action": "sign_off_selected", "_selected_action": [acceptance.pk]}, follow=True
    )
    assert "Only the acceptance&#x27;s owner, arthur-approver" in response.content.decode()
    acceptance.refresh_from_db()
    assert acceptance.state == RiskAcceptance.State.AWAITING_OWNER
    assert not _covered(bucket)
    # The owner (an approver with the console) signs off through the same service.
    client.force_login(approver)
    response = client.post(
        url, {"action": "sign_off_selected", "_selected_action": [acceptance.pk]}, follow=True
    )
    assert "Signed off 1 acceptance(s)." in response.content.decode()
    acceptance.refresh_from_db()
    assert acceptance.state == RiskAcceptance.State.ACTIVE
    assert _covered(bucket)
    assert acceptance.events.filter(action="signed_off", actor=approver).exists()
