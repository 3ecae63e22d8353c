"""Server-Timing: how long the app took for each request, readable in the browser's tools."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ServerTimingMiddleware:
    """Adds ``Server-Timing: app;dur=<ms>`` so slow pages show up without a profiler (the
    triage benchmark reads it too: server time, without the client's share)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = (time.perf_counter() - started) * 1000
        response.headers["Server-Timing"] = f"app;dur={elapsed:.1f}"
        return response


class ContentSecurityPolicyMiddleware:
    """Sends ``settings.CSPM_CONTENT_SECURITY_POLICY`` with every response that has none.

    Django 5.2 has no built-in CSP (6.0 adds one). The policy allows scripts, styles, images
    and fonts from the app itself only: no inline script, style or ``style=`` attribute, so an
    injected ``<script>`` or handler does not run even if some text escaped its escaping.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        response = self.get_response(request)
        policy = getattr(settings, "CSPM_CONTENT_SECURITY_POLICY", "")
        if policy and "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = policy
        return response
