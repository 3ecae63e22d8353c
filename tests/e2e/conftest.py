"""Headless Chromium driven by Playwright against the app served on loopback.

The browser is Debian's ``chromium`` (``bin/test`` installs it); Playwright's own browser
download is never used. Screenshots go to ``test-artifacts/`` (or ``$TEST_ARTIFACTS``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
# Chromium on a closed network: no background calls home, no sandbox as root in containers.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(
    os.environ.get("TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)


@pytest.fixture(scope="module", autouse=True)
def _sync_orm_beside_playwright() -> Iterator[None]:
    """Playwright's sync API runs an event loop in this thread; the tests' ORM calls are plain
    synchronous code all the same. Set for the browser tests' module only: a deployment check
    run later in the suite must not see it."""
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if saved is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


@pytest.fixture(scope="module")
def browser(_sync_orm_beside_playwright) -> Iterator[object]:
    """One Chromium per test module, closed after it: Playwright's event loop must not outlive
    the browser tests."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}; bin/test installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _committed(committed_db) -> None:
    """The browser reads what the tests write through the served app: committed rows."""


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def readme_screenshot(artifacts):
    """Save what the browser shows (the viewport) as ``name`` among the artifacts, and also in
    ``$CSPM_README_SCREENSHOTS`` when set: the README's pictures are refreshed by running the
    test with ``CSPM_README_SCREENSHOTS=docs/screenshots``."""
    readme_dir = os.environ.get("CSPM_README_SCREENSHOTS")

    def save(page, name: str) -> None:
        page.screenshot(path=artifacts / name)
        if readme_dir:
            Path(readme_dir).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=Path(readme_dir) / name)

    return save


@pytest.fixture
def open_page(browser, live_server):
    """A new browser session logged in as ``user`` (password of the personas)."""
    contexts = []

    def open_as(user, width: int = 1440, height: int = 900, color_scheme: str = "light"):
        context = browser.new_context(
            viewport={"width": width, "height": height}, color_scheme=color_scheme
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield open_as
    for context in contexts:
        context.close()
