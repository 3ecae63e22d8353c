"""Compensating controls and re-review through the API: named on create and update (400
naming the field on bad input), shown with their verdicts; ``needs_review`` filter and the
``reviewed`` action, each refused to who may not."""

from __future__ import annotations

import pytest

from acceptances.models import AcceptanceEvent, RiskAcceptance
from acceptances.services import compensation
from findings.models import Finding

pytestmark = pytest.mark.django_db

URL = "/api/v1/acceptances/"


def _new(control, **extra):
    return {
        "control": control.pk,
        "reason": "mitigated",
        "justification": "Compensated by another control.",
        "likelihood": 2,
        "impact": 3,
        **extra,
    }


def test_an_acceptance_names_compensating_controls_and_shows_their_verdicts(
    api, analyst, estate, catalog
):
    other, passing = estate["other"], estate["passing"]
    response = api(analyst).post(
        URL,
        _new(
            catalog.controls.get(ref="2.1.1"),
            resource=other.resource_id,
            compensating_controls=[
                {"control": catalog.controls.get(ref="2.1.2").pk, "resource": passing.resource_id}
            ],
            compensating_measures="A bucket policy at the organization level.",
        ),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "active" and body["covered_count"] == 1
    assert body["compensating_measures"] == "A bucket policy at the organization level."
    [row] = body["compensating_controls"]
    assert row["control_ref"] == "2.1.2" and row["resource"] == passing.resource_id
    assert row["verdict"] == "passing" and row["failing_since"] is None
    assert body["needs_review"] is False and body["suspended_at"] is None
    created = RiskAcceptance.objects.get(pk=body["id"]).events.get(action="created")
    assert created.changes["compensating_controls"] == [None, [f"2.1.2 on {passing.resource}"]]
    assert created.changes["compensating_measures"][1].startswith("A bucket policy")


def test_a_compensating_control_failing_already_suspends_at_once(api, analyst, estate, catalog):
    other, failing = estate["other"], estate["failing"]
    response = api(analyst).post(
        URL,
        _new(
            catalog.controls.get(ref="2.1.1"),
            resource=other.resource_id,
            compensating_controls=[
                {"control": catalog.controls.get(ref="2.1.2").pk, "resource": failing.resource_id}
            ],
        ),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "suspended" and body["covered_count"] == 0
    assert body["compensating_controls"][0]["verdict"] == "failing"
    other.refresh_from_db()
    assert other.acceptance_id is None


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"control": "self"}, "accepted control itself"),
        ({"control": "2.1.2", "resource": "other"}, "not evaluated on"),
        ({"control": 999999}, "does not exist"),
        ({"resource": "other"}, "required"),
    ],
)
def test_bad_compensating_controls_are_refused_naming_the_field(
    api, analyst, estate, catalog, item, message
):
    accepted = catalog.controls.get(ref="2.1.1")
    ids = {
        "self": accepted.pk,
        "2.1.2": catalog.controls.get(ref="2.1.2").pk,
        "other": estate["other"].resource_id,
    }
    item = {k: ids.get(v, v) for k, v in item.items()}
    response = api(analyst).post(
        URL,
        _new(accepted, resource=estate["other"].resource_id, compensating_controls=[item]),
        format="json",
    )
    assert response.status_code == 400
    assert "compensating_controls" in response.json()
    assert message in str(response.json()["compensating_controls"])
    assert not RiskAcceptance.objects.filter(control=accepted).exists()


def test_an_approver_replaces_the_compensating_controls_and_the_history_says_so(
    api, analyst, approver, estate, catalog
):
    acceptance = estate["acceptance"]  # 2.1.2 on the failing bucket
    control = catalog.controls.get(ref="2.1.1")
    url = f"{URL}{acceptance.pk}/"
    refused = api(analyst).patch(url, {"compensating_controls": []}, format="json")
    assert refused.status_code == 403
    response = api(approver).patch(
        url,
        {"compensating_controls": [{"control": control.pk}], "note": "Org policy"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    [row] = response.json()["compensating_controls"]
    # Without a resource: 2.1.1 must fail nowhere in the acceptance's scope (its bucket has
    # no finding of it: it holds).
    assert row["control_ref"] == "2.1.1" and row["resource"] is None
    assert row["verdict"] == "passing"
    event = acceptance.events.filter(action=AcceptanceEvent.Action.EDITED).latest("pk")
    assert event.changes == {"compensating_controls": [[], ["2.1.1"]]}
    assert event.actor == approver and event.note == "Org policy"


def test_needs_review_filter_and_the_reviewed_action(api, analyst, viewer, estate):
    acceptance, failing = estate["acceptance"], estate["failing"]
    assert acceptance.review_baselines.count() == 1
    # What a scan writes when the bucket's configuration changed while it still fails.
    Finding.objects.filter(pk=failing.pk).update(
        evidence={"versioning": "Suspended"}, evidence_digest=42
    )
    assert compensation.check_reviews() == [acceptance.pk]

    listed = api(viewer).get(URL, {"needs_review": "true"}).json()["results"]
    assert [a["id"] for a in listed] == [acceptance.pk]
    assert listed[0]["review_reason"]["findings"][0]["after"] == {"versioning": "Suspended"}
    assert api(viewer).get(URL, {"needs_review": "false"}).json()["count"] == 0

    url = f"{URL}{acceptance.pk}/reviewed/"
    assert api(viewer).post(url, {"note": "Fine"}, format="json").status_code == 403
    missing = api(analyst).post(url, {}, format="json")
    assert missing.status_code == 400 and "note" in missing.json()
    done = api(analyst).post(url, {"note": "Suspended versioning is known."}, format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["needs_review"] is False and done.json()["review_reason"] == {}
    again = api(analyst).post(url, {"note": "Again"}, format="json")
    assert again.status_code == 400
    assert acceptance.review_baselines.get().evidence_digest == 42
