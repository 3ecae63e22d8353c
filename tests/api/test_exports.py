"""Exports for auditors: findings and acceptances as CSV or JSON, with the list's filters."""

from __future__ import annotations

import csv
import io
import json

import pytest

from findings.queries import EXPORT_FIELDS

pytestmark = pytest.mark.django_db


def _body(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def test_findings_export_as_csv_with_filters(api, viewer, estate):
    response = api(viewer).get("/api/v1/findings/export/?format=csv&status=fail")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="findings.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    assert list(rows[0]) == EXPORT_FIELDS
    assert {r["resource_arn"] for r in rows} == {
        estate["failing"].resource.arn,
        estate["other"].resource.arn,
    }
    accepted = next(r for r in rows if r["resource_arn"] == estate["failing"].resource.arn)
    assert accepted["status"] == "accepted" and accepted["controls"] == "CIS 2.0.0 2.1.2"


def test_findings_export_as_json_is_the_default(api, viewer, estate):
    response = api(viewer).get(f"/api/v1/findings/export/?zone={estate['zone'].pk}")
    assert response["Content-Type"] == "application/json"
    rows = json.loads(_body(response))
    assert [r["resource_arn"] for r in rows] == [estate["failing"].resource.arn]


def test_acceptances_export_with_filters(api, viewer, estate):
    client = api(viewer)
    rows = json.loads(_body(client.get("/api/v1/acceptances/export/?format=json&state=active")))
    assert [r["id"] for r in rows] == [estate["acceptance"].pk]
    assert rows[0]["covered_findings"] == 1 and rows[0]["owner"] == "ann-analyst"
    text = _body(client.get("/api/v1/acceptances/export/?format=csv&state=revoked"))
    assert text.splitlines()[0].startswith("id,control,")
    assert len(text.splitlines()) == 1


def test_a_bad_format_or_filter_answers_400_in_json(api, viewer, estate):
    client = api(viewer)
    response = client.get("/api/v1/findings/export/?format=xlsx")
    assert response.status_code == 400
    assert response.json() == {"format": ["Choose csv or json."]}
    response = client.get("/api/v1/acceptances/export/?format=csv&state=bogus")
    assert response.status_code == 400 and "state" in response.json()


def test_outsiders_may_not_export(api, outsider, estate):
    for url in ("/api/v1/findings/export/?format=csv", "/api/v1/acceptances/export/"):
        response = api(outsider).get(url)
        assert response.status_code == 403
        assert response["Content-Type"] == "application/json"


def test_a_moment_with_any_valid_utc_offset_filters_instead_of_failing(api, viewer, estate):
    """ISO 8601 allows offsets up to ±23:59, PostgreSQL only ±15:59: such a moment is compared
    in UTC rather than failing half-way through a streamed export (found by schemathesis)."""
    client = api(viewer)
    later, earlier = "7909-05-19T20:36:52-23:43", "0875-03-25T03:33:41+11:46"
    response = client.get("/api/v1/findings/export/", {"first_seen_before": later})
    assert response.status_code == 200
    assert len(json.loads(_body(response))) == 3
    response = client.get("/api/v1/findings/export/", {"first_seen_after": later})
    assert json.loads(_body(response)) == []
    response = client.get(
        "/api/v1/acceptances/export/", {"expires_before": later, "expires_after": earlier}
    )
    assert response.status_code == 200
    assert json.loads(_body(response)) == []  # the only acceptance has no end
    listed = client.get("/api/v1/acceptances/", {"expires_before": later})
    assert listed.status_code == 200
