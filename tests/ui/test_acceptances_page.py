"""Acceptances and an acceptance's page: filters, history, approve, revoke, extend, renew."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from acceptances import services
from acceptances.models import RiskAcceptance
from findings.models import Finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def accept(estate, catalog, analyst):
    def make(*, zone=None, resource=None, ref="2.1.2", days=30, actor=None, **extra):
        return services.accept_risk(
            actor=actor or analyst,
            control=catalog.controls.get(ref=ref),
            zone=zone,
            resource=resource,
            owner=extra.pop("owner", analyst),
            reason=extra.pop("reason", "risk_owned"),
            justification="Reviewed with the web team.",
            expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
            **extra,
        )

    return make


@pytest.fixture
def no_appetite(db):
    """No risk appetite rules: these tests sort and filter an endless acceptance of 5.6 (high
    severity), which the shipped rules would refuse; the appetite is tested on its own."""
    from acceptances.models import AppetiteRule

    AppetiteRule.objects.all().delete()


def listed(response) -> list[int]:
    return [a.pk for a in response.context["page"]]


def test_it_lists_acceptances_soonest_expiry_first_and_filters_them(
    login, viewer, estate, accept, approver, no_appetite
):
    zone_wide = accept(zone=estate.prod, days=60)
    soon = accept(resource=estate.findings["scratch"].resource, days=5, reason="not_relevant")
    endless = accept(resource=estate.findings["imds"].resource, ref="5.6", days=None)
    client = login(viewer)
    url = reverse("acceptance-list")
    assert listed(client.get(url)) == [soon.pk, zone_wide.pk, endless.pk]
    assert listed(client.get(url, {"zone": estate.prod.pk})) == [zone_wide.pk]
    assert listed(client.get(url, {"control": "5.6"})) == [endless.pk]
    assert listed(client.get(url, {"reason": "not_relevant"})) == [soon.pk]
    assert listed(client.get(url, {"expires_within": 7})) == [soon.pk]
    services.revoke_acceptance(soon, actor=approver)
    assert listed(client.get(url, {"state": "revoked"})) == [soon.pk]
    assert listed(client.get(url, {"state": "active"})) == [zone_wide.pk, endless.pk]
    response = client.get(url, {"expires_within": "-3"})
    assert response.status_code == 200 and "expires_within" in response.context["form"].errors


def test_live_acceptances_come_before_revoked_ones(
    login, viewer, estate, accept, approver, no_appetite
):
    later = accept(zone=estate.prod, days=60)
    revoked = accept(resource=estate.findings["scratch"].resource, days=5)
    services.revoke_acceptance(revoked, actor=approver)
    endless = accept(resource=estate.findings["imds"].resource, ref="5.6", days=None)
    # The revoked one has the soonest end date, yet it no longer holds anything: last.
    response = login(viewer).get(reverse("acceptance-list"))
    assert listed(response) == [later.pk, endless.pk, revoked.pk]


def test_the_control_filter_matches_words_of_the_title(login, viewer, estate, accept):
    bucket = accept(zone=estate.prod)  # 2.1.2: "...MFA Delete is enabled on S3 buckets"
    imds = accept(resource=estate.findings["imds"].resource, ref="5.6")
    client = login(viewer)
    url = reverse("acceptance-list")
    assert listed(client.get(url, {"control": "IMDS"})) == [imds.pk]
    assert listed(client.get(url, {"control": "imdsv2 metadata"})) == [imds.pk]
    assert listed(client.get(url, {"control": "2.1.2"})) == [bucket.pk]
    assert listed(client.get(url, {"control": "no such words"})) == []


def test_no_longer_needed_ones_are_found_by_that_state(login, viewer, estate, accept):
    stale = accept(resource=estate.findings["scratch"].resource)
    RiskAcceptance.objects.filter(pk=stale.pk).update(stale_since=timezone.now())
    accept(zone=estate.prod)
    response = login(viewer).get(reverse("acceptance-list"), {"state": "stale"})
    assert listed(response) == [stale.pk]


def test_an_acceptance_page_shows_its_full_history(login, viewer, approver, estate, accept):
    acceptance = accept(zone=estate.prod)
    services.update_acceptance(
        acceptance, actor=approver, expires_at=timezone.now() + dt.timedelta(days=90)
    )
    services.revoke_acceptance(acceptance, actor=approver, note="The bucket went private.")
    response = login(viewer).get(reverse("acceptance-detail", args=[acceptance.pk]))
    assert [e.action for e in response.context["events"]] == ["revoked", "extended", "created"]
    assert b"The bucket went private." in response.content
    # A viewer is offered no action.
    for action in (b"Revoke</button>", b"Extend</button>", b"Approve</button>"):
        assert action not in response.content


def test_an_approver_revokes_and_the_findings_fail_again(login, approver, estate, accept):
    acceptance = accept(zone=estate.prod)
    assert Finding.objects.filter(acceptance=acceptance).count() == 2
    client = login(approver)
    url = reverse("acceptance-revoke", args=[acceptance.pk])
    response = client.post(url, {"note": ""})
    assert response.status_code == 400 and "note" in response.context["revoke_form"].errors
    response = client.post(url, {"note": "No longer public."})
    assert response.status_code == 302
    acceptance.refresh_from_db()
    assert acceptance.state == "revoked"
    assert not Finding.objects.filter(acceptance__isnull=False).exists()
    # Revoking twice says why, beside the form.
    again = client.post(url, {"note": "again"})
    assert again.status_code == 400 and "already revoked" in again.content.decode()


def test_an_approver_extends_an_active_one_and_renews_an_expired_one(
    login, approver, analyst, estate, accept
):
    acceptance = accept(zone=estate.prod, days=5)
    client = login(approver)
    url = reverse("acceptance-extend", args=[acceptance.pk])
    assert client.post(url, {"expiry": "90"}).status_code == 302
    acceptance.refresh_from_db()
    assert acceptance.expires_at > timezone.now() + dt.timedelta(days=89)
    assert acceptance.events.filter(action="extended").exists()
    # Expire it, then renew it: it covers its findings again.
    RiskAcceptance.objects.filter(pk=acceptance.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    services.expire_due_acceptances()
    assert not Finding.objects.filter(acceptance__isnull=False).exists()
    response = client.post(url, {"expiry": "date"})
    assert response.status_code == 400 and "expires_on" in response.context["extend_form"].errors
    assert client.post(url, {"expiry": "never"}).status_code == 302
    # Renewed by the approver: its owner (the analyst) accepts the renewed risk on the page.
    sign_off = reverse("acceptance-sign-off", args=[acceptance.pk])
    assert login(analyst).post(sign_off).status_code == 302
    acceptance.refresh_from_db()
    assert acceptance.state == "active" and acceptance.expires_at is None
    assert Finding.objects.filter(acceptance=acceptance).count() == 2


@override_settings(CSPM_REQUIRE_APPROVAL=True)
def test_a_proposal_is_approved_by_another_approver_only(
    login, approver, approver2, analyst, estate, accept
):
    proposal = accept(zone=estate.prod, actor=approver, owner=approver)
    assert proposal.state == "proposed"
    url = reverse("acceptance-approve", args=[proposal.pk])
    assert login(analyst).post(url).status_code == 403
    # The creator may not approve their own proposal (four eyes).
    assert login(approver).post(url).status_code == 403
    assert login(approver2).post(url).status_code == 302
    proposal.refresh_from_db()
    assert proposal.state == "active" and proposal.approved_by == approver2


@pytest.mark.parametrize("role", ["viewer", "analyst", "outsider"])
def test_roles_below_approver_cannot_revoke_or_extend(request, login, role, estate, accept):
    acceptance = accept(zone=estate.prod)
    events = acceptance.events.count()  # its creation and the coverage it recorded
    client = login(request.getfixturevalue(role))
    assert (
        client.post(reverse("acceptance-revoke", args=[acceptance.pk]), {"note": "x"}).status_code
        == 403
    )
    assert (
        client.post(
            reverse("acceptance-extend", args=[acceptance.pk]), {"expiry": "90"}
        ).status_code
        == 403
    )
    acceptance.refresh_from_db()
    assert acceptance.state == "active" and acceptance.events.count() == events


def test_outsiders_cannot_list_or_read_acceptances(login, outsider, estate, accept):
    acceptance = accept(zone=estate.prod)
    client = login(outsider)
    assert client.get(reverse("acceptance-list")).status_code == 403
    assert client.get(reverse("acceptance-detail", args=[acceptance.pk])).status_code == 403


def test_extending_counts_from_the_current_end_and_never_shortens(
    login, approver, analyst, estate, accept
):
    acceptance = accept(zone=estate.prod, days=90)
    current = acceptance.expires_at
    client = login(approver)
    page = client.get(reverse("acceptance-detail", args=[acceptance.pk]))
    # Each choice shows the date it leads to, counted from the current end.
    later = timezone.localtime(current + dt.timedelta(days=30))
    assert f"30 days (until {later:%Y-%m-%d})" in page.content.decode()
    url = reverse("acceptance-extend", args=[acceptance.pk])
    assert client.post(url, {"expiry": "30"}).status_code == 302
    acceptance.refresh_from_db()
    assert acceptance.expires_at == current + dt.timedelta(days=30)
    # An earlier date is refused, beside the date, and nothing changes.
    earlier = timezone.localdate() + dt.timedelta(days=10)
    response = client.post(url, {"expiry": "date", "expires_on": earlier.isoformat()})
    assert response.status_code == 400
    errors = response.context["extend_form"].errors["expires_on"]
    assert "extending never shortens" in errors[0] and "End earlier" in errors[0]
    acceptance.refresh_from_db()
    assert acceptance.expires_at == current + dt.timedelta(days=30)
    # Ending earlier is its own action, with its own button, recorded as an edit.
    assert b"End earlier</button>" in page.content
    shorten = reverse("acceptance-shorten", args=[acceptance.pk])
    far = timezone.localdate() + dt.timedelta(days=400)
    refused = client.post(shorten, {"expires_on": far.isoformat()})
    assert refused.status_code == 400 and "expires_on" in refused.context["shorten_form"].errors
    assert (
        client.post(
            shorten, {"expires_on": earlier.isoformat(), "note": "OS upgrade moved up."}
        ).status_code
        == 302
    )
    acceptance.refresh_from_db()
    assert timezone.localdate(acceptance.expires_at) == earlier
    assert acceptance.events.order_by("-pk").first().action == "edited"
    # An analyst may not change when it ends.
    assert login(analyst).post(shorten, {"expires_on": earlier.isoformat()}).status_code == 403
