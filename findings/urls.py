from django.urls import path

from findings import views

urlpatterns = [
    path("", views.overview, name="home"),
    path("posture/export", views.posture_export, name="posture-export"),
    path("controls/<int:pk>/", views.control_detail, name="control-detail"),
    path("findings/", views.finding_list, name="finding-list"),
    path("findings/export", views.finding_export, name="finding-export"),
    path("resources/", views.resource_list, name="resource-list"),
    path("resources/export", views.resource_export, name="resource-export"),
    path("resources/<int:pk>/", views.resource_detail, name="resource-detail"),
    path("remediation/main.tf", views.remediation_terraform, name="remediation-terraform"),
    path("scans/", views.scan_list, name="scan-list"),
    path("scans/start", views.scan_start, name="scan-start"),
    path("scans/<int:pk>/", views.scan_detail, name="scan-detail"),
]
