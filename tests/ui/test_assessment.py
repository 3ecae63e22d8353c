"""How a control is decided, said the same way everywhere: automated; "Checked, manual in the
benchmark" when checks decide a control the benchmark calls manual (v2.0.0 2.1.2 MFA Delete,
v4.0.1 2.2.4 Multi-AZ); "Manual: a person decides" when no check does (1.1 contact details)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from findings import services
from findings.models import Benchmark

pytestmark = pytest.mark.django_db

CHECKED = "Checked, manual in the benchmark"
PERSON = "Manual: a person decides"


@pytest.fixture
def mapped(catalog):
    """Every loaded version's controls linked to the checks that decide them."""
    services.sync_checks()
    return catalog


def _overview_cell(body: str, ref: str) -> str:
    row = re.search(rf'<tr data-control="{re.escape(ref)}">.*?</tr>', body, re.S).group(0)
    return re.findall(r"<td>(.*?)</td>", row, re.S)[1]  # the title's cell


def _page_assessment(client, control) -> str:
    body = client.get(reverse("control-detail", args=[control.pk])).content.decode()
    return re.search(r'data-testid="assessment">([^<]*)<', body).group(1)


def test_the_overview_and_control_pages_say_how_each_control_is_decided(login, viewer, mapped):
    client = login(viewer)
    body = client.get(reverse("home")).content.decode()
    assert CHECKED in _overview_cell(body, "2.1.2")
    assert PERSON in _overview_cell(body, "1.1")
    assert "data-testid" not in _overview_cell(body, "5.6")  # automated: the usual case

    controls = mapped.controls
    assert _page_assessment(client, controls.get(ref="2.1.2")) == CHECKED
    assert _page_assessment(client, controls.get(ref="1.1")) == PERSON
    assert _page_assessment(client, controls.get(ref="5.6")) == "Automated"
    v4 = Benchmark.objects.get(slug="cis-aws-foundations", version="4.0.1").controls
    assert _page_assessment(client, v4.get(ref="2.2.4")) == CHECKED  # Multi-AZ, by two checks
    assert _page_assessment(client, v4.get(ref="5.6")) == PERSON  # VPC peering routes


def test_the_api_gives_each_control_its_assessment(client, viewer, mapped):
    client.force_login(viewer)
    wanted = {"2.1.2": "checked_manual", "1.1": "manual", "5.6": "automated"}
    for ref, assessment in wanted.items():
        control = mapped.controls.get(ref=ref)
        data = client.get(f"/api/v1/controls/{control.pk}/").json()
        assert (data["automated"], data["assessment"]) == (assessment == "automated", assessment)
    listed = client.get("/api/v1/controls/", {"benchmark": mapped.pk, "page_size": 100}).json()
    by_ref = {c["ref"]: c["assessment"] for c in listed["results"]}
    assert {ref: by_ref[ref] for ref in wanted} == wanted
    # The posture's rows say it too.
    rows = client.get("/api/v1/posture/", {"benchmark": mapped.pk}).json()["controls"]
    by_ref = {r["control"]["ref"]: r["assessment"] for r in rows}
    assert {ref: by_ref[ref] for ref in wanted} == wanted
