"""An approver attests a manual control (evidence, an end date): the control's page shows it,
others cannot record one, bad input is refused naming the field, and its author is reminded
once before it ends."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from acceptances import notifications, services
from acceptances.models import Attestation

pytestmark = pytest.mark.django_db


@pytest.fixture
def manual_control(catalog):
    control = catalog.controls.get(ref="1.1")
    assert not control.automated
    return control


def test_an_approver_attests_a_manual_control_and_the_page_shows_it(
    login, approver, viewer, manual_control, estate
):
    until = (timezone.localdate() + dt.timedelta(days=180)).isoformat()
    web = login(approver)
    page = reverse("control-detail", args=[manual_control.pk])
    assert "Record an attestation" in web.get(page).content.decode()
    response = web.post(
        reverse("control-attest", args=[manual_control.pk]),
        {"evidence": "Contact details reviewed with the account owner.", "expires_on": until},
        follow=True,
    )
    assert response.status_code == 200
    attestation = Attestation.objects.get(control=manual_control)
    assert attestation.attested_by == approver
    assert timezone.localtime(attestation.expires_at).date().isoformat() == until
    html = login(viewer).get(page).content.decode()
    assert f'data-attestation="{attestation.pk}"' in html
    assert "Contact details reviewed with the account owner." in html and "Current" in html
    assert "Record an attestation" not in html  # a viewer reads, cannot record


def test_only_approvers_attest_and_bad_input_names_the_field(
    login, analyst, approver, manual_control, catalog, estate
):
    url = reverse("control-attest", args=[manual_control.pk])
    future = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    assert login(analyst).post(url, {"evidence": "x", "expires_on": future}).status_code == 403
    web = login(approver)
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = web.post(url, {"evidence": "Checked.", "expires_on": past}, follow=True)
    assert "Holds until: The end date must be in the future." in response.content.decode()
    response = web.post(url, {"evidence": "", "expires_on": future}, follow=True)
    assert "Evidence:" in response.content.decode()
    automated = catalog.controls.get(ref="5.6")
    with pytest.raises(Exception, match="Only a manual control"):
        services.attest_control(
            actor=approver,
            control=automated,
            evidence="Checked.",
            expires_at=timezone.now() + dt.timedelta(days=5),
        )
    assert not Attestation.objects.exists()


def test_its_author_is_reminded_once_before_it_ends(approver, manual_control):
    now = timezone.now()
    soon = services.attest_control(
        actor=approver,
        control=manual_control,
        evidence="Checked.",
        expires_at=now + dt.timedelta(days=10),
        now=now - dt.timedelta(days=300),
    )
    services.attest_control(
        actor=approver,
        control=manual_control,
        evidence="Checked again.",
        expires_at=now + dt.timedelta(days=200),
        now=now,
    )
    mail.outbox.clear()
    assert notifications.send_attestation_reminders(now) == [soon.pk]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [approver.email]
    assert "1.1" in mail.outbox[0].subject
    assert notifications.send_attestation_reminders(now) == []  # claimed: never twice
    assert len(mail.outbox) == 1
