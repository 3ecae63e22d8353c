"""A refused self-approval is recorded in the history (``approval_refused``, with who tried)
and the approval stays refused, whichever door it came through: the services, the page, the
API and the admin console; for a proposal and for a proposed change."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from acceptances import services
from acceptances.models import AcceptanceChange, AcceptanceEvent, RiskAcceptance

pytestmark = pytest.mark.django_db

REFUSED = AcceptanceEvent.Action.APPROVAL_REFUSED


@pytest.fixture
def proposal(settings, catalog, make_account, make_finding, approver):
    """A proposal (four-eyes on) its creator, an approver, may not approve."""
    settings.CSPM_REQUIRE_APPROVAL = True
    finding = make_finding(account=make_account())
    return services.accept_risk(
        actor=approver,
        control=catalog.controls.get(ref="2.1.2"),
        resource=finding.resource,
        owner=approver,
        reason="risk_owned",
        justification="Versioning covers mistakes.",
        expires_at=timezone.now() + dt.timedelta(days=7),
    )


@pytest.fixture
def change(proposal, approver, approver2) -> AcceptanceChange:
    """A change to never, proposed by the approver after another approved the acceptance."""
    services.approve_acceptance(proposal, actor=approver2)
    services.update_acceptance(proposal, actor=approver, expires_at=None)
    return AcceptanceChange.objects.get(acceptance=proposal, state="pending")


def _refusals(acceptance: RiskAcceptance):
    return acceptance.events.filter(action=REFUSED)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_refusal_is_committed_though_the_approval_rolled_back(committed_db, proposal, approver):
    # No test transaction around it: the service's own transaction rolls back, the refusal's
    # commits (read here through a new connection).
    assert not connection.in_atomic_block
    with pytest.raises(PermissionDenied, match="someone other than its creator"):
        services.approve_acceptance(proposal, actor=approver)
    connection.close()
    event = AcceptanceEvent.objects.get(acceptance=proposal, action=REFUSED)
    assert event.actor == approver and "someone other than its creator" in event.note
    proposal.refresh_from_db()
    assert proposal.state == "proposed" and proposal.approved_by is None


def test_the_service_records_each_attempt_and_refuses_each(proposal, approver):
    for _ in range(2):
        with pytest.raises(PermissionDenied):
            services.approve_acceptance(proposal, actor=approver)
    assert list(_refusals(proposal).values_list("actor", flat=True)) == [approver.pk] * 2
    proposal.refresh_from_db()
    assert proposal.state == "proposed"


def test_an_approver_who_changed_the_terms_is_refused_and_recorded(proposal, approver2):
    services.update_acceptance(proposal, actor=approver2, justification="My own wording.")
    with pytest.raises(PermissionDenied, match="changed this proposal's terms"):
        services.approve_acceptance(proposal, actor=approver2)
    assert _refusals(proposal).get().actor == approver2


def test_what_is_not_a_self_approval_is_not_recorded(proposal, approver, analyst, approver2):
    with pytest.raises(PermissionDenied):
        services.approve_acceptance(proposal, actor=analyst)  # no approver role at all
    services.approve_acceptance(proposal, actor=approver2)
    with pytest.raises(ValidationError):
        services.approve_acceptance(proposal, actor=approver)  # not a proposal any more
    assert not _refusals(proposal).exists()


def test_a_change_approved_by_its_proposer_is_refused_and_recorded(change, approver):
    with pytest.raises(PermissionDenied, match="someone other than its proposer"):
        services.approve_acceptance_change(change, actor=approver)
    event = _refusals(change.acceptance).get()
    assert event.actor == approver and "someone other than its proposer" in event.note
    change.refresh_from_db()
    assert change.state == "pending"
    assert change.acceptance.expires_at is not None


def test_the_page_records_refused_approvals(proposal, change, approver):
    client = _client(approver)
    page = f"/acceptances/{proposal.pk}/"
    assert client.post(f"{page}changes/{change.pk}/approve").status_code == 403
    assert _refusals(proposal).count() == 1
    change.refresh_from_db()
    assert change.state == "pending"


def test_the_page_records_a_refused_proposal_approval(proposal, approver):
    assert _client(approver).post(f"/acceptances/{proposal.pk}/approve").status_code == 403
    assert _refusals(proposal).get().actor == approver
    proposal.refresh_from_db()
    assert proposal.state == "proposed"


def test_the_api_records_refused_approvals(proposal, approver, approver2):
    client = APIClient()
    client.force_login(approver)
    url = f"/api/v1/acceptances/{proposal.pk}/"
    response = client.post(f"{url}approve/")
    assert response.status_code == 403 and "someone other" in response.json()["detail"]
    assert _refusals(proposal).get().actor == approver
    services.approve_acceptance(proposal, actor=approver2)
    services.update_acceptance(proposal, actor=approver, expires_at=None)
    change = AcceptanceChange.objects.get(acceptance=proposal, state="pending")
    response = client.post(f"{url}approve-change/", {"change": change.pk}, format="json")
    assert response.status_code == 403
    assert _refusals(proposal).count() == 2
    proposal.refresh_from_db()
    assert proposal.expires_at is not None


def test_the_admin_console_records_refused_approvals(proposal, approver, approver2):
    client = _client(approver)
    changelist = reverse("admin:acceptances_riskacceptance_changelist")
    response = client.post(
        changelist,
        {"action": "approve_selected", "_selected_action": [proposal.pk]},
        follow=True,
    )
    assert "someone other than its creator" in response.content.decode()
    assert _refusals(proposal).get().actor == approver
    services.approve_acceptance(proposal, actor=approver2)
    services.update_acceptance(proposal, actor=approver, expires_at=None)
    client.post(
        changelist, {"action": "approve_pending_changes", "_selected_action": [proposal.pk]}
    )
    assert _refusals(proposal).count() == 2
    assert AcceptanceChange.objects.get(acceptance=proposal).state == "pending"


def test_the_audit_log_lists_the_refusals(proposal, approver, viewer):
    with pytest.raises(PermissionDenied):
        services.approve_acceptance(proposal, actor=approver)
    text = _client(viewer).get("/audit/", {"action": "approval_refused"}).content.decode()
    assert "Approval refused (self-approval)" in text
    assert f'data-event="{_refusals(proposal).get().pk}"' in text
    assert text.count("data-event=") == 1
