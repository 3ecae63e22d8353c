"""The app loads nothing from another host: pages work on a closed network.

The API docs pages run third-party bundles (Swagger UI, Redoc) whose scripts may fetch images
or fonts once rendered, so the check is a browser's: every request the page makes, from its
HTML or from its scripts, must go to the app's own host.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest


@pytest.mark.parametrize("path", ["/", "/api/v1/docs/", "/api/v1/redoc/", "/admin/"])
def test_the_browser_requests_nothing_from_another_host(open_page, live_server, admin_user, path):
    page = open_page(admin_user)
    ours = urlsplit(live_server.url).netloc
    outside: list[str] = []

    def guard(route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != ours:
            outside.append(url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", guard)
    page.goto(f"{live_server.url}{path}")
    page.wait_for_load_state("networkidle")
    if path == "/api/v1/redoc/":
        # The footer (with the logo Redoc's bundle fetches) renders once the schema is read.
        page.get_by_text("API docs by Redocly").wait_for()
        page.wait_for_load_state("networkidle")
    assert outside == [], f"{path} requested {outside}"
