from django.urls import path

from acceptances import register_views, views

urlpatterns = [
    path("acceptances/", views.acceptance_list, name="acceptance-list"),
    path("acceptances/new", views.accept_risk, name="accept-risk"),
    path("acceptances/preview", views.accept_preview, name="accept-preview"),
    path("acceptances/assessment", views.accept_assessment, name="accept-assessment"),
    path("acceptances/<int:pk>/", views.acceptance_detail, name="acceptance-detail"),
    path("acceptances/<int:pk>/approve", views.acceptance_approve, name="acceptance-approve"),
    path("acceptances/<int:pk>/sign-off", views.acceptance_sign_off, name="acceptance-sign-off"),
    path("acceptances/<int:pk>/revoke", views.acceptance_revoke, name="acceptance-revoke"),
    path("acceptances/<int:pk>/extend", views.acceptance_extend, name="acceptance-extend"),
    path(
        "acceptances/<int:pk>/changes/<int:change_pk>/approve",
        views.acceptance_change_decide,
        {"decision": "approve"},
        name="acceptance-change-approve",
    ),
    path(
        "acceptances/<int:pk>/changes/<int:change_pk>/reject",
        views.acceptance_change_decide,
        {"decision": "reject"},
        name="acceptance-change-reject",
    ),
    path(
        "acceptances/<int:pk>/compensation",
        views.acceptance_compensation,
        name="acceptance-compensation",
    ),
    path("acceptances/<int:pk>/reviewed", views.acceptance_reviewed, name="acceptance-reviewed"),
    path("acceptances/<int:pk>/end-earlier", views.acceptance_shorten, name="acceptance-shorten"),
    path("fix-plans/", views.fix_plan_list, name="fix-plan-list"),
    path("fix-plans/new", views.fix_plan_new, name="fix-plan-new"),
    path("fix-plans/<int:pk>/cancel", views.fix_plan_cancel, name="fix-plan-cancel"),
    path("audit/", views.audit_log, name="audit-log"),
    path("benchmarks/diff/", views.benchmark_diff, name="benchmark-diff"),
    path("hygiene/", views.hygiene_page, name="hygiene"),
    path("register/", register_views.register_page, name="register"),
    path("register/export/", register_views.register_export_file, name="register-export"),
    path("controls/<int:pk>/attest", views.control_attest, name="control-attest"),
    path("zones/", views.zone_list, name="zone-list"),
    path("zones/new", views.zone_edit, name="zone-new"),
    path("zones/preview", views.zone_preview, name="zone-preview"),
    path("zones/<int:pk>/", views.zone_edit, name="zone-edit"),
    path("zones/<int:pk>/watch", views.zone_watch, name="zone-watch"),
    path("zones/<int:pk>/unwatch", views.zone_unwatch, name="zone-unwatch"),
]
