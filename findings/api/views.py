"""The findings API: thin viewsets over the queries and services of ``findings``."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from cspm.api.base import ID_REGEX, JsonErrorsNegotiation
from cspm.api.pagination import IdCursorPagination
from cspm.api.shared import EXPORT_PARAMETER, export_action, export_response, id_param
from findings import hooks, queries
from findings.api import filters, serializers
from findings.models import Benchmark, CloudAccount, Control, Finding, Resource, Scan
from findings.remediation.selection import get_selected_findings, too_many_ids
from findings.remediation.web import fixes_by_finding, terraform_download
from findings.services import register_account
from findings.services.scans import BrokerUnavailable, start_scan


class ReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_REGEX


@extend_schema_view(
    list=extend_schema(summary="Cloud accounts"),
    retrieve=extend_schema(summary="One cloud account"),
    create=extend_schema(summary="Connect an account (admin)"),
    partial_update=extend_schema(summary="Change an account (admin)"),
)
class CloudAccountViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ReadOnlyViewSet,
):
    """AWS accounts the product scans. Only admins connect or change them."""

    queryset = CloudAccount.objects.order_by("name", "pk")
    serializer_class = serializers.CloudAccountSerializer
    filterset_class = filters.AccountFilter
    ordering_fields = ("name", "account_id", "created_at")
    http_method_names = ("get", "post", "patch", "head", "options")
    action_permissions = {
        "create": "findings.add_cloudaccount",
        "partial_update": "findings.change_cloudaccount",
    }

    def get_serializer_class(self):
        if self.action == "partial_update":
            return serializers.CloudAccountUpdateSerializer
        return serializers.CloudAccountSerializer

    def perform_create(self, serializer) -> None:
        from django.core.exceptions import ValidationError

        data = serializer.validated_data
        if CloudAccount.objects.filter(account_id=data["account_id"]).exists():
            raise ValidationError({"account_id": "This account is already connected."})
        serializer.instance, _ = register_account(**data)

    def perform_update(self, serializer) -> None:
        account: CloudAccount = serializer.instance
        current = {
            name: getattr(account, name)
            for name in (
                "name",
                "role_arn",
                "external_id",
                "regions",
                "endpoint_url",
                "scan_interval_hours",
                "enabled",
            )
        }
        serializer.instance, _ = register_account(
            account_id=account.account_id, **{**current, **serializer.validated_data}
        )


@extend_schema_view(
    list=extend_schema(summary="Benchmarks"),
    retrieve=extend_schema(summary="One benchmark"),
    partial_update=extend_schema(summary="Enable or disable a benchmark (admin)"),
)
class BenchmarkViewSet(mixins.UpdateModelMixin, ReadOnlyViewSet):
    """Loaded benchmarks; ``enabled`` ones are offered and evaluated by scans. Only admins
    switch one on or off (``{"enabled": false}``); catalogs themselves are loaded, not edited."""

    queryset = Benchmark.objects.annotate(control_count=Count("controls")).order_by(
        "slug", "version"
    )
    serializer_class = serializers.BenchmarkSerializer
    filterset_class = filters.BenchmarkFilter
    ordering_fields = ("slug", "version")
    http_method_names = ("get", "patch", "head", "options")
    action_permissions = {"partial_update": "findings.change_benchmark"}

    def perform_update(self, serializer) -> None:
        from findings.services.benchmarks import set_benchmark_enabled

        if "enabled" in serializer.validated_data:
            set_benchmark_enabled(serializer.instance, serializer.validated_data["enabled"])


@extend_schema_view(
    list=extend_schema(summary="Controls of the benchmarks"),
    retrieve=extend_schema(summary="One control, with its remediation"),
)
class ControlViewSet(ReadOnlyViewSet):
    queryset = (
        Control.objects.select_related("benchmark")
        .prefetch_related("checks")
        .order_by("benchmark", "position", "pk")
    )
    serializer_class = serializers.ControlSerializer
    filterset_class = filters.ControlFilter
    ordering_fields = ("position", "ref", "severity", "level")


@extend_schema_view(
    list=extend_schema(summary="Resources the scans saw"),
    retrieve=extend_schema(summary="One resource, with its configuration snapshot"),
)
class ResourceViewSet(ReadOnlyViewSet):
    queryset = Resource.objects.select_related("account").order_by("pk")
    filterset_class = filters.ResourceFilter
    ordering_fields = ("id", "name", "resource_type", "region", "first_seen")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.ResourceDetailSerializer
        return serializers.ResourceSerializer


class BrokerUnavailableError(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The task broker is unreachable; try again later."
    default_code = "broker_unavailable"


@extend_schema_view(
    list=extend_schema(summary="Scans, newest first"),
    retrieve=extend_schema(summary="One scan, with each region's outcome and error"),
)
class ScanViewSet(mixins.CreateModelMixin, ReadOnlyViewSet):
    queryset = Scan.objects.select_related("requested_by").order_by("-created_at", "-pk")
    filterset_class = filters.ScanFilter
    ordering_fields = ("created_at", "finished_at")
    action_permissions = {"create": "findings.add_scan"}

    def get_queryset(self) -> QuerySet[Scan]:
        scans = super().get_queryset()
        if self.action == "retrieve":
            scans = scans.prefetch_related("regions")
        return scans

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.ScanDetailSerializer
        return serializers.ScanSerializer

    @extend_schema(
        summary="Start a scan of an account (answers at once; poll the scan's url)",
        description="If a scan of the account is already queued or running, that scan is "
        "answered instead of starting a second one. 503 when the task broker cannot be "
        "reached: nothing runs, and a new request starts a scan once it is back.",
        request=serializers.ScanStartSerializer,
        responses={
            202: serializers.ScanStartedSerializer,
            503: OpenApiResponse(description="The task broker is unreachable; try again later."),
        },
    )
    def create(self, request: Request) -> Response:
        data = serializers.ScanStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            scan = start_scan(
                data.validated_data["account"], trigger=Scan.Trigger.API, requested_by=request.user
            )
        except BrokerUnavailable as exc:
            raise BrokerUnavailableError(str(exc)) from exc
        url = reverse("api:scan-detail", args=[scan.pk], request=request)
        return Response(
            {"id": scan.pk, "url": url, "state": scan.state},
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": url},
        )


#: A fix is its check's, the same under every benchmark; this only names it ("CIS 5.7").
_FIX_BENCHMARK = OpenApiParameter(
    "benchmark",
    OpenApiTypes.INT,
    required=False,
    description="Benchmark id whose control numbers name the fixes (default: the default one)",
)


@extend_schema_view(
    list=extend_schema(summary="Findings (cursor-paginated, newest first)"),
    retrieve=extend_schema(summary="One finding"),
)
class FindingViewSet(ReadOnlyViewSet):
    """Results of checks on resources. Lists use a cursor (``next`` links), not page numbers:
    there may be millions of findings."""

    serializer_class = serializers.FindingSerializer
    filterset_class = filters.FindingFilter
    pagination_class = IdCursorPagination
    ordering_fields = ("id", "first_seen", "status_changed_at")
    ordering = ("-id",)

    def get_queryset(self) -> QuerySet[Finding]:
        findings = Finding.objects.select_related("control_check", "account", "resource")
        if self.action != "export":
            findings = findings.prefetch_related("control_check__controls__benchmark")
        return queries.with_last_seen(findings)

    @extend_schema(
        summary="Export findings for auditors (CSV or JSON), with the list's filters",
        parameters=[EXPORT_PARAMETER],
        filters=True,
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="CSV, one row per finding"
            ),
            (200, "application/json"): OpenApiResponse(
                {"type": "array", "items": {"type": "object"}},
                description="A JSON array, one object per finding",
            ),
        },
    )
    @export_action()
    def export(self, request: Request) -> object:
        def records(rows: QuerySet[Finding]):
            # The filter has validated ``benchmark`` (an enabled one) by the time rows stream:
            # controls are named in its numbering.
            raw = request.query_params.get("benchmark")
            benchmark = Benchmark.objects.get(pk=int(raw)) if raw else None
            return queries.iter_findings_export(rows, benchmark=benchmark)

        return export_response(self, records, queries.EXPORT_FIELDS, "findings")

    @extend_schema(
        summary="The fix of a failing finding: Terraform, CLI and console steps, filled in",
        parameters=[_FIX_BENCHMARK],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def remediation(self, request: Request, pk: str | None = None) -> Response:
        finding = self.get_object()
        benchmark = _benchmark_param(request) if "benchmark" in request.query_params else None
        fixes = fixes_by_finding([finding], benchmark).get(finding.pk, [])
        return Response({"finding": finding.pk, "open": finding.is_open, "fixes": fixes})

    @extend_schema(
        summary="A Terraform directory (one main.tf) fixing the chosen failing findings",
        parameters=[
            OpenApiParameter("id", OpenApiTypes.INT, many=True, description="finding ids"),
            _FIX_BENCHMARK,
        ],
        responses={(200, "text/plain"): OpenApiResponse(OpenApiTypes.STR)},
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="terraform",
        pagination_class=None,
        content_negotiation_class=JsonErrorsNegotiation,
    )
    def terraform(self, request: Request) -> object:
        values = request.query_params.getlist("id")
        if not all(v.isascii() and v.isdigit() and len(v) <= 18 for v in values):
            raise ValidationError({"id": "Finding ids must be whole numbers."})
        ids = [int(value) for value in values]
        if not ids:
            raise ValidationError({"id": "Give at least one failing finding id."})
        refusal = too_many_ids("id", ids)
        if refusal:
            raise ValidationError({"id": refusal})
        benchmark = _benchmark_param(request) if "benchmark" in request.query_params else None
        findings = list(get_selected_findings(finding_ids=ids))
        response = terraform_download(findings, benchmark) if findings else None
        if response is None:
            raise ValidationError({"id": "None of these is an open failing finding with a fix."})
        return response


def _benchmark_param(request: Request) -> Benchmark:
    from rest_framework.exceptions import ValidationError

    raw = request.query_params.get("benchmark")
    if raw is None:
        benchmark = queries.get_default_benchmark()
        if benchmark is None:
            raise ValidationError({"benchmark": ["No benchmark is loaded and enabled."]})
        return benchmark
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise ValidationError({"benchmark": ["A benchmark id (a whole number)."]})
    benchmark = Benchmark.objects.filter(pk=int(raw)).first()
    if benchmark is None:
        raise ValidationError({"benchmark": ["No such benchmark."]})
    if not benchmark.enabled:
        raise ValidationError({"benchmark": [queries.disabled_message(benchmark)]})
    return benchmark


def _posture_row(row: queries.ControlPosture) -> dict:
    totals = queries.PostureTotals(row.failing, row.accepted, row.passing)
    return {
        "control": row.control,
        "assessment": row.assessment,
        "status": row.status,
        "failing": row.failing,
        "accepted": row.accepted,
        "passing": row.passing,
        "evaluated": row.evaluated,
        "compliance_percent": totals.compliance_percent,
        "checks": row.checks,
        "service": row.control.service,
        "not_evaluated_reason": row.not_evaluated_reason,
        "note": row.note,
    }


def _totals(rows: list[queries.ControlPosture]) -> dict:
    totals = queries.summarize_posture(rows)
    return {
        "failing": totals.failing,
        "accepted": totals.accepted,
        "passing": totals.passing,
        "evaluated": totals.evaluated,
        "compliance_percent": totals.compliance_percent,
        "unchecked_controls": totals.unchecked,
    }


ID_PARAM = {"type": OpenApiTypes.INT, "required": False}
# The posture's ``status`` filter: a control's status, or "unchecked" for the automated
# controls no check of ours decides (a subset of "not evaluated").
POSTURE_STATUSES = ("fail", "accepted", "pass", "manual", "not evaluated", "unchecked")


def _status_param(request: Request) -> str:
    raw = request.query_params.get("status", "")
    if raw and raw not in POSTURE_STATUSES:
        raise ValidationError({"status": [f"One of: {', '.join(POSTURE_STATUSES)}."]})
    return raw


def _with_status(rows: list[queries.ControlPosture], status: str) -> list[queries.ControlPosture]:
    if status == "unchecked":
        return [row for row in rows if row.unchecked]
    return [row for row in rows if row.status == status] if status else rows


BENCHMARK_PARAM = OpenApiParameter(
    "benchmark", description="Default: CIS AWS Foundations, newest", **ID_PARAM
)


class PostureView(APIView):
    """The posture by control: resources failing, accepted and passing, and compliance."""

    read_permission = "findings.view_finding"

    @extend_schema(
        summary="Posture by control (optionally within one zone or account)",
        parameters=[
            BENCHMARK_PARAM,
            OpenApiParameter("zone", description="Only resources in this zone", **ID_PARAM),
            OpenApiParameter("account", description="Only this account", **ID_PARAM),
            OpenApiParameter(
                "status",
                description="List only controls in this status; 'unchecked': the automated "
                "controls no check of ours decides (totals still count every control)",
                enum=list(POSTURE_STATUSES),
                required=False,
            ),
        ],
        responses={200: serializers.PostureSerializer},
    )
    def get(self, request: Request) -> Response:
        status_wanted = _status_param(request)
        benchmark, zone, account, rows = _scoped_posture(request)
        benchmark.control_count = len(rows)
        data = {
            "benchmark": benchmark,
            "zone": zone.pk if zone else None,
            "account": account.pk if account else None,
            "totals": _totals(rows),
            "controls": [_posture_row(row) for row in _with_status(rows, status_wanted)],
        }
        return Response(serializers.PostureSerializer(data).data)


def _scoped_posture(request: Request) -> tuple[Any, Any, Any, list[queries.ControlPosture]]:
    """The posture list's and its export's one reading of ``benchmark``, ``zone`` and
    ``account`` (each refused with a 400 naming it), and the rows they select."""
    benchmark = _benchmark_param(request)
    zone = id_param(request, "zone", hooks.zones().model)
    account = id_param(request, "account", CloudAccount)
    rows = queries.get_control_posture(
        benchmark, [account.pk] if account else None, zone_id=zone.pk if zone else None
    )
    return benchmark, zone, account, rows


class PostureExportView(APIView):
    """The posture by control of one benchmark as CSV or JSON, for auditors."""

    read_permission = "findings.view_finding"
    content_negotiation_class = JsonErrorsNegotiation

    @extend_schema(
        summary="Export the posture by control (CSV or JSON) of one benchmark",
        parameters=[
            BENCHMARK_PARAM,
            OpenApiParameter("zone", description="Only resources in this zone", **ID_PARAM),
            OpenApiParameter("account", description="Only this account", **ID_PARAM),
            EXPORT_PARAMETER,
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="CSV, one row per control"
            ),
            (200, "application/json"): OpenApiResponse(
                {"type": "array", "items": {"type": "object"}},
                description="A JSON array, one object per control",
            ),
        },
    )
    def get(self, request: Request) -> object:
        from cspm.api.base import export_format, streaming_export

        fmt = export_format(request)
        benchmark, _zone, _account, rows = _scoped_posture(request)
        return streaming_export(
            lambda: queries.iter_posture_export(benchmark, rows),
            queries.POSTURE_EXPORT_FIELDS,
            fmt,
            f"posture-{benchmark.slug}-{benchmark.version}",
        )


class PostureByZoneView(APIView):
    """Posture totals of each zone."""

    read_permission = "findings.view_finding"

    @extend_schema(
        summary="Posture totals by zone",
        parameters=[
            BENCHMARK_PARAM,
            OpenApiParameter("account", description="Only this account", **ID_PARAM),
        ],
        responses={200: serializers.PostureByZoneSerializer},
    )
    def get(self, request: Request) -> Response:
        benchmark = _benchmark_param(request)
        account = id_param(request, "account", CloudAccount)
        zones = []
        for zone in hooks.zones().order_by("-is_builtin", "name"):
            rows = queries.get_control_posture(
                benchmark, [account.pk] if account else None, zone_id=zone.pk
            )
            zones.append({"zone": zone.pk, "name": zone.name, "totals": _totals(rows)})
        benchmark.control_count = benchmark.controls.count()
        data = {"benchmark": benchmark, "zones": zones}
        return Response(serializers.PostureByZoneSerializer(data).data)
