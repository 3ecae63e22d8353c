"""The API docs pages under the site's Content-Security-Policy.

Swagger UI runs with the policy as it is (its init script is served by the split view as a
script of its own). Redoc styles its page with styled-components, which writes ``<style>``
elements at run time: the page's policy allows those by a nonce made for each response (Redoc
hands its ``nonce`` option to styled-components), never by ``'unsafe-inline'``.
"""

from __future__ import annotations

import json
import secrets

from django.conf import settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView

# What Redoc's bundle (drf-spectacular-sidecar, pinned) injects at load, before any nonce is
# known: perfect-scrollbar's stylesheet, and an empty style element. Allowed by their exact
# hashes only; the browser test (tests/e2e/test_content_security_policy.py) fails if a new
# sidecar version changes them.
REDOC_STYLE_HASHES = (
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
)


class RedocView(SpectacularRedocView):
    template_name = "cspm/api/redoc.html"

    @extend_schema(exclude=True)  # a page, not an endpoint of the API
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        nonce = secrets.token_urlsafe(18)
        options = json.loads(response.data.get("settings") or "{}")
        response.data["settings"] = json.dumps({**options, "nonce": nonce})
        policy = settings.CSPM_CONTENT_SECURITY_POLICY
        if policy:
            styles = " ".join(("'self'", f"'nonce-{nonce}'", *REDOC_STYLE_HASHES))
            # Its search runs in a worker that it builds from a blob: URL.
            response.headers["Content-Security-Policy"] = (
                policy.replace("style-src 'self'", f"style-src {styles}")
                + "; worker-src 'self' blob:"
            )
        return response
