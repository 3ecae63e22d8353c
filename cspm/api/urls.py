"""The REST API, version 1: every app's routes, API tokens, the OpenAPI schema and its docs.

Included by the root URLs under ``/api/v1/`` with the namespace ``api``. DRF views are exempt
from the login-required middleware (they answer 401/403 as JSON instead of a redirect); the
schema and the docs pages need an authenticated user, by session or token.
"""

from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import SimpleRouter

from cspm.api import docs, views

router = SimpleRouter()
router.register("tokens", views.ApiTokenViewSet, basename="token")

app_name = "api"
urlpatterns = [
    path("", include("findings.api.urls")),
    path("", include("acceptances.api.urls")),
    *router.urls,
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its init script as a script of its own: no inline script (CSP).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="cspm/api/swagger_ui.html"
        ),
        name="docs",
    ),
    path(
        "redoc/",
        docs.RedocView.as_view(url_name="api:schema"),
        name="redoc",
    ),
]
