"""POST /api/v1/acceptances/<id>/sign-off/: the named owner accepts the residual risk."""

from __future__ import annotations

import pytest

from acceptances import services
from acceptances.models import RiskAcceptance

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_pair_of_eyes(settings):
    settings.CSPM_REQUIRE_APPROVAL = False


@pytest.fixture
def failing(catalog, make_account, make_finding):
    return make_finding(account=make_account(), control_ref="2.1.2", name="story-images")


@pytest.fixture
def awaiting(catalog, failing, analyst, approver) -> RiskAcceptance:
    """Created by the analyst, owned by the approver: awaiting the approver's sign-off."""
    return services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        resource=failing.resource,
        owner=approver,
        reason="risk_owned",
        justification="MFA Delete needs the root user; versioning covers mistakes.",
    )


def url(acceptance) -> str:
    return f"/api/v1/acceptances/{acceptance.pk}/sign-off/"


def test_it_shows_an_acceptance_awaiting_its_owner_and_filters_by_that_state(
    api, viewer, awaiting, catalog, make_finding, failing, analyst
):
    own = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        resource=make_finding(account=failing.resource.account, control_ref="2.1.2").resource,
        owner=analyst,
        reason="risk_owned",
        justification="Mine.",
    )
    body = api(viewer).get(f"/api/v1/acceptances/{awaiting.pk}/").json()
    assert body["state"] == "awaiting_owner"
    assert body["owner_signed_off_at"] is None
    assert body["covered_count"] == 0
    listed = api(viewer).get("/api/v1/acceptances/", {"state": "awaiting_owner"}).json()
    assert [row["id"] for row in listed["results"]] == [awaiting.pk]
    active = api(viewer).get("/api/v1/acceptances/", {"state": "active"}).json()
    assert [row["id"] for row in active["results"]] == [own.pk]
    assert active["results"][0]["owner_signed_off_at"] is not None


def test_the_owner_signs_off_and_it_covers_its_finding(api, approver, awaiting, failing):
    response = api(approver).post(url(awaiting), {"note": "Accepted."}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "active"
    assert body["owner_signed_off_at"] is not None
    assert body["covered_count"] == 1
    failing.refresh_from_db()
    assert failing.acceptance_id == awaiting.pk
    history = api(approver).get(f"/api/v1/acceptances/{awaiting.pk}/history/").json()
    signed = [e for e in history if e["action"] == "signed_off"]
    assert len(signed) == 1 and signed[0]["note"] == "Accepted."


@pytest.mark.parametrize("who", ["analyst", "admin_user", "approver2", "viewer"])
def test_anyone_but_the_owner_gets_403_naming_the_owner(request, api, awaiting, who):
    response = api(request.getfixturevalue(who)).post(url(awaiting))
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Only the acceptance's owner, arthur-approver, may accept its residual risk."
    )
    awaiting.refresh_from_db()
    assert awaiting.state == "awaiting_owner" and awaiting.owner_signed_off_at is None


def test_an_outsider_does_not_see_it(api, outsider, awaiting):
    assert api(outsider).post(url(awaiting)).status_code in (403, 404)


def test_400_when_it_awaits_no_sign_off(api, approver, awaiting):
    assert api(approver).post(url(awaiting)).status_code == 200
    response = api(approver).post(url(awaiting))
    assert response.status_code == 400
    assert "already accepted this residual risk" in response.json()["state"][0]
    services.revoke_acceptance(awaiting, actor=approver)
    response = api(approver).post(url(awaiting))
    assert response.status_code == 400 and "state" in response.json()


def test_a_bad_note_is_refused_naming_the_field(api, approver, awaiting):
    response = api(approver).post(url(awaiting), {"note": "x" * 2001}, format="json")
    assert response.status_code == 400 and "note" in response.json()
