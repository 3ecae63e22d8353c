"""The accept dialog from every place that opens it, in a real browser: a selection on a
control page, a whole zone right after (no reload between), and one finding from its resource's
page, whose row must then show the finding accepted without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from acceptances.models import RiskAcceptance
from findings.models import Control

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_console(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems


def fill_and_accept(dialog) -> None:
    dialog.get_by_label("Reason:", exact=True).select_option(label="Risk owned")
    dialog.get_by_label("Justification").fill("Reviewed with the network team.")
    dialog.get_by_role("button", name="Accept risk").click()
    expect(dialog).to_contain_text("Risk accepted")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def test_accepting_a_selection_a_zone_and_from_a_resource_page(
    open_page, live_server, catalog, analyst, make_account, make_finding, artifacts
):
    account = make_account(name="web")
    findings = [make_finding(account=account, name=f"acl-{n}") for n in (1, 2, 3)]
    other = make_finding(account=account, control_ref="5.6", name="web-server")
    control = Control.objects.get(ref="2.1.2", benchmark=catalog)
    page = open_page(analyst)
    problems = watch_console(page)
    dialog = page.locator("dialog#dialog")

    # From a resource's page: the row turns "accepted" as soon as the dialog says so.
    page.goto(f"{live_server.url}/resources/{other.resource_id}/")
    row = page.locator(f"tr[data-check='{other.control_check.check_id}']")
    expect(row.locator("td.status")).to_have_text("fail")
    row.get_by_role("button", name="Accept…").click()
    expect(dialog).to_be_visible()
    fill_and_accept(dialog)
    expect(row.locator("td.status")).to_contain_text("accepted")
    expect(row.get_by_role("button", name="Accept…")).to_have_count(0)

    # A selection of two of the three failing resources of a control.
    page.goto(f"{live_server.url}/controls/{control.pk}/")
    for finding in findings[:2]:
        page.get_by_label(f"Select {finding.resource}").check()
    page.get_by_role("button", name="Accept risk for selected…").click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Selected: acl-1, acl-2")
    expect(dialog.get_by_test_id("would-cover")).to_have_text("2")
    page.screenshot(path=artifacts / "accept-selected-dialog.png")
    fill_and_accept(dialog)
    expect(page.get_by_test_id("control-accepted")).to_have_text("2")
    assert sorted(
        RiskAcceptance.objects.filter(zone=None, control=control).values_list(
            "resource__name", flat=True
        )
    ) == ["acl-1", "acl-2"]

    # The zone dialog still opens without a reload, and counts only what is left uncovered.
    page.get_by_role("button", name="Accept risk in a zone…").click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("would-cover")).to_have_text("1")
    expect(dialog.get_by_test_id("already-covered")).to_have_text("2")
    fill_and_accept(dialog)
    expect(page.get_by_test_id("control-failing")).to_have_text("0")
    assert RiskAcceptance.objects.filter(zone__is_builtin=True, control=control).exists()
    assert problems == []
