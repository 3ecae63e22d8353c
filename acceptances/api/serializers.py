"""Zones and risk acceptances, as JSON. Input is typed here; the rules live in the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from acceptances import queries, risk
from acceptances.models import (
    AcceptanceChange,
    AcceptanceEvent,
    AppetiteRule,
    CompensatingControl,
    FixPlan,
    Reason,
    RiskAcceptance,
    Treatment,
    Zone,
    ZoneWatch,
)
from acceptances.services import (
    expiry_from_preset,
    extension_base,
    validate_extension,
    validate_shortening,
)
from acceptances.zones import MAX_LIST_VALUES, MAX_TAG_RULE_LENGTH, MAX_TAG_RULES
from cspm.api.fields import IdRelatedField
from cspm.api.shared import ResourceRefSerializer
from cspm.roles import users_with_a_role
from findings.models import Benchmark, Control, Resource, Severity

RULES_SCHEMA = {
    "type": "object",
    "description": "Zone rules: each listed criterion must hold, values within one are "
    "alternatives. Tags (case-sensitive, as in AWS): `key=value` (the tag is exactly value), "
    "`key != value` (the tag is anything else, or the resource lacks the tag), "
    "`key in (a, b)` (the tag is a or b), `key` (the tag is present). Double-quote a key or "
    'value holding parentheses, quotes, commas in a list or the word in: `Name = "a (b)"`, '
    '`Team in ("x, y", z)`. Beyond the limits (items per list, characters per tag rule) the '
    "request is refused with 400 naming the limit.",
    "properties": {
        "account_ids": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[0-9]{12}$"},
            "maxItems": MAX_LIST_VALUES,
        },
        "regions": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_LIST_VALUES},
        "resource_types": {
            "type": "array",
            "items": {"type": "string"},
            "maxItems": MAX_LIST_VALUES,
        },
        "tags": {
            "type": "array",
            "items": {"type": "string", "maxLength": MAX_TAG_RULE_LENGTH},
            "maxItems": MAX_TAG_RULES,
        },
    },
    "additionalProperties": False,
}


@extend_schema_field(RULES_SCHEMA)
class RulesField(serializers.JSONField):
    """Rules are checked by ``acceptances.zones.parse_rules`` (in the service), which refuses
    lists beyond its limits before parsing any rule, naming the limit."""


class ZoneSerializer(serializers.ModelSerializer):
    rules = RulesField(read_only=True)
    created_by = serializers.CharField(
        source="created_by.get_username", read_only=True, allow_null=True, default=None
    )
    member_count = serializers.IntegerField(
        read_only=True, help_text="Current resources in the zone."
    )

    class Meta:
        model = Zone
        fields = (
            "id",
            "name",
            "description",
            "rules",
            "is_builtin",
            "created_by",
            "created_at",
            "updated_at",
            "membership_updated_at",
            "member_count",
        )


class ZoneWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(
        allow_blank=True, required=False, default="", max_length=10000
    )
    rules = RulesField(required=False, default=dict, help_text="Empty: matches everything.")


class ZonePreviewSerializer(serializers.Serializer):
    rules = RulesField()


class ZonePreviewResultSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many current resources the rules match.")
    sample = ResourceRefSerializer(many=True, help_text="Up to 20 of them.")


class ZoneWatchInputSerializer(serializers.Serializer):
    min_severity = serializers.ChoiceField(
        choices=Severity.choices,
        required=False,
        default="",
        allow_blank=True,
        help_text="Alerts from this severity up; empty: every severity.",
    )
    benchmarks = serializers.PrimaryKeyRelatedField(
        queryset=Benchmark.objects.all(),
        many=True,
        required=False,
        help_text="Benchmark ids whose controls the alerts list (enabled ones); empty: the "
        "default benchmark; left out: unchanged.",
    )


class ZoneWatchSerializer(serializers.ModelSerializer):
    zone = serializers.PrimaryKeyRelatedField(read_only=True)
    user = serializers.CharField(source="user.get_username", read_only=True)
    min_severity = serializers.CharField(
        read_only=True, help_text="Alerts from this severity up; empty: every severity."
    )

    class Meta:
        model = ZoneWatch
        fields = ("zone", "user", "min_severity", "benchmarks", "created_at")
        read_only_fields = fields


def _active_users():
    # Only someone who can answer for a decision may own it.
    return users_with_a_role()


EXPIRY_CHOICES = ["7", "30", "60", "90", "date", "never"]


class _ExpiryInput(serializers.Serializer):
    """An expiry as a moment (``expires_at``) or as a preset (``expiry`` + ``expires_on``)."""

    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    expiry = serializers.ChoiceField(
        choices=EXPIRY_CHOICES,
        required=False,
        help_text="7, 30, 60 or 90 days from now, a date (give expires_on), or never.",
    )
    expires_on = serializers.DateField(
        required=False, help_text="With expiry=date: the last day of the acceptance."
    )

    def expiry_base(self, now: dt.datetime) -> dt.datetime | None:
        """Where the day presets count from (None: now)."""
        return None

    def resolve_expiry(self, attrs: dict[str, Any], *, required: bool) -> dict[str, Any]:
        preset = attrs.pop("expiry", None)
        on_date = attrs.pop("expires_on", None)
        if preset is not None and "expires_at" in attrs:
            raise serializers.ValidationError(
                {"expiry": ["Give either expires_at or expiry, not both."]}
            )
        if preset is not None:
            now = timezone.now()
            attrs["expires_at"] = expiry_from_preset(
                preset, now, on_date, base=self.expiry_base(now)
            )
            if preset == "date" and attrs["expires_at"] <= now:
                # Named for the field the client sent: the service would say expires_at.
                raise serializers.ValidationError(
                    {"expires_on": ["The end date must be in the future."]}
                )
        elif required and "expires_at" not in attrs:
            raise serializers.ValidationError(
                {"expires_at": ["Give the new expiry (expires_at, or expiry as a preset)."]}
            )
        return attrs


class CompensatingControlInputSerializer(serializers.Serializer):
    control = IdRelatedField(
        queryset=Control.objects.all(), help_text="A control of the same benchmark (its id)."
    )
    resource = IdRelatedField(
        queryset=Resource.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="This control must pass on this resource; empty: it must fail nowhere in "
        "the acceptance's own scope.",
    )


def _compensating_input(required: bool = False) -> CompensatingControlInputSerializer:
    return CompensatingControlInputSerializer(
        many=True,
        required=required,
        max_length=50,
        help_text="Controls checked after every scan: while one fails, the acceptance is "
        "suspended (its findings fail again). On update, the list replaces the current one.",
    )


def compensating_pairs(items: list[dict[str, Any]]) -> list[tuple[Control, Resource | None]]:
    return [(item["control"], item.get("resource")) for item in items]


class CompensatingControlSerializer(serializers.ModelSerializer):
    control_ref = serializers.CharField(source="control.ref", read_only=True)
    resource_label = serializers.SerializerMethodField()
    verdict = serializers.SerializerMethodField(
        help_text="passing, failing (since failing_since), or unchecked (no scan yet)."
    )

    class Meta:
        model = CompensatingControl
        fields = (
            "control",
            "control_ref",
            "resource",
            "resource_label",
            "verdict",
            "failing_since",
            "checked_at",
        )
        read_only_fields = fields

    def get_resource_label(self, row: CompensatingControl) -> str | None:
        if row.resource_id is None:
            return None
        return row.resource.name or row.resource.arn

    @extend_schema_field({"type": "string", "enum": ["passing", "failing", "unchecked"]})
    def get_verdict(self, row: CompensatingControl) -> str:
        if row.failing_since is not None:
            return "failing"
        return "passing" if row.checked_at is not None else "unchecked"


def _rating_field(help_text: str) -> serializers.ChoiceField:
    # Empty is a value here ("every rating", "not assessed"): the schema says so.
    return serializers.ChoiceField(
        choices=Severity.choices, allow_blank=True, read_only=True, help_text=help_text
    )


def _level(name: str, meanings: dict[int, tuple[str, str]], *, required: bool):
    words = "; ".join(f"{n} {word}" for n, (word, _) in meanings.items())
    return serializers.IntegerField(
        min_value=1,
        max_value=5,
        required=required,
        error_messages={
            "required": f"Rate the {name}, 1 to 5.",
            "null": f"Rate the {name}, 1 to 5.",
            "invalid": f"The {name} is a level from 1 to 5.",
            "min_value": f"The {name} is a level from 1 to 5.",
            "max_value": f"The {name} is a level from 1 to 5.",
        },
        help_text=f"The residual risk's {name}, 1 to 5 ({words}).",
    )


class AcceptanceCreateSerializer(_ExpiryInput):
    control = IdRelatedField(queryset=Control.objects.all())
    resource = IdRelatedField(
        queryset=Resource.objects.all(),
        required=False,
        allow_null=True,
        help_text="Accept for one resource...",
    )
    zone = IdRelatedField(
        queryset=Zone.objects.all(),
        required=False,
        allow_null=True,
        help_text="...or for a whole zone.",
    )
    treatment = serializers.ChoiceField(choices=Treatment.choices, default=Treatment.RETAIN)
    reason = serializers.ChoiceField(choices=Reason.choices)
    reason_detail = serializers.CharField(
        max_length=200, allow_blank=True, required=False, default=""
    )
    justification = serializers.CharField(max_length=10000)
    owner = serializers.SlugRelatedField(
        slug_field="username",
        queryset=_active_users(),
        required=False,
        help_text="Who answers for the risk (username); default: you.",
    )
    compensating_controls = _compensating_input()
    likelihood = _level("likelihood", risk.LIKELIHOOD_LEVELS, required=True)
    impact = _level("impact", risk.IMPACT_LEVELS, required=True)
    compensating_measures = serializers.CharField(
        max_length=10000, allow_blank=True, required=False, default=""
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "compensating_controls" in attrs:
            attrs["compensating_controls"] = compensating_pairs(attrs["compensating_controls"])
        return self.resolve_expiry(attrs, required=False)


class AcceptanceBulkSerializer(serializers.Serializer):
    items = AcceptanceCreateSerializer(many=True, allow_empty=False, max_length=500)


class AcceptanceUpdateSerializer(serializers.Serializer):
    treatment = serializers.ChoiceField(choices=Treatment.choices, required=False)
    reason = serializers.ChoiceField(choices=Reason.choices, required=False)
    reason_detail = serializers.CharField(max_length=200, allow_blank=True, required=False)
    justification = serializers.CharField(max_length=10000, required=False)
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=_active_users(), required=False
    )
    compensating_controls = _compensating_input()
    likelihood = _level("likelihood", risk.LIKELIHOOD_LEVELS, required=False)
    impact = _level("impact", risk.IMPACT_LEVELS, required=False)
    compensating_measures = serializers.CharField(
        max_length=10000, allow_blank=True, required=False
    )
    note = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")


class AcceptanceReviewedSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=2000, help_text="What you checked, and why the acceptance still holds."
    )


class AcceptanceExtendSerializer(_ExpiryInput):
    """A later end for the acceptance in ``context["acceptance"]``: presets count from its
    current end, and an earlier end is refused (an extension never shortens)."""

    note = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")

    def expiry_base(self, now: dt.datetime) -> dt.datetime | None:
        acceptance = self.context.get("acceptance")
        return extension_base(acceptance, now) if acceptance is not None else None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Named for the field the client sent.
        field = {None: "expires_at", "date": "expires_on"}.get(attrs.get("expiry"), "expiry")
        attrs = self.resolve_expiry(attrs, required=True)
        acceptance = self.context.get("acceptance")
        if acceptance is not None:
            try:
                validate_extension(acceptance, attrs["expires_at"], timezone.now(), field=field)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class AcceptanceShortenSerializer(serializers.Serializer):
    """An earlier end for the live acceptance in ``context["acceptance"]``: a day (it ends at the
    end of that day, as on the page) or a moment; later than now, before its current end."""

    expires_on = serializers.DateField(required=False, help_text="It ends at the end of that day.")
    expires_at = serializers.DateTimeField(required=False, help_text="Or an exact moment.")
    note = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        on, at = attrs.get("expires_on"), attrs.get("expires_at")
        if (on is None) == (at is None):
            raise serializers.ValidationError(
                {"expires_on": "Give the new end: expires_on (a day) or expires_at, not both."}
            )
        now = timezone.now()
        field = "expires_on" if on is not None else "expires_at"
        attrs["expires_at"] = expiry_from_preset("date", now, on) if on is not None else at
        acceptance = self.context.get("acceptance")
        if acceptance is not None:
            try:
                validate_shortening(acceptance, attrs["expires_at"], now, field=field)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class AcceptanceNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")


class AcceptanceChangeDecisionSerializer(serializers.Serializer):
    change = serializers.IntegerField(
        min_value=1, help_text="The id of the pending change (pending_change.id) decided on."
    )
    note = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")


class AcceptanceChangeSerializer(serializers.ModelSerializer):
    proposed_by = serializers.CharField(source="proposed_by.get_username", read_only=True)
    decided_by = serializers.CharField(
        source="decided_by.get_username", read_only=True, allow_null=True, default=None
    )
    changes = serializers.SerializerMethodField(
        help_text='What it changes: {"field": [in force, proposed], ...}.'
    )

    class Meta:
        model = AcceptanceChange
        fields = (
            "id",
            "state",
            "renews",
            "changes",
            "note",
            "proposed_by",
            "proposed_at",
            "decided_by",
            "decided_at",
            "decision_note",
        )
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "array", "items": {}}})
    def get_changes(self, change: AcceptanceChange) -> dict[str, list[Any]]:
        return queries.get_change_rows(change)


class AcceptanceSerializer(serializers.ModelSerializer):
    control_ref = serializers.CharField(source="control.ref", read_only=True)
    benchmark_version = serializers.CharField(source="control.benchmark.version", read_only=True)
    scope = serializers.SerializerMethodField()
    owner = serializers.CharField(source="owner.get_username", read_only=True)
    created_by = serializers.CharField(source="created_by.get_username", read_only=True)
    approved_by = serializers.CharField(
        source="approved_by.get_username", read_only=True, allow_null=True, default=None
    )
    revoked_by = serializers.CharField(
        source="revoked_by.get_username", read_only=True, allow_null=True, default=None
    )
    covered_count = serializers.IntegerField(
        read_only=True,
        default=None,
        allow_null=True,
        help_text="Open failing findings it covers now.",
    )
    severity = serializers.ChoiceField(
        choices=Severity.choices,
        source="control.severity",
        read_only=True,
        help_text="The severity the scanner gave.",
    )
    residual_rating = _rating_field(
        "From likelihood × impact (CSPM_RISK_BANDS); empty: not assessed (older acceptances)."
    )
    pending_change = serializers.SerializerMethodField(
        help_text="A change that widens or prolongs it, awaiting a second approver (four-eyes); "
        "the fields above are the terms in force until it is approved."
    )
    compensating_controls = CompensatingControlSerializer(many=True, read_only=True)
    needs_review = serializers.SerializerMethodField(
        help_text="A scan saw the accepted configuration change (review_reason says how)."
    )

    class Meta:
        model = RiskAcceptance
        fields = (
            "id",
            "control",
            "control_ref",
            "benchmark_version",
            "scope",
            "resource",
            "zone",
            "treatment",
            "reason",
            "reason_detail",
            "justification",
            "owner",
            "severity",
            "likelihood",
            "impact",
            "residual_rating",
            "compensating_measures",
            "renewals",
            "created_by",
            "created_at",
            "updated_at",
            "approved_by",
            "approved_at",
            "state",
            "owner_signed_off_at",
            "expires_at",
            "revoked_by",
            "revoked_at",
            "stale_since",
            "covered_count",
            "pending_change",
            "compensating_controls",
            "compensating_measures",
            "suspended_at",
            "needs_review",
            "review_flagged_at",
            "review_reason",
        )
        read_only_fields = fields

    def get_needs_review(self, acceptance: RiskAcceptance) -> bool:
        return acceptance.review_flagged_at is not None

    @extend_schema_field(AcceptanceChangeSerializer(allow_null=True))
    def get_pending_change(self, acceptance: RiskAcceptance) -> dict[str, Any] | None:
        prefetched = getattr(acceptance, "pending_changes", None)
        if prefetched is not None:
            pending = prefetched[0] if prefetched else None
        else:
            pending = queries.get_pending_change(acceptance)
        return AcceptanceChangeSerializer(pending).data if pending is not None else None

    @extend_schema_field({"type": "string", "enum": ["resource", "zone"]})
    def get_scope(self, acceptance: RiskAcceptance) -> str:
        return "zone" if acceptance.zone_id else "resource"


class AppetiteRuleSerializer(serializers.ModelSerializer):
    zone = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="Empty: every zone and resource."
    )
    severity = _rating_field("The control's severity it applies to; empty: every severity.")
    min_rating = _rating_field("Applies from this residual rating up; empty: every rating.")
    approver_role = serializers.ChoiceField(
        choices=[("", "Any approver"), ("approver", "An approver"), ("admin", "An admin")],
        allow_blank=True,
        read_only=True,
        help_text="The role that must approve; empty: any approver.",
    )

    class Meta:
        model = AppetiteRule
        fields = (
            "id",
            "name",
            "description",
            "zone",
            "severity",
            "min_rating",
            "max_term_days",
            "allow_never",
            "max_renewals",
            "approver_role",
            "updated_at",
        )
        read_only_fields = fields


class AcceptanceEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor.get_username",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="Empty: the system (expiry job, scan).",
    )

    class Meta:
        model = AcceptanceEvent
        fields = ("id", "action", "actor", "at", "changes", "note")


class WouldCoverSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        help_text="Open failing findings an acceptance of this scope would cover."
    )


class FixPlanCreateSerializer(serializers.Serializer):
    control = IdRelatedField(queryset=Control.objects.all())
    resource = IdRelatedField(
        queryset=Resource.objects.all(),
        required=False,
        allow_null=True,
        help_text="Fix one finding (the control on this resource)...",
    )
    zone = IdRelatedField(
        queryset=Zone.objects.all(),
        required=False,
        allow_null=True,
        help_text="...or every failing finding of the control in a zone.",
    )
    owner = serializers.SlugRelatedField(
        slug_field="username",
        queryset=_active_users(),
        required=False,
        help_text="Who sees to the fix (username); default: you.",
    )
    due_on = serializers.DateField(help_text="The day the fix is due (today or later).")
    ticket_url = serializers.CharField(
        max_length=500,
        allow_blank=True,
        required=False,
        default="",
        help_text="An http:// or https:// address of the ticket.",
    )
    note = serializers.CharField(max_length=10000, allow_blank=True, required=False, default="")


class FixPlanSerializer(serializers.ModelSerializer):
    control = serializers.CharField(source="control.ref", read_only=True)
    owner = serializers.CharField(source="owner.get_username", read_only=True)
    created_by = serializers.CharField(source="created_by.get_username", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = FixPlan
        fields = (
            "id",
            "control",
            "resource",
            "zone",
            "owner",
            "due_on",
            "ticket_url",
            "note",
            "state",
            "overdue",
            "created_by",
            "created_at",
            "closed_at",
            "closed_by_scan",
        )
        read_only_fields = fields

    def get_overdue(self, plan: FixPlan) -> bool:
        return plan.is_overdue(timezone.localdate())
