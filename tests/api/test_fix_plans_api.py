"""The fix plans endpoint: analysts plan, bad input is named by field, viewers only read."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

pytestmark = pytest.mark.django_db

URL = "/api/v1/fix-plans/"
NOON = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


@time_machine.travel(NOON, tick=False)
def test_an_analyst_plans_a_fix_and_everyone_with_a_role_lists_it(
    api, analyst, viewer, outsider, catalog, make_account, make_finding
):
    finding = make_finding(account=make_account(), control_ref="2.1.2")
    control = catalog.controls.get(ref="2.1.2")
    body = {"control": control.pk, "resource": finding.resource_id, "due_on": "2026-12-20"}
    bad = api(analyst).post(
        URL, {**body, "due_on": "2026-11-01", "ticket_url": "file:///etc/passwd"}, format="json"
    )
    assert bad.status_code == 400
    assert set(bad.json()) >= {"due_on", "ticket_url"}
    assert api(viewer).post(URL, body, format="json").status_code == 403
    made = api(analyst).post(
        URL, {**body, "ticket_url": "https://jira.example.com/browse/SEC-9"}, format="json"
    )
    assert made.status_code == 201, made.json()
    assert made.json()["owner"] == analyst.get_username()
    assert made.json()["state"] == "open" and made.json()["overdue"] is False
    listed = api(viewer).get(URL).json()["results"]
    assert [p["id"] for p in listed] == [made.json()["id"]]
    assert api(outsider).get(URL).status_code == 403
