"""Project-level views: health, the favicon."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static

from cspm.health import health_response


@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    """For ``reverse("healthz")``; HealthCheckMiddleware answers this path before any view."""
    return health_response()


@login_not_required
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin console, the API
    docs): send them to the static one instead of a 404 on every page."""
    return redirect(static("favicon.ico"), permanent=True)
