"""What scans know, as JSON: accounts, the catalog, resources, scans, findings, posture."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cspm.api.fields import IdRelatedField
from cspm.api.shared import ResourceRefSerializer
from cspm.roles import may_see_external_ids
from findings.models import (
    SEVERITY_RANK,
    Assessment,
    Benchmark,
    CloudAccount,
    Control,
    Finding,
    Resource,
    Scan,
    ScanRegion,
    account_id_validator,
)


class CloudAccountSerializer(serializers.ModelSerializer):
    regions = serializers.ListField(
        child=serializers.CharField(max_length=30),
        required=False,
        max_length=50,
        help_text="Regions to scan; empty: every region the account reports as enabled.",
    )
    scan_interval_hours = serializers.IntegerField(min_value=0, max_value=24 * 365, required=False)
    external_id = serializers.CharField(
        max_length=1224,
        allow_blank=True,
        required=False,
        help_text="Shown to admins only (empty for others; external_id_set tells whether one "
        "is set): with the role ARN it is what lets the scanner into the account.",
    )
    external_id_set = serializers.SerializerMethodField()

    class Meta:
        model = CloudAccount
        fields = (
            "id",
            "account_id",
            "name",
            "role_arn",
            "external_id",
            "external_id_set",
            "regions",
            "endpoint_url",
            "scan_interval_hours",
            "enabled",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "created_at", "updated_at")
        # Uniqueness is the view's to check (it names the field), not a serializer validator.
        extra_kwargs = {"account_id": {"validators": [account_id_validator]}}

    def get_external_id_set(self, account: CloudAccount) -> bool:
        return bool(account.external_id)

    def to_representation(self, account: CloudAccount) -> dict[str, Any]:
        data = super().to_representation(account)
        if not may_see_external_ids(getattr(self.context.get("request"), "user", None)):
            data["external_id"] = ""
        return data

    def validate_endpoint_url(self, value: str) -> str:
        from cspm.endpoints import endpoint_problem

        problem = endpoint_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate_regions(self, value: list[str]) -> list[str]:
        from django.core.exceptions import ValidationError

        try:
            CloudAccount(regions=value).clean()
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["regions"]) from None
        return value


class CloudAccountUpdateSerializer(CloudAccountSerializer):
    class Meta(CloudAccountSerializer.Meta):
        read_only_fields = ("id", "account_id", "created_at", "updated_at")


class BenchmarkSerializer(serializers.ModelSerializer):
    control_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Benchmark
        fields = ("id", "slug", "name", "version", "published", "url", "enabled", "control_count")
        read_only_fields = ("slug", "name", "version", "published", "url")


class ControlSerializer(serializers.ModelSerializer):
    benchmark_version = serializers.CharField(source="benchmark.version", read_only=True)
    checks = serializers.SlugRelatedField(slug_field="check_id", many=True, read_only=True)
    assessment = serializers.ChoiceField(
        choices=Assessment.choices,
        read_only=True,
        help_text=(
            "automated; checked_manual: the benchmark calls it manual, checks decide it (what "
            "they find is evidence for the person who decides); manual: a person decides."
        ),
    )
    not_evaluated_reason = serializers.CharField(
        read_only=True,
        help_text='Set when no check of ours decides this automated control: "Not evaluated: '
        'no collector reads <service>" or "Not evaluated: no check yet". Never passing.',
    )

    class Meta:
        model = Control
        fields = (
            "id",
            "benchmark",
            "benchmark_version",
            "ref",
            "title",
            "section_ref",
            "section_title",
            "level",
            "automated",
            "assessment",
            "severity",
            "resource_types",
            "description",
            "rationale",
            "impact",
            "remediation_console",
            "remediation_cli",
            "terraform",
            "references",
            "checks",
            "service",
            "evaluated",
            "not_evaluated_reason",
        )


class ControlRefSerializer(serializers.ModelSerializer):
    benchmark_version = serializers.CharField(source="benchmark.version", read_only=True)

    class Meta:
        model = Control
        fields = ("id", "ref", "title", "severity", "benchmark_version")


class ResourceSerializer(serializers.ModelSerializer):
    account_id = serializers.CharField(source="account.account_id", read_only=True)

    class Meta:
        model = Resource
        fields = (
            "id",
            "account",
            "account_id",
            "region",
            "scan_unit",
            "resource_type",
            "arn",
            "name",
            "tags",
            "first_seen",
            "gone_at",
        )


class ResourceDetailSerializer(ResourceSerializer):
    class Meta(ResourceSerializer.Meta):
        fields = (*ResourceSerializer.Meta.fields, "configuration")


class ScanRegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScanRegion
        fields = (
            "region",
            "state",
            "started_at",
            "finished_at",
            "resources_seen",
            "findings_total",
            "findings_failed",
            "api_calls",
            "error",
            "failed_services",
            "skipped_regions",
        )


class ScanSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(
        source="requested_by.get_username", read_only=True, allow_null=True, default=None
    )
    url = serializers.HyperlinkedIdentityField(view_name="api:scan-detail")

    class Meta:
        model = Scan
        fields = (
            "id",
            "url",
            "account",
            "state",
            "trigger",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "regions_total",
            "regions_done",
            "resources_seen",
            "findings_total",
            "findings_failed",
            "error",
        )


class ScanDetailSerializer(ScanSerializer):
    regions = ScanRegionSerializer(many=True, read_only=True)

    class Meta(ScanSerializer.Meta):
        fields = (*ScanSerializer.Meta.fields, "regions")


class ScanStartSerializer(serializers.Serializer):
    account = IdRelatedField(queryset=CloudAccount.objects.all())


class ScanStartedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField(help_text="Poll this for the scan's progress.")
    state = serializers.ChoiceField(choices=Scan.State.choices)


class FindingSerializer(serializers.ModelSerializer):
    check_id = serializers.CharField(source="control_check.check_id", read_only=True)
    controls = serializers.SerializerMethodField()
    severity = serializers.SerializerMethodField()
    account_id = serializers.CharField(source="account.account_id", read_only=True)
    resource = ResourceRefSerializer(read_only=True)
    display_status = serializers.ChoiceField(
        choices=["fail", "accepted", "pass", "resolved"],
        read_only=True,
        help_text="What a person should read: an accepted failure is 'accepted'.",
    )
    accepted = serializers.BooleanField(source="is_accepted", read_only=True)
    last_seen = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="The last successful scan of the finding's account and region "
        "(its resolution time once resolved).",
    )

    class Meta:
        model = Finding
        fields = (
            "id",
            "check_id",
            "controls",
            "severity",
            "account",
            "account_id",
            "region",
            "resource",
            "status",
            "display_status",
            "accepted",
            "acceptance",
            "first_seen",
            "status_changed_at",
            "resolved_at",
            "last_seen",
            "evidence",
        )

    @extend_schema_field(ControlRefSerializer(many=True))
    def get_controls(self, finding: Finding) -> list[dict[str, Any]]:
        return ControlRefSerializer(finding.control_check.controls.all(), many=True).data

    @extend_schema_field(
        {"type": "string", "enum": ["low", "medium", "high", "critical"], "nullable": True}
    )
    def get_severity(self, finding: Finding) -> str | None:
        """The highest severity among the finding's controls."""
        severities = [c.severity for c in finding.control_check.controls.all()]
        return max(severities, key=lambda s: SEVERITY_RANK.get(s, 0)) if severities else None


class ControlPostureSerializer(serializers.Serializer):
    control = ControlRefSerializer()
    assessment = serializers.ChoiceField(choices=Assessment.choices)
    status = serializers.ChoiceField(
        choices=["manual", "not evaluated", "fail", "accepted", "pass"]
    )
    failing = serializers.IntegerField()
    accepted = serializers.IntegerField()
    passing = serializers.IntegerField()
    evaluated = serializers.IntegerField()
    compliance_percent = serializers.FloatField(allow_null=True)
    checks = serializers.ListField(child=serializers.CharField())
    service = serializers.CharField()
    not_evaluated_reason = serializers.CharField(
        help_text='"Not evaluated: no collector reads <service>" (or "no check yet") for an '
        "automated control no check of ours decides; empty otherwise."
    )
    note = serializers.CharField(
        help_text="Set when some of its checks have not run yet: the next scan evaluates them."
    )


class PostureTotalsSerializer(serializers.Serializer):
    failing = serializers.IntegerField()
    accepted = serializers.IntegerField()
    passing = serializers.IntegerField()
    evaluated = serializers.IntegerField()
    compliance_percent = serializers.FloatField(allow_null=True)
    unchecked_controls = serializers.IntegerField(
        help_text="Automated controls no check of ours decides: not evaluated, in no count above."
    )


class PostureSerializer(serializers.Serializer):
    benchmark = BenchmarkSerializer()
    zone = serializers.IntegerField(allow_null=True)
    account = serializers.IntegerField(allow_null=True)
    totals = PostureTotalsSerializer()
    controls = ControlPostureSerializer(many=True)


class ZonePostureSerializer(serializers.Serializer):
    zone = serializers.IntegerField()
    name = serializers.CharField()
    totals = PostureTotalsSerializer()


class PostureByZoneSerializer(serializers.Serializer):
    benchmark = BenchmarkSerializer()
    zones = ZonePostureSerializer(many=True)
