"""The triage story in a real browser: accept 2.1.2 for a zone, revoke it, and what a viewer sees.

The account is the simulated story stack on a moto server, scanned for real; the app is served
on loopback; Chromium clicks what a person would click.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from acceptances import services
from acceptances.models import RiskAcceptance
from findings.models import Finding
from findings.services import scans

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scanned(story_account, approver):
    scan = scans.start_scan(story_account, dispatch=False)
    scan = scans.run_scan_inline(scan.pk)
    assert scan.state == "succeeded", scan.error
    zone = services.save_zone(
        actor=approver, name="Story web stack", rules={"tags": ["Project=story"]}
    )
    return zone


def mfa_delete_failures() -> int:
    return Finding.objects.filter(
        control_check__check_id="s3_bucket_mfa_delete_enabled",
        status="fail",
        resolved_at__isnull=True,
        acceptance__isnull=True,
    ).count()


def test_an_analyst_accepts_a_zone_and_an_approver_revokes_it(
    open_page, scanned, analyst, approver, artifacts, readme_screenshot
):
    failing_before = mfa_delete_failures()
    assert failing_before >= 1
    page = open_page(analyst)
    page.screenshot(path=artifacts / "overview-full.png", full_page=True)
    readme_screenshot(page, "overview.png")

    page.locator("tr[data-control='2.1.2'] a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("MFA Delete")
    expect(page.get_by_test_id("control-failing")).to_have_text(str(failing_before))
    page.screenshot(path=artifacts / "control-2.1.2.png", full_page=True)
    readme_screenshot(page, "control-page.png")

    page.get_by_role("button", name="Accept risk in a zone…").click()
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_be_visible()
    page.screenshot(path=artifacts / "accept-dialog.png")
    dialog.get_by_label("Zone").select_option(label="Story web stack")
    # The count of what it would cover follows the chosen zone, before saving.
    expect(dialog.get_by_test_id("would-cover")).to_have_text(str(failing_before))
    dialog.get_by_label("Reason:", exact=True).select_option(label="Risk owned")
    dialog.get_by_label("Justification").fill("Images are public by design until the OS upgrade.")
    dialog.get_by_label("30 days").check()
    dialog.get_by_role("button", name="Accept risk").click()
    expect(dialog).to_contain_text("Risk accepted")
    # The page behind the dialog updated its counts in place.
    expect(page.get_by_test_id("control-accepted")).to_have_text(str(failing_before))
    expect(page.get_by_test_id("control-failing")).to_have_text("0")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    acceptance = RiskAcceptance.objects.get()
    assert acceptance.state == "active" and acceptance.zone == scanned
    assert 29 <= (acceptance.expires_at - acceptance.created_at).days <= 30
    assert mfa_delete_failures() == 0

    # The approver revokes it; the findings fail again.
    page = open_page(approver)
    page.get_by_role("link", name="Acceptances").click()
    page.get_by_role("link", name=f"#{acceptance.pk}").click()
    # The extend form asks for an end date only when "Until a date" is chosen.
    extend = page.locator("form", has=page.get_by_role("heading", name="Extend"))
    end_date = extend.get_by_label("End date")
    expect(end_date).to_be_hidden()
    extend.get_by_label("Until a date").check()
    expect(end_date).to_be_visible()
    page.get_by_label("Why revoke it?").fill("The bucket must not stay public after all.")
    page.get_by_role("button", name="Revoke").click()
    page.screenshot(path=artifacts / "after-revoke.png", full_page=True)
    expect(page.get_by_test_id("acceptance-state")).to_contain_text("Revoked")
    page.get_by_role("link", name="2.1.2").first.click()
    expect(page.get_by_test_id("control-failing")).to_have_text(str(failing_before))
    expect(page.get_by_test_id("control-accepted")).to_have_text("0")
    assert mfa_delete_failures() == failing_before


def test_a_viewer_finds_no_accept_button(open_page, scanned, viewer):
    page = open_page(viewer)
    page.locator("tr[data-control='2.1.2'] a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("MFA Delete")
    expect(page.get_by_role("button", name=re.compile("Accept risk"))).to_have_count(0)
    expect(page.locator("input[name=resource]")).to_have_count(0)


def test_the_filters_are_keyboard_usable_and_kept_in_the_url(open_page, scanned, viewer):
    page = open_page(viewer)
    page.get_by_label("Status").focus()
    page.get_by_label("Status").select_option("fail")
    page.wait_for_url(re.compile(r"status=fail"))
    statuses = page.locator("table.posture tbody td.status").all_inner_texts()
    assert statuses and set(statuses) == {"fail"}
