"""A control the benchmark marks manual is decided by a person: the overview and its page show
it as "manual", never "fail", even when the checks that evidence it find failures."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def status_cell(html: str, ref: str) -> str:
    row = re.search(rf'<tr data-control="{re.escape(ref)}">.*?</tr>', html, re.S).group(0)
    return re.search(r'<td class="status status-[^"]*">([^<]*)</td>', row).group(1)


def test_a_manual_control_with_failing_checks_shows_manual(login, viewer, estate, catalog):
    mfa_delete = catalog.controls.get(ref="2.1.2")
    assert not mfa_delete.automated  # manual in the benchmark; our checks evidence it
    client = login(viewer)
    html = client.get(reverse("home")).content.decode()
    assert status_cell(html, "2.1.2") == "manual"  # three buckets fail its checks
    assert status_cell(html, "5.6") == "fail"  # an automated control still fails
    manual = client.get(reverse("home"), {"status": "manual"}).context["rows"]
    assert "2.1.2" in {r.control.ref for r in manual}

    page = client.get(reverse("control-detail", args=[mfa_delete.pk])).content.decode()
    status = re.search(r'data-testid="control-status">([^<]*)<', page).group(1)
    assert status == "manual"
    assert "Failing its checks (a person decides)" in page
    imds = catalog.controls.get(ref="5.6")
    page = client.get(reverse("control-detail", args=[imds.pk])).content.decode()
    assert re.search(r'data-testid="control-status">([^<]*)<', page).group(1) == "fail"
