"""Bad input answers 400 naming the field the client sent: never a 500, never a silent guess."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from acceptances.models import RiskAcceptance

pytestmark = pytest.mark.django_db


def _post(client, url: str, body: str):
    return client.post(url, body, content_type="application/json")


@pytest.fixture
def base(estate, catalog) -> dict:
    return {
        "control": catalog.controls.get(ref="2.1.2").pk,
        "zone": estate["zone"].pk,
        "reason": "risk_owned",
        "justification": "Covered by an SCP.",
        "likelihood": 2,
        "impact": 3,
    }


@pytest.mark.parametrize("depth", [25, 600, 100_000])
def test_deeply_nested_json_answers_400_naming_the_field(api, analyst, base, depth):
    body = '{"justification": "x", "control": %s}' % ("[" * depth + "]" * depth)
    response = _post(api(analyst), "/api/v1/acceptances/", body)
    assert response.status_code == 400
    assert response.json() == {"control": ["Nested more than 20 levels deep."]}


def test_a_deeply_nested_body_without_fields_answers_400(api, analyst):
    response = _post(api(analyst), "/api/v1/zones/preview/", "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400 and "nested" in response.json()["detail"]


def test_ten_thousand_tag_rules_answer_400_naming_the_rules(api, approver, estate):
    rules = {"tags": [f"k{n}=v" for n in range(10_000)]}
    client = api(approver)
    for url in ("/api/v1/zones/preview/", "/api/v1/zones/"):
        response = _post(client, url, json.dumps({"name": "huge", "rules": rules}))
        assert response.status_code == 400, url
        assert list(response.json()) == ["rules"]


@pytest.mark.parametrize("field, value", [("zone", 1.5), ("control", 1.5), ("zone", True)])
def test_a_fractional_or_boolean_id_is_refused_not_rounded(api, analyst, base, field, value):
    """``"zone": 1.5`` was silently taken as zone 1."""
    response = _post(api(analyst), "/api/v1/acceptances/", json.dumps({**base, field: value}))
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not RiskAcceptance.objects.filter(justification="Covered by an SCP.").exists()


def test_a_fractional_account_id_does_not_start_a_scan(api, analyst, estate):
    response = _post(api(analyst), "/api/v1/scans/", json.dumps({"account": 1.5}))
    assert response.status_code == 400 and list(response.json()) == ["account"]


def test_a_past_end_date_is_reported_under_expires_on(api, analyst, approver, base, estate):
    body = {**base, "expiry": "date", "expires_on": "2000-01-01"}
    response = _post(api(analyst), "/api/v1/acceptances/", json.dumps(body))
    assert response.status_code == 400
    assert list(response.json()) == ["expires_on"]
    url = f"/api/v1/acceptances/{estate['acceptance'].pk}/extend/"
    response = _post(api(approver), url, json.dumps({"expiry": "date", "expires_on": "2000-01-01"}))
    assert response.status_code == 400 and list(response.json()) == ["expires_on"]
    # A past moment sent as expires_at is still reported under expires_at.
    response = _post(api(approver), url, json.dumps({"expires_at": "2000-01-01T00:00:00Z"}))
    assert response.status_code == 400 and list(response.json()) == ["expires_at"]


@pytest.mark.parametrize("raw", ["abc", "1.5", "²", ""])
def test_the_accept_page_answers_400_to_a_control_that_is_not_an_id(analyst, estate, raw):
    client = Client()
    client.force_login(analyst)
    response = client.get("/acceptances/new", {"control": raw})
    assert response.status_code == 400
    assert b"control" in response.content


def test_posting_the_accept_form_with_a_bad_control_shows_the_error(analyst, estate):
    client = Client()
    client.force_login(analyst)
    response = client.post("/acceptances/new", {"control": "abc", "scope": "zone"})
    assert response.status_code == 400
    assert "control" in response.context["form"].errors


@pytest.mark.parametrize(
    "url, param",
    [
        ("/api/v1/posture/", "zone"),
        ("/api/v1/posture/", "benchmark"),
        ("/api/v1/acceptances/would-cover/", "control"),
    ],
)
def test_a_non_ascii_digit_id_in_a_query_answers_400(api, viewer, estate, url, param):
    response = api(viewer).get(url, {param: "\u00b2"})  # "²" is a digit to str.isdigit()
    assert response.status_code == 400
    assert param in response.json()
