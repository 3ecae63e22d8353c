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


HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_cell_that_a_spreadsheet_would_run_is_neutralised_in_csv_but_exact_in_json(
    api, viewer, analyst, catalog, make_account, make_finding, hostile
):
    """OWASP CSV injection: a hostile resource name or justification gets a leading single
    quote in CSV (the rest of the value kept), and stays exactly as it is in JSON."""
    from acceptances import services as acceptance_services

    finding = make_finding(account=make_account(), name=hostile)
    acceptance_services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        owner=analyst,
        reason="risk_owned",
        justification="@" + hostile,  # the service strips leading spaces and tabs
        resource=finding.resource,
    )
    client = api(viewer)
    rows = list(
        csv.DictReader(io.StringIO(_body(client.get("/api/v1/findings/export/?format=csv"))))
    )
    assert rows[0]["resource_name"] == "'" + hostile
    assert rows[0]["resource_arn"] == f"arn:aws:s3:::{hostile}"  # not at the start: unchanged
    rows = json.loads(_body(client.get("/api/v1/findings/export/?format=json")))
    assert rows[0]["resource_name"] == hostile
    text = _body(client.get("/api/v1/acceptances/export/?format=csv"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["justification"] == "'@" + hostile
    rows = json.loads(_body(client.get("/api/v1/acceptances/export/?format=json")))
    assert rows[0]["justification"] == "@" + hostile


def test_harmless_cells_and_numbers_are_left_alone():
    from cspm.csvcells import neutralise_cell

    assert neutralise_cell("web-1") == "web-1"
    assert neutralise_cell("a=b") == "a=b"
    assert neutralise_cell(-5) == -5
    assert neutralise_cell(None) is None
    assert neutralise_cell(["CIS 2.1.1", "CIS 2.1.2"]) == "CIS 2.1.1 CIS 2.1.2"
    assert neutralise_cell(["-x", "y"]) == "'-x y"
