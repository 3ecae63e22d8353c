"""Every page runs under a Content-Security-Policy with no inline script or style, and still
works in a real browser: no violation in the console, the API docs render."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from findings.models import Control

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _watch(page) -> list[str]:
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" or "Content Security Policy" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems


def test_the_pages_and_the_api_docs_work_under_the_policy(
    open_page, live_server, catalog, admin_user, make_account, make_finding, artifacts
):
    make_finding(account=make_account(), control_ref="2.1.2")
    control = Control.objects.get(ref="2.1.2", benchmark=catalog)
    page = open_page(admin_user)
    problems = _watch(page)
    policy = page.request.get(f"{live_server.url}/").headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "default-src 'self'" in policy

    for path in ("/", f"/controls/{control.pk}/", "/acceptances/", "/zones/", "/scans/", "/admin/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    # The accept dialog, loaded by htmx.
    page.goto(f"{live_server.url}/controls/{control.pk}/")
    page.get_by_role("button", name="Accept risk in a zone…").click()
    expect(page.locator("dialog#dialog")).to_be_visible()

    page.goto(f"{live_server.url}/api/v1/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("CSPM")
    expect(page.locator(".opblock").first).to_be_visible()
    page.screenshot(path=artifacts / "api-docs-csp.png")

    page.goto(f"{live_server.url}/api/v1/redoc/")
    expect(page.locator("h1").first).to_contain_text("CSPM", timeout=30_000)
    expect(page.locator("[role=search] input, input[placeholder*=Search]").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=artifacts / "api-redoc-csp.png")
    # Redoc's footer logo comes from its CDN: the policy blocks it, as it should (the docs load
    # nothing from outside); that one refusal is expected.
    assert [p for p in problems if "cdn.redoc.ly" not in p] == []
