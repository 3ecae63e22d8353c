"""The owner's sign-off on the acceptance page, and "awaiting owner" in lists and the overview."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from acceptances import services
from acceptances.models import RiskAcceptance

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_pair_of_eyes(settings):
    settings.CSPM_REQUIRE_APPROVAL = False


@pytest.fixture
def awaiting(estate, catalog, analyst, approver) -> RiskAcceptance:
    """Created by the analyst, owned by the approver."""
    return services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        resource=estate.findings["images"].resource,
        owner=approver,
        reason="risk_owned",
        justification="Reviewed with the web team.",
        expires_at=timezone.now() + dt.timedelta(days=30),
    )


def _page(client, acceptance) -> str:
    return client.get(reverse("acceptance-detail", args=[acceptance.pk])).content.decode()


def test_only_the_owner_sees_the_sign_off_button_with_what_they_accept(
    login, awaiting, analyst, approver, admin_user, viewer
):
    page = _page(login(approver), awaiting)
    assert 'data-testid="signoff-form"' in page
    assert "Accept the residual risk</button>" in page
    statement = re.search(r'data-testid="signoff-statement">(.*?)</p>', page, re.S).group(1)
    assert "I accept the residual risk of control 2.1.2" in statement
    assert "resource story-images" in statement
    assert f"until {timezone.localtime(awaiting.expires_at):%Y-%m-%d %H:%M}" in statement
    for other in (analyst, admin_user, viewer):
        page = _page(login(other), awaiting)
        assert 'data-testid="signoff-form"' not in page
        assert "Awaiting sign-off by arthur-approver" in page


def test_the_owner_signs_off_with_one_click_and_the_finding_is_accepted(approver, awaiting, estate):
    client = Client(enforce_csrf_checks=True)
    client.force_login(approver)
    page = _page(client, awaiting)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(
        reverse("acceptance-sign-off", args=[awaiting.pk]),
        {"csrfmiddlewaretoken": token},
        follow=True,
    )
    assert response.status_code == 200
    assert "you accepted the residual risk; it now covers its findings" in response.content.decode()
    awaiting.refresh_from_db()
    assert awaiting.state == RiskAcceptance.State.ACTIVE
    finding = estate.findings["images"]
    finding.refresh_from_db()
    assert finding.acceptance_id == awaiting.pk
    page = response.content.decode()
    assert 'data-testid="signoff-form"' not in page
    assert "residual risk accepted" in page


def test_a_post_without_csrf_token_or_by_someone_else_is_refused(approver, admin_user, awaiting):
    client = Client(enforce_csrf_checks=True)
    client.force_login(approver)
    assert client.post(reverse("acceptance-sign-off", args=[awaiting.pk])).status_code == 403
    other = Client()
    other.force_login(admin_user)
    assert other.post(reverse("acceptance-sign-off", args=[awaiting.pk])).status_code == 403
    assert other.get(reverse("acceptance-sign-off", args=[awaiting.pk])).status_code == 405
    awaiting.refresh_from_db()
    assert awaiting.state == RiskAcceptance.State.AWAITING_OWNER


def test_the_list_shows_awaiting_owner_with_its_age_and_filters_by_it(login, viewer, awaiting):
    client = login(viewer)
    page = client.get(reverse("acceptance-list"), {"state": "awaiting_owner"})
    assert [a.pk for a in page.context["page"]] == [awaiting.pk]
    html = page.content.decode()
    assert "Awaiting the owner&#x27;s sign-off" in html
    assert 'data-testid="awaiting-age">for 0' in html  # "for 0 minutes"
    assert [
        a.pk for a in client.get(reverse("acceptance-list"), {"state": "active"}).context["page"]
    ] == []


def test_the_overview_shows_the_owner_their_sign_off_and_everyone_who_awaits_whom(
    login, awaiting, approver, viewer
):
    mine = login(approver).get(reverse("home")).content.decode()
    panel = re.search(r'id="panel-my-signoffs".*?</details>', mine, re.S).group(0)
    assert f'data-acceptance="{awaiting.pk}"' in panel
    assert "Accept the residual risk of 2.1.2" in panel
    assert 'data-testid="my-signoffs-count">1<' in panel

    theirs = login(viewer).get(reverse("home")).content.decode()
    assert 'id="panel-my-signoffs"' not in theirs
    panel = re.search(r'id="panel-awaiting-owner".*?</details>', theirs, re.S).group(0)
    assert 'data-testid="awaiting-owner-count">1<' in panel
    assert "awaiting owner arthur-approver for" in panel
    assert "?state=awaiting_owner" in panel
