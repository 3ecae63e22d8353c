"""What every endpoint shares: JSON errors (never a redirect, never a 500), role refusals,
invisible objects as 404, capped pages, throttled writes."""

from __future__ import annotations

import pytest

from findings.models import Control

pytestmark = pytest.mark.django_db

LISTS = [
    "accounts",
    "benchmarks",
    "controls",
    "resources",
    "scans",
    "findings",
    "zones",
    "acceptances",
    "posture",
    "posture/zones",
    "findings/export",
    "acceptances/export",
]


@pytest.mark.parametrize("name", LISTS)
def test_anonymous_requests_answer_401_in_json_not_a_login_redirect(api, name):
    response = api().get(f"/api/v1/{name}/")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("name", LISTS)
def test_an_outsider_is_refused_every_list(api, outsider, name):
    response = api(outsider).get(f"/api/v1/{name}/")
    assert response.status_code == 403
    assert "detail" in response.json()


@pytest.mark.parametrize("name", LISTS)
def test_a_viewer_reads_every_list(api, viewer, estate, name):
    assert api(viewer).get(f"/api/v1/{name}/").status_code == 200


def test_an_outsider_finds_no_single_object(api, outsider, estate):
    ids = {
        "accounts": estate["account"].pk,
        "findings": estate["failing"].pk,
        "resources": estate["failing"].resource_id,
        "zones": estate["zone"].pk,
        "acceptances": estate["acceptance"].pk,
    }
    client = api(outsider)
    for name, pk in ids.items():
        assert client.get(f"/api/v1/{name}/{pk}/").status_code == 404, name
    assert client.post(f"/api/v1/acceptances/{ids['acceptances']}/revoke/").status_code == 404


def test_seen_but_not_changeable_answers_403(api, viewer, estate):
    pk = estate["acceptance"].pk
    assert api(viewer).post(f"/api/v1/acceptances/{pk}/revoke/").status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/findings/abc/",
        "/api/v1/findings/99999999999999999999/",
        "/api/v1/findings/9223372036854775807/",
        "/api/v1/acceptances/-1/approve/",
        "/api/v1/nothing-here/",
    ],
)
def test_unknown_objects_and_paths_answer_404_in_json(api, viewer, path):
    response = api(viewer).get(path)
    assert response.status_code in (404, 405)
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "query,field",
    [
        ("account=abc", "account"),
        ("account=99999999999999999999999", "account"),
        ("zone=0", "zone"),
        ("status=broken", "status"),
        ("severity=urgent", "severity"),
        ("first_seen_after=yesterday", "first_seen"),
        ("last_seen_before=2026-13-45", "last_seen"),
        ("resource=1.5", "resource"),
    ],
)
def test_bad_filters_answer_400_naming_the_field(api, viewer, estate, query, field):
    response = api(viewer).get(f"/api/v1/findings/?{query}")
    assert response.status_code == 400
    assert any(key.startswith(field) for key in response.json()), response.json()


def test_non_json_bodies_answer_400_or_415(api, analyst, estate):
    client = api(analyst)
    broken = client.post("/api/v1/acceptances/", "{not json", content_type="application/json")
    assert broken.status_code == 400 and "detail" in broken.json()
    lone_surrogate = client.post(
        "/api/v1/acceptances/", '{"justification": "\\udc00"}', content_type="application/json"
    )
    assert lone_surrogate.status_code == 400
    form = client.post(
        "/api/v1/acceptances/", "a=b", content_type="application/x-www-form-urlencoded"
    )
    assert form.status_code == 415
    listed = client.post("/api/v1/acceptances/", [1, 2], format="json")
    assert listed.status_code == 400


def test_page_size_is_capped_and_bad_pages_are_not_found(api, viewer, catalog):
    client = api(viewer)
    response = client.get("/api/v1/controls/?page_size=100000")
    assert response.status_code == 200
    # Every loaded benchmark's controls (CIS v2.0.0 to v7.0.0 and FSBP) are more than 500: a
    # page holds 500 at most, and the next page carries on.
    body = response.json()
    assert len(body["results"]) == 500 < Control.objects.count()
    assert body["next"] and "page=2" in body["next"]
    assert len(client.get("/api/v1/controls/?page_size=5").json()["results"]) == 5
    assert client.get("/api/v1/controls/?page_size=-3").status_code == 200
    assert client.get("/api/v1/controls/?page=999").status_code == 404
    assert client.get("/api/v1/controls/?page=abc").status_code == 404


def test_the_page_size_cap_is_500(api, viewer, make_account):
    from findings.api.views import CloudAccountViewSet

    assert CloudAccountViewSet.pagination_class().max_page_size == 500


def test_writes_are_throttled_per_user(api, settings, approver, estate):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"writes": "2/minute", "auth_failure": "100/minute"},
    }
    client = api(approver)
    codes = [client.post("/api/v1/zones/preview/", {"rules": {}}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    # Reads are not throttled.
    assert client.get("/api/v1/zones/").status_code == 200


def test_session_writes_need_the_csrf_token(viewer, estate):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(viewer)
    response = client.post("/api/v1/zones/preview/", {"rules": {}}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_a_bad_throttle_rate_stops_start_up_naming_the_variable(tmp_path):
    from tests.test_settings import _manage

    result = _manage("check", CSPM_VAR_DIR=str(tmp_path), CSPM_API_WRITE_RATE="lots")
    assert result.returncode != 0
    assert "CSPM_API_WRITE_RATE='lots' is not a rate" in result.stderr
