"""Benchmarks, controls and resources: read by every role, filtered, refused to outsiders."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_benchmarks_and_their_controls(api, viewer, catalog):
    client = api(viewer)
    benchmarks = client.get("/api/v1/benchmarks/").json()["results"]
    # Listed by slug, then version: AWS FSBP ("aws-fsbp") before the CIS versions.
    cis = [b for b in benchmarks if b["slug"] == "cis-aws-foundations"]
    assert cis[0]["version"] == "2.0.0"
    assert cis[0]["control_count"] == catalog.controls.count()
    controls = client.get(f"/api/v1/controls/?benchmark={catalog.pk}&ref=2.1.1").json()
    assert controls["count"] == 1
    control = client.get(f"/api/v1/controls/{controls['results'][0]['id']}/").json()
    assert control["ref"] == "2.1.1" and control["rationale"]
    high = client.get("/api/v1/controls/?severity=high&page_size=500").json()["results"]
    assert high and all(c["severity"] == "high" for c in high)


def test_a_bad_control_filter_names_the_field(api, viewer, catalog):
    response = api(viewer).get("/api/v1/controls/?benchmark=999&level=7")
    assert response.status_code == 400
    assert {"benchmark", "level"} <= set(response.json())


def test_an_outsider_is_refused_the_catalog(api, outsider, catalog):
    assert api(outsider).get("/api/v1/controls/").status_code == 403
    control = catalog.controls.first()
    assert api(outsider).get(f"/api/v1/controls/{control.pk}/").status_code == 404


def test_resources_filter_by_zone_type_and_account(api, viewer, estate):
    client = api(viewer)
    zone = estate["zone"]
    in_zone = client.get(f"/api/v1/resources/?zone={zone.pk}").json()["results"]
    assert [r["id"] for r in in_zone] == [estate["failing"].resource_id]
    builtin = client.get("/api/v1/resources/?zone=1").json()
    assert builtin["count"] == 3
    by_type = client.get("/api/v1/resources/?resource_type=AWS::S3::Bucket").json()
    assert by_type["count"] == 3
    assert client.get("/api/v1/resources/?account_id=000000000000").json()["count"] == 0
    detail = client.get(f"/api/v1/resources/{estate['failing'].resource_id}/").json()
    assert "configuration" in detail and detail["tags"] == {"Env": "prod"}


def test_resources_refuse_bad_filters_and_outsiders(api, viewer, outsider, estate):
    assert api(viewer).get("/api/v1/resources/?zone=abc").status_code == 400
    assert api(viewer).get("/api/v1/resources/?gone=maybe").status_code == 200  # ignored
    assert api(outsider).get("/api/v1/resources/").status_code == 403
