"""Findings: filtered by everything a person asks about, cursor-paginated."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from findings.models import AccountRegion

pytestmark = pytest.mark.django_db

URL = "/api/v1/findings/"


def _ids(client, query: str = "") -> set[int]:
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def test_a_finding_reads_with_its_controls_resource_and_coverage(api, viewer, estate):
    failing = estate["failing"]
    row = api(viewer).get(f"{URL}{failing.pk}/").json()
    assert row["check_id"] == failing.control_check.check_id
    assert [c["ref"] for c in row["controls"]] == ["2.1.2"]
    assert row["display_status"] == "accepted" and row["accepted"] is True
    assert row["acceptance"] == estate["acceptance"].pk
    assert row["resource"]["arn"] == failing.resource.arn


def test_filters_by_control_check_account_region_and_type(api, viewer, estate, catalog):
    client = api(viewer)
    failing, passing, other = estate["failing"], estate["passing"], estate["other"]
    everything = {failing.pk, passing.pk, other.pk}
    assert _ids(client) == everything
    control = catalog.controls.get(ref="2.1.1")
    assert _ids(client, f"control={control.pk}") == {other.pk}
    assert _ids(client, "control_ref=2.1.2") == {failing.pk, passing.pk}
    assert _ids(client, f"check={other.control_check.check_id}") == {other.pk}
    assert _ids(client, f"account={estate['account'].pk}") == everything
    assert _ids(client, f"account_id={estate['account'].account_id}") == everything
    assert _ids(client, "region=eu-west-1") == set()
    assert _ids(client, "resource_type=AWS::S3::Bucket") == everything
    assert _ids(client, f"resource={other.resource_id}") == {other.pk}


def test_filters_by_status_accepted_severity_and_zone(api, viewer, estate):
    client = api(viewer)
    failing, passing, other = estate["failing"], estate["passing"], estate["other"]
    assert _ids(client, "status=fail") == {failing.pk, other.pk}
    assert _ids(client, "status=pass") == {passing.pk}
    assert _ids(client, "accepted=true") == {failing.pk}
    assert _ids(client, "accepted=false&status=fail") == {other.pk}
    assert _ids(client, "severity=medium") == {failing.pk, passing.pk, other.pk}
    assert _ids(client, "severity=critical") == set()
    assert _ids(client, f"zone={estate['zone'].pk}") == {failing.pk}
    assert _ids(client, "zone=1") == {failing.pk, passing.pk, other.pk}  # built-in: everything


def test_filters_by_first_and_last_seen(api, viewer, estate):
    client = api(viewer)
    failing = estate["failing"]
    week_ago = timezone.now() - dt.timedelta(days=7)
    failing.first_seen = week_ago
    failing.save(update_fields=["first_seen"])
    cutoff = (week_ago + dt.timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert _ids(client, f"first_seen_before={cutoff}") == {failing.pk}
    assert failing.pk not in _ids(client, f"first_seen_after={cutoff}")
    # Last seen is the last scan of the finding's account and unit (S3: "global").
    AccountRegion.objects.create(
        account=estate["account"], region="global", last_scanned_at=week_ago
    )
    assert _ids(client, f"last_seen_before={cutoff}") == {
        failing.pk,
        estate["passing"].pk,
        estate["other"].pk,
    }
    assert _ids(client, f"last_seen_after={cutoff}") == set()
    row = client.get(f"{URL}{failing.pk}/").json()
    assert row["last_seen"].startswith(week_ago.date().isoformat())


def test_findings_page_with_a_cursor(api, viewer, make_account, make_finding):
    account = make_account()
    made = [make_finding(account=account).pk for _ in range(5)]
    client = api(viewer)
    first = client.get(f"{URL}?page_size=2").json()
    assert [r["id"] for r in first["results"]] == sorted(made, reverse=True)[:2]
    assert "count" not in first
    second = client.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == sorted(made, reverse=True)[2:4]
    oldest_first = client.get(f"{URL}?ordering=id&page_size=2").json()
    assert [r["id"] for r in oldest_first["results"]] == sorted(made)[:2]
    assert client.get(f"{URL}?cursor=garbage").status_code == 404


def test_bad_finding_filters_name_the_field_and_outsiders_are_refused(api, viewer, outsider):
    response = api(viewer).get(f"{URL}?accepted=true&zone=424242&control=abc")
    assert response.status_code == 400
    assert {"zone", "control"} <= set(response.json())
    assert api(outsider).get(URL).status_code == 403
