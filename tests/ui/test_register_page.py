"""The register page and its exports: a login is required, a viewer reads it, someone without
a role may not; the date is checked and an error shown beside the field; counts, filters and
the rebuilt rows as of the chosen date; each export downloads."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile

import pytest
import time_machine
from django.test import Client
from pypdf import PdfReader

from acceptances import services
from acceptances.models import AppetiteRule

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
REVOKED = dt.datetime(2026, 6, 10, 9, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _no_four_eyes(settings):
    settings.CSPM_REQUIRE_APPROVAL = False
    # The register reads what was decided; the risk appetite is tested on its own
    # (tests/acceptances/test_appetite.py): no shipped rule limits these decisions.
    AppetiteRule.objects.all().delete()


@pytest.fixture
def decided(estate, approver):
    """A zone acceptance of 2.1.2 in prod (two failing buckets), revoked on REVOKED, and one of
    5.6 on an instance, still active; the owner is the creator."""
    images = estate.findings["images"]
    zoned = services.accept_risk(
        actor=approver,
        control=images.control_check.controls.get(),
        zone=estate.prod,
        owner=approver,
        reason="risk_owned",
        justification="Buckets of public images.",
        now=START,
    )
    imds = estate.findings["imds"]
    single = services.accept_risk(
        actor=approver,
        control=imds.control_check.controls.get(),
        resource=imds.resource,
        owner=approver,
        reason="not_relevant",
        justification="Replaced with the OS upgrade.",
        expires_at=dt.datetime(2026, 12, 31, tzinfo=dt.UTC),
        now=START + dt.timedelta(hours=1),
    )
    services.revoke_acceptance(zoned, actor=approver, now=REVOKED)
    return {"zoned": zoned, "single": single}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _get(client: Client, path: str, **params):
    with time_machine.travel(NOW, tick=False):
        return client.get(path, params)


def test_a_login_is_required_and_a_role_to_read(decided, outsider):
    for path in ("/register/", "/register/export/?format=csv"):
        response = Client().get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
        assert _client(outsider).get(path).status_code == 403


def test_a_viewer_reads_the_register_as_it_stood(decided, viewer):
    text = _get(_client(viewer), "/register/", at="2026-06-05T12:00").content.decode()
    assert "Risk register as of" in text and "5 Jun 2026, 12:00" in text
    zoned, single = decided["zoned"].pk, decided["single"].pk
    row = text.split(f'data-acceptance="{zoned}"')[1].split("</tr>")[0]
    assert "zone prod" in row and "Active" in row and ">2</td>" in row
    assert "arthur-approver" in row
    assert f'data-acceptance="{single}"' in text
    assert (
        'data-counts="state"' in text
        and '<tr data-key="active"><th scope="row">Active</th><td class="num">2</td>' in text
    )


def test_after_the_revocation_it_reads_revoked_and_the_filters_narrow_it(decided, viewer):
    client = _client(viewer)
    text = _get(client, "/register/", at="2026-06-20T00:00").content.decode()
    row = text.split(f'data-acceptance="{decided["zoned"].pk}"')[1].split("</tr>")[0]
    assert "Revoked" in row and ">0</td>" in row
    only_active = _get(client, "/register/", at="2026-06-20T00:00", state="active").content.decode()
    assert f'data-acceptance="{decided["single"].pk}"' in only_active
    assert f'data-acceptance="{decided["zoned"].pk}"' not in only_active
    resources = _get(client, "/register/", at="2026-06-20T00:00", zone="resource").content.decode()
    assert f'data-acceptance="{decided["zoned"].pk}"' not in resources
    assert f'data-acceptance="{decided["single"].pk}"' in resources


def test_before_any_decision_the_register_is_empty(decided, viewer):
    text = _get(_client(viewer), "/register/", at="2026-05-01T00:00").content.decode()
    assert "No acceptance existed then" in text


@pytest.mark.parametrize(
    ("value", "message"),
    [("not-a-date", "is not a date and time"), ("2027-01-01T00:00", "is in the future")],
)
def test_a_bad_date_is_refused_beside_the_field(decided, viewer, value, message):
    response = _get(_client(viewer), "/register/", at=value)
    assert response.status_code == 400
    text = response.content.decode()
    error = text.split('id="id_at-error"')[1].split("</span>")[0]
    assert message in error


def test_the_page_links_it_from_the_main_navigation(viewer):
    text = _client(viewer).get("/audit/").content.decode()
    nav = text.split('aria-label="Main"')[1].split("</nav>")[0]
    assert 'href="/register/"' in nav


def test_the_exports_download_the_register_at_that_date(decided, viewer):
    client = _client(viewer)
    at = "2026-06-05T12:00"
    response = _get(client, "/register/export/", at=at, format="csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="risk-register-20260605-1200.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {row["state"] for row in rows} == {"Active"}
    document = json.loads(_get(client, "/register/export/", at=at, format="json").content)
    assert document["at"] == "2026-06-05T12:00:00+00:00" and document["count"] == 2
    pdf = _get(client, "/register/export/", at=at, format="pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert "Risk register as of 2026-06-05 12:00 UTC" in (
        PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    )
    bundle = zipfile.ZipFile(
        io.BytesIO(_get(client, "/register/export/", at=at, format="bundle").content)
    )
    assert json.loads(bundle.read("manifest.json"))["at"] == "2026-06-05T12:00:00+00:00"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"at": "June", "format": "csv"}, "at: “June” is not a date and time"),
        ({"at": "2027-01-01T00:00", "format": "pdf"}, "at: 2027-01-01 00:00 is in the future"),
        ({"format": "xlsx"}, "format: Unknown format “xlsx”"),
    ],
)
def test_a_bad_export_request_is_refused_naming_the_field(viewer, params, message):
    response = _get(_client(viewer), "/register/export/", **params)
    assert response.status_code == 400
    assert message in response.content.decode()
