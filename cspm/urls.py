"""Root URLs."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cspm import views
from cspm.login import AdminLoginForm, LoginView

admin.site.site_header = "CSPM risk-treatment manager"
admin.site.site_title = "CSPM admin"
admin.site.index_title = "Administration"
# Wrong passwords are throttled in the admin console as on the browser's login page.
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("", include("findings.urls")),
    path("", include("acceptances.urls")),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("cspm.api.urls")),
]

# JSON for /api/ paths that match no route, the usual page elsewhere.
handler404 = "cspm.api.exceptions.not_found"
