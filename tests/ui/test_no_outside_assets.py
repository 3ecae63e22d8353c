"""Every page the app serves loads its assets from the app's own host, none from a CDN.

Each page is rendered through the app (its templates, the admin's, the browsable API's and the
API docs'), and every asset reference in it (scripts, stylesheets, images, frames, fonts, CSS
``url()``) must be relative or on the app's host. Links to other sites (``<a href>``) are fine.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from findings.models import Scan

pytestmark = pytest.mark.django_db

HOST = "testserver"
_ASSET_TAG = re.compile(
    r"<(?:script|img|iframe|source|link|video|audio|embed|object)\b[^>]*>", re.I
)
_ATTR = re.compile(r"""\b(?:src|href|data|poster|srcset)\s*=\s*["']?([^"'\s>]+)""", re.I)
_CSS_URL = re.compile(r"""url\(\s*["']?([^"')\s]+)""", re.I)


def outside_assets(html: str) -> list[str]:
    """Absolute (or protocol-relative) asset URLs in ``html`` that are not on our host."""
    found = [m for tag in _ASSET_TAG.findall(html) for m in _ATTR.findall(tag)]
    found += _CSS_URL.findall(html)
    return [
        url
        for url in found
        if (url.startswith("//") or urlsplit(url).scheme in ("http", "https"))
        and urlsplit(url if "://" in url else f"http:{url}").hostname != HOST
    ]


def test_the_checker_spots_a_cdn_asset_and_allows_links():
    html = (
        '<a href="https://www.cisecurity.org/">CIS</a><img src="/static/x.png">'
        '<img alt="logo" src="https://cdn.redoc.ly/redoc/logo-mini.svg">'
        '<link rel="stylesheet" href="//fonts.googleapis.com/css">'
        '<style>body { background: url("https://example.com/bg.png") }</style>'
        f'<script src="http://{HOST}/static/app.js"></script>'
    )
    assert outside_assets(html) == [
        "https://cdn.redoc.ly/redoc/logo-mini.svg",
        "//fonts.googleapis.com/css",
        "https://example.com/bg.png",
    ]


def _pages_without_arguments(resolver: URLResolver, prefix: str = "") -> list[str]:
    pages = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if "<" in route or "(?P" in route or "\\" in route:
            continue  # needs an argument: the detail pages are listed in the test
        if isinstance(entry, URLResolver):
            pages += _pages_without_arguments(entry, route)
        elif isinstance(entry, URLPattern):
            pages.append("/" + route.lstrip("^").rstrip("$"))
    return pages


def test_no_page_loads_an_asset_from_another_host(client, admin_user, estate):
    finding = estate.findings["images"]
    scan = Scan.objects.create(account=estate.account, state=Scan.State.SUCCEEDED)
    details = [
        f"/controls/{finding.control_check.controls.first().pk}/",
        f"/resources/{finding.resource_id}/",
        f"/scans/{scan.pk}/",
        f"/zones/{estate.prod.pk}/",
        f"/admin/findings/cloudaccount/{estate.account.pk}/change/",
        f"/admin/findings/finding/{finding.pk}/change/",
    ]
    client.force_login(admin_user)
    served = 0
    for path in {*_pages_without_arguments(get_resolver()), *details, "/login/"}:
        response = client.get(path, HTTP_ACCEPT="text/html")
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        html = b"".join(response).decode() if response.streaming else response.content.decode()
        assert outside_assets(html) == [], path
        served += 1
    # The pages that matter were really rendered, not skipped.
    for path in ("/", "/api/v1/docs/", "/api/v1/redoc/", "/admin/", "/acceptances/", *details):
        assert client.get(path, HTTP_ACCEPT="text/html").status_code == 200, path
    assert served > 40
