"""The Findings page in a browser at 1440×900: a search from the box, a sorted column, and the
CSV export of exactly what the page filters. Screenshots go to the test artifacts."""

from __future__ import annotations

import csv

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_sort_and_export_from_the_findings_page(
    open_page, live_server, viewer, catalog, make_account, make_finding, artifacts
):
    account = make_account(name="web")
    for name in ("story-logs", "story-images", "scratch"):
        make_finding(account=account, name=name, tags={"Environment": "prod"})
    make_finding(
        account=account, control_ref="5.6", resource_type="AWS::EC2::Instance", name="i-0abc"
    )
    page = open_page(viewer)
    page.get_by_role("link", name="Findings").click()
    page.wait_for_url(f"{live_server.url}/findings/")
    rows = page.locator("table.findings tbody tr")
    expect(rows).to_have_count(4)

    search = page.get_by_label("Search")
    search.fill("IMDS")
    search.press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("i-0abc")
    expect(rows.first).to_contain_text("5.6")

    search = page.get_by_label("Search")
    search.fill("story")
    search.press("Enter")
    page.get_by_role("link", name="Resource", exact=True).click()
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Resource")
    expect(rows.nth(0)).to_contain_text("story-images")
    expect(rows.nth(1)).to_contain_text("story-logs")
    page.get_by_role("link", name="Resource ▲").click()
    expect(rows.nth(0)).to_contain_text("story-logs")
    page.screenshot(path=artifacts / "findings-page.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    with open(download.value.path(), newline="") as exported:
        names = sorted(row["resource_name"] for row in csv.DictReader(exported))
    assert names == ["story-images", "story-logs"]
