"""The API: the assessment required on create (400 naming the level), shown in the output and
the export; the risk appetite refusing with the rule named (400); the rules read-only."""

from __future__ import annotations

import csv
import io

import pytest

from acceptances.models import AppetiteRule, RiskAcceptance

pytestmark = pytest.mark.django_db

URL = "/api/v1/acceptances/"
RULES = "/api/v1/appetite-rules/"


@pytest.fixture
def imds(make_account, make_finding):
    """5.6 (high severity) failing on an instance."""
    return make_finding(
        account=make_account(), control_ref="5.6", resource_type="AWS::EC2::Instance"
    )


def _new(catalog, finding, **extra):
    body = {
        "control": catalog.controls.get(ref="5.6").pk,
        "resource": finding.resource_id,
        "reason": "risk_owned",
        "justification": "Until the OS upgrade lands.",
        "likelihood": 3,
        "impact": 4,
        "expiry": "30",
    }
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


def test_the_assessment_is_required_and_each_level_named(api, analyst, catalog, imds):
    client = api(analyst)
    response = client.post(URL, _new(catalog, imds, likelihood=None, impact=None), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "likelihood": ["Rate the likelihood, 1 to 5."],
        "impact": ["Rate the impact, 1 to 5."],
    }
    response = client.post(URL, _new(catalog, imds, likelihood=0, impact=6), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "likelihood": ["The likelihood is a level from 1 to 5."],
        "impact": ["The impact is a level from 1 to 5."],
    }
    assert not RiskAcceptance.objects.exists()


def test_the_assessment_and_its_rating_are_in_the_output_and_the_export(
    api, analyst, viewer, catalog, imds
):
    response = api(analyst).post(
        URL,
        _new(catalog, imds, compensating_measures="Only reachable from the VPN."),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["severity"] == "high"
    assert (body["likelihood"], body["impact"], body["residual_rating"]) == (3, 4, "high")
    assert body["compensating_measures"] == "Only reachable from the VPN."
    assert body["renewals"] == 0
    history = api(viewer).get(f"{URL}{body['id']}/history/").json()
    assert history[0]["changes"]["residual_rating"] == [None, "high"]
    export = api(viewer).get(f"{URL}export/?format=csv")
    text = b"".join(export.streaming_content).decode()
    row = next(csv.DictReader(io.StringIO(text)))
    assert (row["likelihood"], row["impact"], row["residual_rating"], row["severity"]) == (
        "3",
        "4",
        "high",
        "high",
    )


def test_the_appetite_refuses_with_the_rule_named(api, analyst, catalog, imds):
    client = api(analyst)
    response = client.post(URL, _new(catalog, imds, expiry="never"), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "expires_at": [
            "Risk appetite rule “High: at most 90 days” does not allow an acceptance with no end."
        ]
    }
    bulk = client.post(
        f"{URL}bulk/", {"items": [_new(catalog, imds, expiry="never")]}, format="json"
    )
    assert bulk.status_code == 400
    assert "High: at most 90 days" in str(bulk.json()["items"]["0"]["expires_at"])
    assert not RiskAcceptance.objects.exists()


def test_extending_beyond_the_rule_is_refused_and_a_new_assessment_is_recorded(
    api, analyst, approver, catalog, imds
):
    created = api(analyst).post(URL, _new(catalog, imds, expiry="60"), format="json").json()
    client = api(approver)
    response = client.post(f"{URL}{created['id']}/extend/", {"expiry": "60"}, format="json")
    assert response.status_code == 400
    assert "Risk appetite rule “High: at most 90 days” allows at most 90 days" in str(
        response.json()["expires_at"]
    )
    response = client.patch(f"{URL}{created['id']}/", {"likelihood": 5, "impact": 5}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["residual_rating"] == "critical"
    bad = client.patch(f"{URL}{created['id']}/", {"impact": 7}, format="json")
    assert bad.status_code == 400 and list(bad.json()) == ["impact"]


def test_a_rule_naming_admins_refuses_an_approvers_approval(
    api, settings, analyst, approver, admin_user, catalog, imds
):
    settings.CSPM_REQUIRE_APPROVAL = True
    AppetiteRule.objects.create(name="High: admins approve", severity="high", approver_role="admin")
    created = api(analyst).post(URL, _new(catalog, imds), format="json").json()
    response = api(approver).post(f"{URL}{created['id']}/approve/")
    assert response.status_code == 400
    assert response.json() == {
        "approval": ["Risk appetite rule “High: admins approve” requires approval by an admin."]
    }
    assert api(admin_user).post(f"{URL}{created['id']}/approve/").json()["state"] == "active"


def test_viewers_read_the_rules_and_nobody_writes_them_here(api, viewer, admin_user, outsider, db):
    rows = api(viewer).get(RULES).json()["results"]
    critical = next(r for r in rows if r["name"] == "Critical: at most 30 days")
    assert critical["severity"] == "critical" and critical["max_term_days"] == 30
    assert critical["allow_never"] is False and critical["zone"] is None
    assert api(viewer).get(f"{RULES}{critical['id']}/").json()["name"] == critical["name"]
    assert api(admin_user).post(RULES, {"name": "x"}, format="json").status_code == 405
    assert api(outsider).get(RULES).status_code == 403
    assert api().get(RULES).status_code in (401, 403)
