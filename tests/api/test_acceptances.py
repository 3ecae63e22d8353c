"""Acceptances: create (resource or zone), bulk, approve, revoke, extend, edit, history,
would-cover and filters; each refused to the roles that may not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from acceptances.models import AcceptanceEvent, RiskAcceptance

pytestmark = pytest.mark.django_db

URL = "/api/v1/acceptances/"


@pytest.fixture
def control_211(catalog):
    return catalog.controls.get(ref="2.1.1")


def _new(control, **extra):
    return {
        "control": control.pk,
        "reason": "mitigated",
        "justification": "A bucket policy at the organization level denies plain HTTP.",
        "likelihood": 2,
        "impact": 3,
        **extra,
    }


def test_an_analyst_accepts_for_one_resource(api, analyst, estate, control_211):
    other = estate["other"]
    response = api(analyst).post(URL, _new(control_211, resource=other.resource_id, expiry="30"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["scope"] == "resource" and body["owner"] == "ann-analyst"
    assert body["state"] == "active" and body["covered_count"] == 1
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert abs(expires - (timezone.now() + dt.timedelta(days=30))) < dt.timedelta(minutes=1)
    other.refresh_from_db()
    assert other.acceptance_id == body["id"]


def test_an_analyst_accepts_for_a_zone_with_an_owner(api, analyst, approver, estate, catalog):
    zone = estate["zone"]
    control = catalog.controls.get(ref="2.1.1")
    response = api(analyst).post(
        URL, _new(control, zone=zone.pk, owner=approver.username, expiry="never")
    )
    assert response.status_code == 201, response.json()
    assert response.json()["scope"] == "zone" and response.json()["owner"] == approver.username
    assert response.json()["expires_at"] is None


def test_accepting_names_each_bad_field(api, analyst, estate, control_211):
    client = api(analyst)
    response = client.post(URL, {"reason": "custom", "justification": ""})
    assert response.status_code == 400
    assert {"control", "justification"} <= set(response.json())
    response = client.post(
        URL,
        _new(control_211, reason="custom", resource=estate["other"].resource_id, expiry="date"),
    )
    assert response.status_code == 400 and "expires_on" in response.json()
    response = client.post(URL, _new(control_211, reason="custom"))
    assert {"reason_detail", "scope"} <= set(response.json())
    response = client.post(
        URL, _new(control_211, resource=estate["other"].resource_id, owner="nobody")
    )
    assert "owner" in response.json()
    past = (timezone.now() - dt.timedelta(days=1)).isoformat()
    response = client.post(
        URL, _new(control_211, resource=estate["other"].resource_id, expires_at=past)
    )
    assert response.json() == {"expires_at": ["The expiry must be in the future."]}
    # A second live acceptance of the same scope.
    taken = estate["acceptance"]
    response = client.post(URL, _new(taken.control, resource=taken.resource_id))
    assert response.status_code == 400 and "resource" in response.json()


@pytest.mark.parametrize("persona", ["viewer", "outsider"])
def test_viewers_and_outsiders_may_not_accept(api, request, persona, estate, control_211):
    user = request.getfixturevalue(persona)
    response = api(user).post(URL, _new(control_211, resource=estate["other"].resource_id))
    assert response.status_code == 403
    response = api(user).post(f"{URL}bulk/", {"items": [_new(control_211, zone=1)]})
    assert response.status_code == 403
    assert RiskAcceptance.objects.count() == 1


def test_bulk_creates_all_or_nothing_naming_each_bad_item(api, analyst, estate, catalog):
    client = api(analyst)
    other = estate["other"]
    good = _new(catalog.controls.get(ref="2.1.1"), resource=other.resource_id)
    # 2.1.4 is of high severity: the shipped risk appetite wants an end within 90 days.
    zone_wide = _new(catalog.controls.get(ref="2.1.4"), zone=estate["zone"].pk, expiry="30")
    duplicate = dict(good)
    response = client.post(f"{URL}bulk/", {"items": [good, zone_wide, duplicate]})
    assert response.status_code == 400
    errors = response.json()["items"]
    assert list(errors) == ["2"] and "resource" in errors["2"]
    assert RiskAcceptance.objects.count() == 1  # nothing of the batch stayed
    other.refresh_from_db()
    assert other.acceptance_id is None
    response = client.post(f"{URL}bulk/", {"items": [good, zone_wide]})
    assert response.status_code == 201
    assert [row["scope"] for row in response.json()] == ["resource", "zone"]
    assert RiskAcceptance.objects.count() == 3


def test_bulk_validates_item_types_and_size(api, analyst, estate):
    client = api(analyst)
    response = client.post(f"{URL}bulk/", {"items": [{"control": "x"}, {}]})
    assert response.status_code == 400
    errors = response.json()["items"]
    assert "control" in errors["0"] and "reason" in errors["1"]
    assert "items" in client.post(f"{URL}bulk/", {"items": []}).json()
    assert "items" in client.post(f"{URL}bulk/", {"items": [{}] * 501}).json()


def test_approval_needs_an_approver_other_than_the_creator(
    api, settings, analyst, approver, approver2, viewer, estate, control_211
):
    settings.CSPM_REQUIRE_APPROVAL = True
    response = api(approver).post(URL, _new(control_211, resource=estate["other"].resource_id))
    assert response.json()["state"] == "proposed"
    pk = response.json()["id"]
    assert api(viewer).post(f"{URL}{pk}/approve/").status_code == 403
    assert api(analyst).post(f"{URL}{pk}/approve/").status_code == 403
    own = api(approver).post(f"{URL}{pk}/approve/")
    assert own.status_code == 403 and "someone other" in own.json()["detail"]
    approved = api(approver2).post(f"{URL}{pk}/approve/")
    assert approved.status_code == 200 and approved.json()["state"] == "active"
    assert approved.json()["approved_by"] == approver2.username
    again = api(approver2).post(f"{URL}{pk}/approve/")
    assert again.status_code == 400 and "state" in again.json()


def test_an_approver_revokes_and_the_findings_fail_again(api, analyst, approver, estate):
    acceptance, failing = estate["acceptance"], estate["failing"]
    assert api(analyst).post(f"{URL}{acceptance.pk}/revoke/").status_code == 403
    response = api(approver).post(f"{URL}{acceptance.pk}/revoke/", {"note": "fixed soon"})
    assert response.status_code == 200 and response.json()["state"] == "revoked"
    assert response.json()["revoked_by"] == approver.username
    failing.refresh_from_db()
    assert failing.acceptance_id is None
    again = api(approver).post(f"{URL}{acceptance.pk}/revoke/")
    assert again.status_code == 400 and "state" in again.json()
    bad_note = api(approver).post(f"{URL}{acceptance.pk}/revoke/", {"note": ["x"]})
    assert bad_note.status_code == 400 and "note" in bad_note.json()


def test_an_approver_extends_with_a_date_or_a_preset(api, analyst, approver, estate):
    pk = estate["acceptance"].pk
    assert api(analyst).post(f"{URL}{pk}/extend/", {"expiry": "90"}).status_code == 403
    response = api(approver).post(
        f"{URL}{pk}/extend/", {"expiry": "date", "expires_on": "2099-01-31"}
    )
    # It had no end: a date would shorten it, which extending never does.
    assert response.status_code == 400 and list(response.json()) == ["expires_on"]
    RiskAcceptance.objects.filter(pk=pk).update(expires_at=timezone.now() + dt.timedelta(days=5))
    response = api(approver).post(
        f"{URL}{pk}/extend/", {"expiry": "date", "expires_on": "2099-01-31"}
    )
    assert response.status_code == 200
    assert response.json()["expires_at"].startswith("2099-01-31T23:59:59")
    later = (timezone.now() + dt.timedelta(days=400)).isoformat()
    response = api(approver).post(f"{URL}{pk}/extend/", {"expires_at": later, "note": "renewed"})
    # Before the current end (2099): refused, naming the field sent.
    assert response.status_code == 400 and list(response.json()) == ["expires_at"]
    assert "never shortens" in response.json()["expires_at"][0]
    # A preset counts from the current end, not from today.
    response = api(approver).post(f"{URL}{pk}/extend/", {"expiry": "30"})
    assert response.status_code == 200
    assert response.json()["expires_at"].startswith("2099-03-02T23:59:59")
    actions = list(
        AcceptanceEvent.objects.filter(acceptance_id=pk)
        .exclude(action="coverage")  # its coverage at creation; extending moves none
        .values_list("action", flat=True)
    )
    assert actions == ["created", "extended", "extended"]


def test_extending_names_the_missing_or_bad_expiry(api, approver, estate):
    pk = estate["acceptance"].pk
    client = api(approver)
    assert "expires_at" in client.post(f"{URL}{pk}/extend/", {}).json()
    assert "expiry" in client.post(f"{URL}{pk}/extend/", {"expiry": "365"}).json()
    both = client.post(f"{URL}{pk}/extend/", {"expiry": "7", "expires_at": "2099-01-01T00:00Z"})
    assert "expiry" in both.json()
    past = client.post(f"{URL}{pk}/extend/", {"expires_at": "2001-01-01T00:00:00Z"})
    assert past.json() == {"expires_at": ["The expiry must be in the future."]}


def test_an_approver_edits_the_justification(api, analyst, approver, estate):
    pk = estate["acceptance"].pk
    assert api(analyst).patch(f"{URL}{pk}/", {"justification": "x"}).status_code == 403
    response = api(approver).patch(f"{URL}{pk}/", {"justification": "Better reason."})
    assert response.status_code == 200 and response.json()["justification"] == "Better reason."
    blank = api(approver).patch(f"{URL}{pk}/", {"justification": ""})
    assert blank.status_code == 400 and "justification" in blank.json()


def test_the_history_tells_who_did_what(api, viewer, approver, outsider, estate):
    pk = estate["acceptance"].pk
    api(approver).post(f"{URL}{pk}/revoke/", {"note": "done"})
    history = api(viewer).get(f"{URL}{pk}/history/").json()
    # The API gives the whole record: the coverage counts too (the system's, no actor).
    assert [(e["action"], e["actor"]) for e in history] == [
        ("created", "ann-analyst"),
        ("coverage", None),
        ("revoked", "arthur-approver"),
        ("coverage", None),
    ]
    assert history[2]["changes"] == {"state": ["active", "revoked"]}
    assert history[3]["changes"] == {"covered": [history[1]["changes"]["covered"][1], 0]}
    assert api(outsider).get(f"{URL}{pk}/history/").status_code == 404
    assert api(viewer).get(f"{URL}424242/history/").status_code == 404


def test_would_cover_counts_open_failures_of_a_scope(api, viewer, outsider, estate, catalog):
    control = catalog.controls.get(ref="2.1.1")
    client = api(viewer)
    url = f"{URL}would-cover/"
    assert client.get(f"{url}?control={control.pk}&zone=1").json() == {"count": 1}
    zone = estate["zone"].pk
    assert client.get(f"{url}?control={control.pk}&zone={zone}").json() == {"count": 0}
    response = client.get(f"{url}?control={control.pk}")
    assert response.status_code == 400 and "scope" in response.json()
    assert "control" in client.get(f"{url}?zone=1").json()
    assert "resource" in client.get(f"{url}?control={control.pk}&resource=x").json()
    assert api(outsider).get(f"{url}?control={control.pk}&zone=1").status_code == 403


def test_acceptances_filter_by_state_zone_control_owner_reason_and_expiry(
    api, viewer, analyst, approver, estate, catalog
):
    zone_wide = RiskAcceptance.objects.get(pk=estate["acceptance"].pk)
    from acceptances import services

    zoned = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.1"),
        owner=approver,
        reason="transferred",
        justification="Insurance.",
        zone=estate["zone"],
        expires_at=timezone.now() + dt.timedelta(days=3),
    )
    # Named by the analyst, the owner accepts the residual risk: it is in force.
    services.sign_off_acceptance(zoned, actor=approver)
    client = api(viewer)

    def ids(query):
        response = client.get(f"{URL}?{query}")
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids("state=active") == {zone_wide.pk, zoned.pk}
    assert ids(f"zone={estate['zone'].pk}") == {zoned.pk}
    assert ids("scope=resource") == {zone_wide.pk}
    assert ids("control_ref=2.1.1") == {zoned.pk}
    assert ids(f"control={zone_wide.control_id}") == {zone_wide.pk}
    assert ids(f"owner={approver.username}") == {zoned.pk}
    assert ids("reason=transferred") == {zoned.pk}
    week = (timezone.now() + dt.timedelta(days=7)).isoformat().replace("+00:00", "Z")
    assert ids(f"expires_before={week}") == {zoned.pk}
    assert ids("ordering=-id") == {zone_wide.pk, zoned.pk}
    bad = client.get(f"{URL}?state=maybe&expires_before=soon&reason=x")
    assert bad.status_code == 400
    assert {"state", "expires_before", "reason"} <= set(bad.json())
