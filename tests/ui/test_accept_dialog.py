"""The accept-risk dialog: scope, reason, justification, owner and expiry, with a live count."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from acceptances.models import AcceptanceEvent, RiskAcceptance
from findings.models import Finding

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)


def form_data(control, owner, **extra):
    return {
        "control": control.pk,
        "scope": "zone",
        "treatment": "retain",
        "reason": "risk_owned",
        "justification": "Images are public by design; reviewed quarterly.",
        "owner": owner.pk,
        "likelihood": 3,
        "impact": 3,
        "expiry": "30",
        **extra,
    }


def test_the_dialog_shows_how_many_findings_the_scope_would_cover(login, analyst, estate, catalog):
    control = catalog.controls.get(ref="2.1.2")
    client = login(analyst)
    response = client.get(reverse("accept-risk"), {"control": control.pk, "zone": estate.prod.pk})
    assert response.status_code == 200
    assert response.context["preview"]["count"] == 2
    # The count follows the scope as it changes, without saving anything.
    preview = client.post(
        reverse("accept-preview"),
        {
            "control": control.pk,
            "scope": "resources",
            "resources": [estate.findings["scratch"].resource_id],
        },
    )
    assert preview.context["preview"]["count"] == 1
    assert not RiskAcceptance.objects.exists()


def test_the_count_leaves_out_findings_another_acceptance_covers(
    login, analyst, approver, estate, catalog
):
    from acceptances import services
    from acceptances.models import Zone

    control = catalog.controls.get(ref="2.1.2")
    services.accept_risk(
        actor=approver,
        control=control,
        zone=estate.prod,
        owner=approver,
        reason="risk_owned",
        justification="Prod buckets are public by design.",
    )
    client = login(analyst)
    url = reverse("accept-preview")
    everywhere = client.post(
        url, {"control": control.pk, "scope": "zone", "zone": Zone.objects.get(is_builtin=True).pk}
    )
    text = everywhere.content.decode()
    assert everywhere.context["preview"]["count"] == 1
    assert "1</strong> open failing finding would be covered" in text
    assert "2</strong> are covered by another acceptance already" in text
    # The same zone again: nothing left to cover, and saving would be refused; it says so.
    same = client.post(url, {"control": control.pk, "scope": "zone", "zone": estate.prod.pk})
    assert same.context["preview"]["count"] == 0
    assert "already has a live acceptance in zone prod" in same.content.decode()
    picked = client.post(
        url,
        {
            "control": control.pk,
            "scope": "resources",
            "resources": [estate.findings["images"].resource_id],
        },
    )
    assert picked.context["preview"]["count"] == 0
    assert picked.context["preview"]["already_covered"] == 1


@time_machine.travel(NOW, tick=False)
def test_accepting_for_a_zone_for_30_days_covers_its_failures(login, analyst, estate, catalog):
    control = catalog.controls.get(ref="2.1.2")
    response = login(analyst).post(
        reverse("accept-risk"),
        form_data(control, analyst, zone=estate.prod.pk),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    # The page behind the dialog is told to refresh its counts.
    assert "posture-changed" in response["HX-Trigger"]
    acceptance = RiskAcceptance.objects.get()
    assert acceptance.state == "active" and acceptance.zone == estate.prod
    assert acceptance.expires_at == NOW + dt.timedelta(days=30)
    assert acceptance.covered_findings.count() == 2
    assert AcceptanceEvent.objects.filter(acceptance=acceptance, action="created").exists()


def test_a_selection_of_resources_gets_one_acceptance_each(login, analyst, estate, catalog):
    control = catalog.controls.get(ref="2.1.2")
    picked = [estate.findings["scratch"].resource_id, estate.findings["logs"].resource_id]
    response = login(analyst).post(
        reverse("accept-risk"),
        form_data(control, analyst, scope="resources", resources=picked, expiry="never"),
    )
    assert response.status_code == 302
    acceptances = RiskAcceptance.objects.all()
    assert sorted(a.resource_id for a in acceptances) == sorted(picked)
    assert all(a.expires_at is None for a in acceptances)
    assert Finding.objects.filter(acceptance__isnull=False).count() == 2


def test_errors_are_shown_beside_their_fields_and_nothing_is_saved(login, analyst, estate, catalog):
    control = catalog.controls.get(ref="2.1.2")
    client = login(analyst)
    response = client.post(
        reverse("accept-risk"),
        form_data(
            control, analyst, zone=estate.prod.pk, justification="", reason="custom", expiry="date"
        ),
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "justification" in errors
    assert "expires_on" in errors  # "until a date" without a date
    assert not RiskAcceptance.objects.exists()
    # A date in the past is refused beside the date field; so is a custom reason unexplained.
    past = (timezone.now() - dt.timedelta(days=2)).date().isoformat()
    response = client.post(
        reverse("accept-risk"),
        form_data(control, analyst, zone=estate.prod.pk, expiry="date", expires_on=past),
    )
    assert "expires_on" in response.context["form"].errors
    response = client.post(
        reverse("accept-risk"), form_data(control, analyst, zone=estate.prod.pk, reason="custom")
    )
    assert "reason_detail" in response.context["form"].errors
    assert not RiskAcceptance.objects.exists()


def test_a_second_acceptance_on_the_same_zone_is_refused_beside_the_zone(
    login, analyst, estate, catalog
):
    control = catalog.controls.get(ref="2.1.2")
    client = login(analyst)
    data = form_data(control, analyst, zone=estate.prod.pk)
    assert client.post(reverse("accept-risk"), data).status_code == 302
    response = client.post(reverse("accept-risk"), data)
    assert response.status_code == 400
    assert "already has a live acceptance" in str(response.context["form"].errors["zone"])
    assert RiskAcceptance.objects.count() == 1


def test_a_bad_resource_in_a_selection_refuses_the_whole_selection(login, analyst, estate, catalog):
    control = catalog.controls.get(ref="2.1.2")
    wrong = estate.findings["imds"].resource_id  # 2.1.2 is not evaluated on an instance
    response = login(analyst).post(
        reverse("accept-risk"),
        form_data(
            control,
            analyst,
            scope="resources",
            resources=[estate.findings["scratch"].resource_id, wrong],
        ),
    )
    assert response.status_code == 400
    assert "not evaluated" in str(response.context["form"].errors["resources"])
    assert not RiskAcceptance.objects.exists()


def test_viewers_and_outsiders_cannot_open_or_post_the_dialog(
    login, viewer, outsider, estate, catalog
):
    control = catalog.controls.get(ref="2.1.2")
    for user in (viewer, outsider):
        client = login(user)
        assert client.get(reverse("accept-risk"), {"control": control.pk}).status_code == 403
        data = form_data(control, user, zone=estate.prod.pk)
        assert client.post(reverse("accept-risk"), data).status_code == 403
        assert client.post(reverse("accept-preview"), data).status_code == 403
    assert not RiskAcceptance.objects.exists()


def test_the_form_refuses_a_post_without_csrf_token(analyst, estate, catalog):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)
    control = catalog.controls.get(ref="2.1.2")
    response = client.post(reverse("accept-risk"), form_data(control, analyst, zone=estate.prod.pk))
    assert response.status_code == 403
    assert not RiskAcceptance.objects.exists()


@override_settings(CSPM_REQUIRE_APPROVAL=True)
def test_with_approval_required_the_pages_say_propose(login, analyst, estate, catalog):
    control = catalog.controls.get(ref="2.1.2")
    client = login(analyst)
    page = client.get(reverse("control-detail", args=[control.pk])).content.decode()
    assert "Propose acceptance in a zone…" in page and "Accept risk in a zone…" not in page
    dialog = client.get(reverse("accept-risk"), {"control": control.pk}, HTTP_HX_REQUEST="true")
    assert b"Propose acceptance</button>" in dialog.content
    response = client.post(
        reverse("accept-risk"),
        form_data(control, analyst, zone=estate.prod.pk),
        HTTP_HX_REQUEST="true",
    )
    assert b"Acceptance proposed" in response.content
    proposal = RiskAcceptance.objects.get()
    assert proposal.state == "proposed" and proposal.covered_findings.count() == 0
    detail = client.get(reverse("acceptance-detail", args=[proposal.pk])).content.decode()
    assert "Proposed: it covers nothing until an approver other than ann-analyst" in detail
