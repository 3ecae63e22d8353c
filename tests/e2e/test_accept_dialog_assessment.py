"""In a real browser: the accept dialog's assessment panel follows the chosen levels (rating,
matrix) and the expiry choices follow the risk appetite for that rating, without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from acceptances.models import AppetiteRule, RiskAcceptance
from findings.models import Control

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_rating_and_the_allowed_expiry_follow_the_assessment(
    open_page, live_server, catalog, analyst, make_account, make_finding, artifacts
):
    make_finding(account=make_account(name="web"), name="images")
    AppetiteRule.objects.create(
        name="Critical residual: a month",
        min_rating="critical",
        max_term_days=30,
        allow_never=False,
    )
    control = Control.objects.get(ref="2.1.2", benchmark=catalog)  # medium: 3 × 3 to start
    page = open_page(analyst)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/controls/{control.pk}/")
    page.get_by_role("button", name="Accept risk in a zone…").click()
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_be_visible()
    rating = dialog.locator("[data-residual-rating]")
    expect(rating).to_have_text("Medium")
    never = dialog.locator("input[name='expiry'][value='never']")
    expect(never).to_be_enabled()

    dialog.locator("input[name='likelihood'][value='5']").check()
    dialog.locator("input[name='impact'][value='4']").check()
    expect(rating).to_have_text("Critical")
    expect(dialog).to_contain_text("likelihood 5 × impact 4 = 20")
    expect(never).to_be_disabled()
    expect(dialog.locator("input[name='expiry'][value='60']")).to_be_disabled()
    expect(dialog.locator("[data-appetite]")).to_contain_text("Critical residual: a month")
    page.screenshot(path=artifacts / "accept-dialog-assessment.png")

    dialog.locator("input[name='impact'][value='1']").check()
    expect(rating).to_have_text("Medium")
    expect(never).to_be_enabled()
    never.check()
    dialog.get_by_label("Reason:", exact=True).select_option(label="Risk owned")
    dialog.get_by_label("Justification").fill("Versioning covers mistakes.")
    dialog.get_by_role("button", name="Accept risk").click()
    expect(dialog).to_contain_text("Risk accepted")
    acceptance = RiskAcceptance.objects.get(control=control)
    assert (acceptance.likelihood, acceptance.impact, acceptance.residual_rating) == (
        5,
        1,
        "medium",
    )
    assert acceptance.expires_at is None
    assert not errors
