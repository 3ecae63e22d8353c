"""Scans: starting one answers 202 with the id to poll; each region's state is readable."""

from __future__ import annotations

import pytest

from findings.models import Scan, ScanRegion

pytestmark = pytest.mark.django_db

URL = "/api/v1/scans/"


def test_an_analyst_starts_a_scan_and_polls_it(
    api, analyst, make_account, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(
        "findings.services.scans._dispatch", lambda *args, **kwargs: queued.append(args)
    )
    account = make_account()
    response = api(analyst).post(URL, {"account": account.pk})
    assert response.status_code == 202
    body = response.json()
    scan = Scan.objects.get(pk=body["id"])
    assert body["state"] == "queued" and body["url"].endswith(f"/api/v1/scans/{scan.pk}/")
    assert response["Location"] == body["url"]
    assert scan.trigger == Scan.Trigger.API and scan.requested_by == analyst
    assert queued == [("scan_account", scan.pk)]
    ScanRegion.objects.create(scan=scan, region="eu-west-1", state="failed", error="AccessDenied")
    detail = api(analyst).get(body["url"]).json()
    assert detail["regions"][0]["error"] == "AccessDenied"
    # A second request while it runs answers the same scan.
    again = api(analyst).post(URL, {"account": account.pk})
    assert again.status_code == 202 and again.json()["id"] == scan.pk


def test_starting_a_scan_names_the_bad_account(api, analyst, make_account, monkeypatch):
    monkeypatch.setattr("findings.services.scans._dispatch", lambda *args, **kwargs: None)
    assert "account" in api(analyst).post(URL, {"account": 999}).json()
    assert "account" in api(analyst).post(URL, {}).json()
    disabled = make_account(enabled=False)
    response = api(analyst).post(URL, {"account": disabled.pk})
    assert response.status_code == 400 and "disabled" in response.json()["account"][0]


def test_a_viewer_may_not_start_a_scan(api, viewer, outsider, make_account):
    account = make_account()
    assert api(viewer).post(URL, {"account": account.pk}).status_code == 403
    assert api(outsider).post(URL, {"account": account.pk}).status_code == 403
    assert not Scan.objects.exists()


def test_scans_filter_by_account_and_state(api, viewer, make_account):
    one, two = make_account(), make_account()
    Scan.objects.create(account=one, state="succeeded")
    Scan.objects.create(account=two, state="failed")
    client = api(viewer)
    assert client.get(f"{URL}?account={one.pk}").json()["count"] == 1
    assert client.get(f"{URL}?state=failed").json()["results"][0]["account"] == two.pk
    assert client.get(f"{URL}?state=exploded").status_code == 400
