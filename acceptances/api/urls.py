"""Routes of the acceptances API (included under /api/v1/ by ``cspm.api.urls``)."""

from rest_framework.routers import SimpleRouter

from acceptances.api import views

router = SimpleRouter()
router.register("zones", views.ZoneViewSet, basename="zone")
router.register("acceptances", views.AcceptanceViewSet, basename="acceptance")
router.register("fix-plans", views.FixPlanViewSet, basename="fix-plan")
router.register("appetite-rules", views.AppetiteRuleViewSet, basename="appetite-rule")

urlpatterns = router.urls
