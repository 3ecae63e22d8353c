"""Project-level views: health."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse

from cspm.health import health_response


@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    """For ``reverse("healthz")``; HealthCheckMiddleware answers this path before any view."""
    return health_response()
