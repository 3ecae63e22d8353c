"""Posture summaries: by control (within a zone or account), and totals by zone."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _control(body, ref):
    return next(row for row in body["controls"] if row["control"]["ref"] == ref)


def test_posture_by_control_counts_accepted_apart(api, viewer, estate):
    body = api(viewer).get("/api/v1/posture/").json()
    assert body["benchmark"]["version"] == "2.0.0"
    mfa = _control(body, "2.1.2")
    assert (mfa["failing"], mfa["accepted"], mfa["passing"]) == (0, 1, 1)
    assert mfa["status"] == "accepted" and mfa["compliance_percent"] == 50.0
    assert body["totals"] == {
        "failing": 1,
        "accepted": 1,
        "passing": 1,
        "evaluated": 3,
        "compliance_percent": 33.3,
        "unchecked_controls": 0,  # v2.0.0: a check decides every automated control
    }


def test_posture_within_a_zone_or_an_account(api, viewer, estate, make_account):
    client = api(viewer)
    zoned = client.get(f"/api/v1/posture/?zone={estate['zone'].pk}").json()
    assert zoned["totals"]["evaluated"] == 1 and zoned["zone"] == estate["zone"].pk
    everything = client.get("/api/v1/posture/?zone=1").json()
    assert everything["totals"]["evaluated"] == 3
    empty = make_account()
    assert client.get(f"/api/v1/posture/?account={empty.pk}").json()["totals"]["evaluated"] == 0


def test_posture_totals_by_zone(api, viewer, estate):
    body = api(viewer).get("/api/v1/posture/zones/").json()
    zones = {row["name"]: row["totals"] for row in body["zones"]}
    assert zones["Entire infrastructure"]["evaluated"] == 3
    assert zones["prod"] == {
        "failing": 0,
        "accepted": 1,
        "passing": 0,
        "evaluated": 1,
        "compliance_percent": 0.0,
        "unchecked_controls": 0,
    }


def test_posture_names_bad_parameters_and_refuses_outsiders(api, viewer, outsider, estate):
    client = api(viewer)
    response = client.get("/api/v1/posture/?zone=abc&benchmark=999999")
    assert response.status_code == 400 and "benchmark" in response.json()
    assert "zone" in client.get("/api/v1/posture/?zone=abc").json()
    assert "account" in client.get("/api/v1/posture/zones/?account=999").json()
    assert api(outsider).get("/api/v1/posture/").status_code == 403
