"""Filters of the findings API (django-filter): every list filters on what a person asks."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django_filters import rest_framework as filters

from cspm.api.base import DateTimeRangeFilter, IdFilter
from findings import hooks
from findings.forms import EnabledBenchmarkField
from findings.models import (
    Benchmark,
    Check,
    CloudAccount,
    Control,
    Finding,
    Resource,
    Scan,
    Severity,
)
from findings.queries import get_default_benchmark


def in_zone(queryset: QuerySet, zone: Model, resource_field: str) -> QuerySet:
    """Rows whose resource is in ``zone`` (the built-in zone holds everything, without rows)."""
    if zone.is_builtin:
        return queryset
    return queryset.filter(**{f"{resource_field}__in": hooks.zone_member_ids(zone.pk)})


def _zones(request: Any) -> QuerySet:
    # Asked per request: the zones are the treatment side's (see findings.hooks).
    return hooks.zones()


class AccountFilter(filters.FilterSet):
    account_id = filters.CharFilter(help_text="The 12-digit AWS account id.")
    enabled = filters.BooleanFilter()
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = CloudAccount
        fields = ("account_id", "enabled", "name")


class BenchmarkFilter(filters.FilterSet):
    slug = filters.CharFilter()
    version = filters.CharFilter()

    class Meta:
        model = Benchmark
        fields = ("slug", "version")


class ControlFilter(filters.FilterSet):
    benchmark = filters.ModelChoiceFilter(queryset=Benchmark.objects.all())
    ref = filters.CharFilter(help_text="The control's reference, e.g. 2.1.1.")
    severity = filters.ChoiceFilter(choices=Severity.choices)
    level = filters.ChoiceFilter(choices=[(1, "Level 1"), (2, "Level 2")])
    automated = filters.BooleanFilter()
    section = filters.CharFilter(field_name="section_ref", help_text="A section, e.g. 2.1.")
    evaluated = filters.BooleanFilter(
        help_text="false: automated controls no check of ours decides (listed as not evaluated)."
    )
    service = filters.CharFilter(lookup_expr="iexact", help_text="The AWS service, e.g. ECS.")

    class Meta:
        model = Control
        fields = (
            "benchmark",
            "ref",
            "severity",
            "level",
            "automated",
            "section",
            "evaluated",
            "service",
        )


class ResourceFilter(filters.FilterSet):
    account = filters.ModelChoiceFilter(queryset=CloudAccount.objects.all())
    account_id = filters.CharFilter(field_name="account__account_id")
    region = filters.CharFilter()
    resource_type = filters.CharFilter()
    zone = filters.ModelChoiceFilter(queryset=_zones, method="filter_zone")
    gone = filters.BooleanFilter(field_name="gone_at", lookup_expr="isnull", exclude=True)
    name = filters.CharFilter(lookup_expr="icontains")
    arn = filters.CharFilter()

    class Meta:
        model = Resource
        fields = ("account", "account_id", "region", "resource_type", "zone", "gone", "name", "arn")

    def filter_zone(self, queryset: QuerySet, name: str, value: Model | None) -> QuerySet:
        return in_zone(queryset, value, "pk") if value else queryset


class ScanFilter(filters.FilterSet):
    account = filters.ModelChoiceFilter(queryset=CloudAccount.objects.all())
    state = filters.ChoiceFilter(choices=Scan.State.choices)
    trigger = filters.ChoiceFilter(choices=Scan.Trigger.choices)
    created = DateTimeRangeFilter(field_name="created_at")

    class Meta:
        model = Scan
        fields = ("account", "state", "trigger", "created")


class EnabledBenchmarkFilter(filters.ModelChoiceFilter):
    """An enabled benchmark's id; a disabled one is refused saying so."""

    field_class = EnabledBenchmarkField


class FindingFilter(filters.FilterSet):
    """Findings by control, check, account, region, zone, resource type, status, accepted,
    severity, first or last seen."""

    control = filters.ModelChoiceFilter(
        queryset=Control.objects.all(), method="filter_control", help_text="A control's id."
    )
    control_ref = filters.CharFilter(
        method="filter_control_ref",
        help_text="A control's reference, e.g. 2.1.1, in `benchmark` (the default one if none).",
    )
    benchmark = EnabledBenchmarkFilter(
        queryset=Benchmark.objects.filter(enabled=True),
        method="filter_benchmark",
        help_text="A benchmark's id: findings of the checks that decide its controls.",
    )
    check = filters.CharFilter(
        field_name="control_check__check_id", help_text="A check id, e.g. s3_bucket_mfa_delete."
    )
    account = filters.ModelChoiceFilter(queryset=CloudAccount.objects.all())
    account_id = filters.CharFilter(
        field_name="account__account_id", help_text="The 12-digit AWS account id."
    )
    region = filters.CharFilter()
    zone = filters.ModelChoiceFilter(queryset=_zones, method="filter_zone")
    resource = IdFilter(field_name="resource_id")
    resource_type = filters.CharFilter(field_name="resource__resource_type")
    status = filters.ChoiceFilter(choices=Finding.Status.choices)
    accepted = filters.BooleanFilter(
        field_name="acceptance",
        lookup_expr="isnull",
        exclude=True,
        help_text="true: failures covered by an active acceptance; false: the others.",
    )
    resolved = filters.BooleanFilter(field_name="resolved_at", lookup_expr="isnull", exclude=True)
    severity = filters.ChoiceFilter(
        choices=Severity.choices,
        method="filter_severity",
        help_text="Findings of a check that evidences a control of this severity.",
    )
    first_seen = DateTimeRangeFilter(help_text="first_seen_after / first_seen_before (ISO 8601).")
    last_seen = DateTimeRangeFilter(help_text="last_seen_after / last_seen_before (ISO 8601).")

    class Meta:
        model = Finding
        fields = ()

    def filter_control(self, queryset: QuerySet, name: str, value: Control | None) -> QuerySet:
        if value is None:
            return queryset
        # A subquery rather than a join: no duplicate rows when a check evidences two controls.
        return queryset.filter(control_check__in=Check.objects.filter(controls=value))

    def filter_control_ref(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return queryset
        # A reference means a control of one benchmark: 5.6 is IMDSv2 in one version and
        # something else in another.
        benchmark = self.form.cleaned_data.get("benchmark") or get_default_benchmark()
        return queryset.filter(
            control_check__in=Check.objects.filter(
                controls__ref=value, controls__benchmark=benchmark
            )
        )

    def filter_benchmark(self, queryset: QuerySet, name: str, value: Benchmark | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(control_check__in=Check.objects.filter(controls__benchmark=value))

    def filter_zone(self, queryset: QuerySet, name: str, value: Model | None) -> QuerySet:
        return in_zone(queryset, value, "resource_id") if value else queryset

    def filter_severity(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(control_check__in=Check.objects.filter(controls__severity=value))
