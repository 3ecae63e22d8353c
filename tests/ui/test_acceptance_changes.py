"""Four-eyes on the acceptance page: the creator's extension to "never" is shown as a proposal
(the approved expiry stays); another approver sees Approve change and applies it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from acceptances import services
from acceptances.models import AcceptanceChange

pytestmark = pytest.mark.django_db


def test_an_extension_to_never_waits_for_another_approver(settings, estate, approver, approver2):
    settings.CSPM_REQUIRE_APPROVAL = True
    expiry = timezone.now() + dt.timedelta(days=7)
    acceptance = services.accept_risk(
        actor=approver,
        control=estate.findings["images"].control_check.controls.get(),
        resource=estate.findings["images"].resource,
        owner=approver,
        reason="risk_owned",
        justification="Versioning covers mistakes.",
        expires_at=expiry,
    )
    services.approve_acceptance(acceptance, actor=approver2)
    page = f"/acceptances/{acceptance.pk}/"
    creator = Client()
    creator.force_login(approver)
    response = creator.post(f"{page}extend", {"expiry": "never", "note": "for good"}, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "another approver must approve it" in text
    acceptance.refresh_from_db()
    assert acceptance.expires_at == expiry
    change = AcceptanceChange.objects.get(acceptance=acceptance, state="pending")
    approve_url = f"{page}changes/{change.pk}/approve"
    # The creator sees the proposal, may withdraw it, but gets no approve button...
    assert 'data-testid="pending-change"' in text and "Withdraw my proposal" in text
    assert approve_url not in text
    # ...and posting the approval anyway is refused.
    assert creator.post(approve_url).status_code == 403
    acceptance.refresh_from_db()
    assert acceptance.expires_at == expiry
    # Another approver approves it from the page.
    other = Client()
    other.force_login(approver2)
    assert approve_url in other.get(page).content.decode()
    response = other.post(approve_url, follow=True)
    assert "Change approved" in response.content.decode()
    acceptance.refresh_from_db()
    assert acceptance.expires_at is None
    assert acceptance.events.filter(action="change_approved", actor=approver2).exists()
