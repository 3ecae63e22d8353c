from django.urls import path

from findings import views

urlpatterns = [
    path("", views.overview, name="home"),
    path("controls/<int:pk>/", views.control_detail, name="control-detail"),
    path("resources/<int:pk>/", views.resource_detail, name="resource-detail"),
    path("remediation/main.tf", views.remediation_terraform, name="remediation-terraform"),
    path("scans/", views.scan_list, name="scan-list"),
    path("scans/start", views.scan_start, name="scan-start"),
    path("scans/<int:pk>/", views.scan_detail, name="scan-detail"),
]
