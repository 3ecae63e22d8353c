"""The accept dialog shows only the fields that apply to the choices made, offers only the
treatments that fit accepting, keeps its buttons in view, and after the server refuses it puts
the focus on the first field to fix."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from acceptances.models import RiskAcceptance
from findings.models import Control

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_accept_dialog_shows_what_applies_and_focuses_the_first_error(
    open_page, live_server, catalog, analyst, make_account, make_finding, artifacts
):
    make_finding(account=make_account(name="web"), name="acl-1")
    control = Control.objects.get(ref="2.1.2", benchmark=catalog)
    page = open_page(analyst)
    page.goto(f"{live_server.url}/controls/{control.pk}/")
    page.get_by_role("button", name="Accept risk in a zone…").click()
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_be_visible()
    explanation = dialog.get_by_label("Explanation")
    end_date = dialog.get_by_label("End date")

    # Only what applies: no explanation for a listed reason, no date for "30 days".
    expect(explanation).to_be_hidden()
    expect(end_date).to_be_hidden()
    treatments = dialog.get_by_label("Treatment").locator("option").all_inner_texts()
    assert treatments == [
        "Retain the risk by informed decision",
        "Take or increase the risk to pursue an opportunity",
        "Share the risk (contract, insurance)",
    ]
    reason = dialog.get_by_label("Reason:", exact=True)
    reason.select_option(label="Other (explained)")
    expect(explanation).to_be_visible()
    # The help names the option as the list shows it.
    expect(dialog.locator("#accept_reason_detail_helptext")).to_contain_text("“Other (explained)”")
    dialog.get_by_label("Until a date").check()
    expect(end_date).to_be_visible()
    dialog.get_by_label("30 days").check()
    expect(end_date).to_be_hidden()
    dialog.get_by_label("Until a date").check()

    # The server refuses: no explanation, no justification, a past date. The focus goes to the
    # first of them, and the buttons stay in view over the longer form.
    end_date.fill("2020-01-31")
    dialog.get_by_role("button", name="Accept risk").click()
    expect(dialog.locator("#accept_expires_on_error")).to_be_visible()
    expect(explanation).to_be_focused()
    expect(dialog.get_by_role("button", name="Accept risk")).to_be_in_viewport()
    page.screenshot(path=artifacts / "accept-dialog-errors.png")

    explanation.fill("Covered by the vendor's contract")
    dialog.get_by_label("Justification").fill("Reviewed with the network team.")
    end_date.fill("2099-01-31")
    dialog.get_by_role("button", name="Accept risk").click()
    expect(dialog).to_contain_text("Risk accepted")
    acceptance = RiskAcceptance.objects.get(control=control)
    assert acceptance.reason == "custom"
    assert acceptance.reason_detail == "Covered by the vendor's contract"
