"""Ending an acceptance earlier through the API, as the page's "End earlier" does."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from acceptances.models import AcceptanceEvent, RiskAcceptance

pytestmark = pytest.mark.django_db

URL = "/api/v1/acceptances/"


def _ends_in(acceptance: RiskAcceptance, days: int) -> None:
    RiskAcceptance.objects.filter(pk=acceptance.pk).update(
        expires_at=timezone.now() + dt.timedelta(days=days)
    )


def test_an_approver_ends_it_earlier_and_its_findings_fail_from_then(api, approver, estate):
    acceptance, failing = estate["acceptance"], estate["failing"]
    _ends_in(acceptance, 60)
    day = timezone.localdate() + dt.timedelta(days=3)
    response = api(approver).post(
        f"{URL}{acceptance.pk}/end-earlier/", {"expires_on": day.isoformat(), "note": "fixed"}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["expires_at"].startswith(f"{day.isoformat()}T23:59:59")
    event = AcceptanceEvent.objects.filter(acceptance=acceptance).latest("at", "pk")
    assert event.note == "fixed" and event.actor == approver
    failing.refresh_from_db()
    assert failing.acceptance_id == acceptance.pk  # still covered until the new end
    # The new end passes: the expiry job reopens the finding.
    RiskAcceptance.objects.filter(pk=acceptance.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    call_command("expire_acceptances", verbosity=0)
    failing.refresh_from_db()
    assert failing.acceptance_id is None


def test_end_earlier_refuses_what_is_not_earlier_or_not_allowed(api, analyst, approver, estate):
    acceptance = estate["acceptance"]
    _ends_in(acceptance, 10)
    url = f"{URL}{acceptance.pk}/end-earlier/"
    later = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    assert api(analyst).post(url, {"expires_on": later}).status_code == 403
    response = api(approver).post(url, {"expires_on": later})
    assert response.status_code == 400 and "earlier date" in response.json()["expires_on"][0]
    past = (timezone.now() - dt.timedelta(days=1)).isoformat()
    response = api(approver).post(url, {"expires_at": past})
    assert response.status_code == 400 and list(response.json()) == ["expires_at"]
    assert api(approver).post(url, {}).status_code == 400
    both = api(approver).post(url, {"expires_on": later, "expires_at": past})
    assert both.status_code == 400 and "not both" in both.json()["expires_on"][0]
    assert api(approver).post(url, {"expires_on": "31/12/2099"}).status_code == 400
    acceptance.refresh_from_db()
    assert acceptance.expires_at > timezone.now() + dt.timedelta(days=9)  # unchanged
