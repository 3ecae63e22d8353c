"""Filters of the acceptances and zones API (django-filter)."""

from __future__ import annotations

from django.utils import timezone
from django_filters import rest_framework as filters

from acceptances import hygiene
from acceptances.models import Reason, RiskAcceptance, Treatment, Zone
from cspm.api.base import DateTimeFilter, IdFilter
from findings.models import Control


class ZoneFilter(filters.FilterSet):
    name = filters.CharFilter(lookup_expr="icontains")
    is_builtin = filters.BooleanFilter()

    class Meta:
        model = Zone
        fields = ("name", "is_builtin")


class AcceptanceFilter(filters.FilterSet):
    """Acceptances by state, zone, control, owner, reason, expiring before a date, and by the
    numbers of the hygiene page (``hygiene``)."""

    state = filters.ChoiceFilter(choices=RiskAcceptance.State.choices)
    zone = filters.ModelChoiceFilter(queryset=Zone.objects.all())
    resource = IdFilter(field_name="resource_id")
    scope = filters.ChoiceFilter(
        choices=[("resource", "One resource"), ("zone", "A zone")], method="filter_scope"
    )
    control = filters.ModelChoiceFilter(queryset=Control.objects.all())
    control_ref = filters.CharFilter(field_name="control__ref", help_text="e.g. 2.1.1")
    owner = filters.CharFilter(field_name="owner__username", help_text="The owner's username.")
    reason = filters.ChoiceFilter(choices=Reason.choices)
    treatment = filters.ChoiceFilter(choices=Treatment.choices)
    expires_before = DateTimeFilter(
        field_name="expires_at", lookup_expr="lt", help_text="Expiring before this moment."
    )
    expires_after = DateTimeFilter(field_name="expires_at", lookup_expr="gte")
    stale = filters.BooleanFilter(field_name="stale_since", lookup_expr="isnull", exclude=True)
    needs_review = filters.BooleanFilter(
        field_name="review_flagged_at",
        lookup_expr="isnull",
        exclude=True,
        help_text="Flagged by a scan: the accepted configuration changed.",
    )
    hygiene = filters.ChoiceFilter(
        choices=hygiene.HYGIENE_CHOICES,
        method="filter_hygiene",
        help_text="The acceptances behind a number of the hygiene page (/hygiene/).",
    )

    class Meta:
        model = RiskAcceptance
        fields = ()

    def filter_scope(self, queryset, name: str, value: str):
        if value == "zone":
            return queryset.filter(zone__isnull=False)
        if value == "resource":
            return queryset.filter(resource__isnull=False)
        return queryset

    def filter_hygiene(self, queryset, name: str, value: str):
        return hygiene.filter_acceptances(queryset, value, timezone.now())
