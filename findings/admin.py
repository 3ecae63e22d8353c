"""Admin console for what scans know.

Scan results (resources, findings, their events) are read-only here: they change only through
scans, so that invariant 2 (a finding is resolved only by a scan that saw it pass) holds.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from cspm.admin_mixins import ReadOnlyAdminMixin
from cspm.roles import may_see_external_ids
from findings.models import (
    AccountRegion,
    Benchmark,
    Check,
    CloudAccount,
    Control,
    Finding,
    FindingEvent,
    Resource,
    Scan,
    ScanChange,
    ScanRegion,
)


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(CloudAccount)
class CloudAccountAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "account_id",
        "credentials",
        "region_list",
        "scan_interval_hours",
        "enabled",
        "updated_at",
    )
    list_filter = ("enabled",)
    search_fields = ("name", "account_id", "role_arn")
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "account_id", "enabled")}),
        (
            "Access (no secret is ever stored)",
            {"fields": ("role_arn", "external_id", "endpoint_url")},
        ),
        ("Scanning", {"fields": ("regions", "scan_interval_hours")}),
        ("Timestamps", {"fields": ("created_at", "updated_at")}),
    )

    def get_fieldsets(self, request: HttpRequest, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if may_see_external_ids(request.user):
            return fieldsets
        # Others read whether an external id is set, never the id itself.
        return [
            (
                name,
                {
                    **options,
                    "fields": tuple(
                        "external_id_status" if f == "external_id" else f for f in options["fields"]
                    ),
                },
            )
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if may_see_external_ids(request.user):
            return fields
        return (*fields, "external_id_status")

    @admin.display(description="external id")
    def external_id_status(self, obj: CloudAccount) -> str:
        return "set (shown to admins only)" if obj.external_id else "not set"

    @admin.display(description="credentials")
    def credentials(self, obj: CloudAccount) -> str:
        return "default chain" if obj.uses_default_credentials else "assume role"

    @admin.display(description="regions")
    def region_list(self, obj: CloudAccount) -> str:
        return ", ".join(obj.regions) if obj.regions else "all enabled"


class ControlInline(ReadOnlyInline):
    model = Control
    fields = ("ref", "title", "level", "automated", "severity")


@admin.register(Benchmark)
class BenchmarkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Catalogs are loaded, never edited here; admins only switch benchmarks on and off."""

    list_display = ("name", "version", "enabled", "published", "control_count")
    list_filter = ("enabled", "slug")
    inlines = [ControlInline]
    actions = ["enable_benchmarks", "disable_benchmarks"]

    def has_enable_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("findings.change_benchmark")

    def _switch(self, request: HttpRequest, queryset, enabled: bool) -> None:
        from django.core.exceptions import ValidationError

        from findings.services.benchmarks import set_benchmark_enabled

        changed = []
        for benchmark in queryset:
            try:
                if set_benchmark_enabled(benchmark, enabled):
                    changed.append(f"{benchmark.slug}@{benchmark.version}")
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
        state = "Enabled" if enabled else "Disabled"
        if changed:
            self.message_user(request, f"{state}: {', '.join(changed)}.", messages.SUCCESS)

    @admin.action(description="Enable the selected benchmarks", permissions=["enable"])
    def enable_benchmarks(self, request: HttpRequest, queryset) -> None:
        self._switch(request, queryset, True)

    @admin.action(description="Disable the selected benchmarks", permissions=["enable"])
    def disable_benchmarks(self, request: HttpRequest, queryset) -> None:
        self._switch(request, queryset, False)

    @admin.display(description="controls")
    def control_count(self, obj: Benchmark) -> int:
        return obj.controls.count()


@admin.register(Control)
class ControlAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("ref", "title", "section_title", "level", "automated", "severity")
    list_filter = ("benchmark", "section_title", "level", "automated", "severity")
    search_fields = ("ref", "title", "description")
    ordering = ("benchmark", "position")


@admin.register(Check)
class CheckAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("check_id", "title", "service", "resource_type", "control_refs", "active")
    list_filter = ("service", "resource_type", "active")
    search_fields = ("check_id", "title")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Check]:
        return super().get_queryset(request).prefetch_related("controls")

    @admin.display(description="controls")
    def control_refs(self, obj: Check) -> str:
        return ", ".join(c.ref for c in obj.controls.all())


class FindingInline(ReadOnlyInline):
    model = Finding
    fk_name = "resource"
    fields = ("control_check", "status", "acceptance", "first_seen", "resolved_at")


@admin.register(Resource)
class ResourceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "resource_type", "account", "region", "first_seen", "gone_at")
    list_filter = ("resource_type", "region", "account", ("gone_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "arn")
    date_hierarchy = "first_seen"
    list_select_related = ("account",)
    ordering = ("account__name", "region", "resource_type", "name")
    inlines = [FindingInline]


class ScanRegionInline(ReadOnlyInline):
    model = ScanRegion
    show_change_link = False
    fields = (
        "region",
        "state",
        "baseline",
        "resources_seen",
        "findings_failed",
        "api_calls",
        "error",
        "failed_services",
        "skipped_regions",
    )


@admin.register(Scan)
class ScanAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "pk",
        "account",
        "state",
        "trigger",
        "progress",
        "findings_failed",
        "changes",
        "created_at",
        "finished_at",
    )
    list_filter = ("state", "trigger", "account")
    date_hierarchy = "created_at"
    list_select_related = ("account",)
    readonly_fields = ("changes",)
    inlines = [ScanRegionInline]

    @admin.display(description="regions done")
    def progress(self, obj: Scan) -> str:
        return f"{obj.regions_done}/{obj.regions_total}"

    @admin.display(description="changes")
    def changes(self, obj: Scan) -> str:
        """Counts from the scan's close, linked to its change rows (a scan may hold thousands:
        a filtered list pages them, an inline would not)."""
        counts = obj.change_counts
        if not counts:
            return "-"
        if counts.get("baseline_units") and not any(
            counts.get(kind) for kind in ScanChange.Kind.values
        ):
            return "baseline"
        url = reverse("admin:findings_scanchange_changelist") + f"?scan__id__exact={obj.pk}"
        return format_html(
            '<a href="{}">+{} failing, {} fixed, {} gone, {} stale</a>',
            url,
            counts.get("new_failure", 0) - counts.get("accepted", 0),
            counts.get("fixed", 0),
            counts.get("gone", 0),
            counts.get("stale_acceptance", 0),
        )


@admin.register(AccountRegion)
class AccountRegionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("account", "region", "last_scanned_at", "last_scan")
    list_filter = ("account",)


class FindingEventInline(ReadOnlyInline):
    model = FindingEvent
    show_change_link = False
    fields = ("at", "kind", "scan", "evidence")


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "control_check",
        "resource_link",
        "account",
        "region",
        "colored_status",
        "acceptance",
        "first_seen",
        "resolved_at",
    )
    list_filter = (
        "status",
        "region",
        "account",
        "control_check",
        ("acceptance", admin.EmptyFieldListFilter),
    )
    search_fields = ("resource__name", "resource__arn", "control_check__check_id")
    date_hierarchy = "first_seen"
    list_select_related = ("control_check", "resource", "account", "acceptance__control")
    ordering = ("-status_changed_at",)
    inlines = [FindingEventInline]

    @admin.display(description="resource")
    def resource_link(self, obj: Finding) -> str:
        return str(obj.resource)

    @admin.display(description="status", ordering="status")
    def colored_status(self, obj: Finding) -> str:
        colors = {
            "fail": "#b42318",
            "accepted": "#b54708",
            "pass": "#067647",
            "resolved": "#475467",
        }
        status = obj.display_status
        return format_html(
            '<strong style="color:{}">{}</strong>', colors.get(status, "#000"), status
        )


@admin.register(ScanChange)
class ScanChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What each scan changed; open a scan's list from the scan's "changes" link."""

    list_display = ("scan", "kind", "severity", "finding", "resource", "accepted", "acceptance")
    list_filter = ("kind", "severity", "accepted", "scan__account")
    search_fields = ("finding__resource__name", "finding__resource__arn")
    list_select_related = (
        "scan__account",
        "finding__control_check",
        "finding__resource",
        "acceptance__control",
    )
    raw_id_fields = ("scan", "finding", "acceptance")

    @admin.display(description="resource")
    def resource(self, obj: ScanChange) -> str:
        return str(obj.finding.resource) if obj.finding_id else "-"
