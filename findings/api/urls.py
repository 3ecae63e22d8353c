"""Routes of the findings API (included under /api/v1/ by ``cspm.api.urls``)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from findings.api import views

router = SimpleRouter()
router.register("accounts", views.CloudAccountViewSet, basename="account")
router.register("benchmarks", views.BenchmarkViewSet, basename="benchmark")
router.register("controls", views.ControlViewSet, basename="control")
router.register("resources", views.ResourceViewSet, basename="resource")
router.register("scans", views.ScanViewSet, basename="scan")
router.register("findings", views.FindingViewSet, basename="finding")

urlpatterns = [
    *router.urls,
    path("posture/", views.PostureView.as_view(), name="posture"),
    path("posture/zones/", views.PostureByZoneView.as_view(), name="posture-zones"),
    path("posture/export/", views.PostureExportView.as_view(), name="posture-export"),
]
