"""The acceptances API: thin viewsets over ``acceptances.services``.

Every write calls one service, which checks the role again and the rules about the object,
and raises Django's ``ValidationError`` (keyed by field, answered 400) or ``PermissionDenied``
(answered 403).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from acceptances import queries, services
from acceptances.api import filters, serializers
from acceptances.models import (
    AcceptanceChange,
    AppetiteRule,
    CompensatingControl,
    FixPlan,
    RiskAcceptance,
    Zone,
)
from acceptances.services import compensation
from cspm.api.base import ID_REGEX
from cspm.api.exceptions import validation_error_detail
from cspm.api.shared import EXPORT_PARAMETER, export_action, export_response, id_param
from findings.models import Control, Resource

PREVIEW_SAMPLE = 20


def _zone_queryset() -> QuerySet[Zone]:
    return (
        Zone.objects.select_related("created_by")
        .annotate(member_count=Count("memberships"))
        .order_by("-is_builtin", "name")
    )


def _with_builtin_count(zone: Zone) -> Zone:
    if zone.is_builtin:
        # The built-in zone holds everything and stores no rows.
        zone.member_count = Resource.objects.filter(gone_at__isnull=True).count()
    return zone


@extend_schema_view(
    list=extend_schema(summary="Zones"),
    retrieve=extend_schema(summary="One zone, with its rules and member count"),
)
class ZoneViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Named scopes over accounts, regions, resource types and tags. Approvers define them."""

    serializer_class = serializers.ZoneSerializer
    filterset_class = filters.ZoneFilter
    ordering_fields = ("name", "created_at")
    lookup_value_regex = ID_REGEX
    action_permissions = {
        "create": "acceptances.add_zone",
        "partial_update": "acceptances.change_zone",
    }

    def get_queryset(self) -> QuerySet[Zone]:
        return _zone_queryset()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        if any(row["is_builtin"] for row in response.data["results"]):
            everything = Resource.objects.filter(gone_at__isnull=True).count()
            for row in response.data["results"]:
                if row["is_builtin"]:
                    row["member_count"] = everything
        return response

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.get_serializer(_with_builtin_count(self.get_object())).data)

    def _saved(self, zone: Zone, code: int = status.HTTP_200_OK) -> Response:
        zone = _with_builtin_count(_zone_queryset().get(pk=zone.pk))
        return Response(serializers.ZoneSerializer(zone).data, status=code)

    @extend_schema(
        summary="Define a zone (approver)",
        request=serializers.ZoneWriteSerializer,
        responses={201: serializers.ZoneSerializer},
    )
    def create(self, request: Request) -> Response:
        data = serializers.ZoneWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        zone = services.save_zone(actor=request.user, **data.validated_data)
        return self._saved(zone, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a zone's name, description or rules (approver)",
        request=serializers.ZoneWriteSerializer(partial=True),
        responses={200: serializers.ZoneSerializer},
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        zone = self.get_object()
        data = serializers.ZoneWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = {"name": zone.name, "description": zone.description, "rules": zone.rules}
        values.update(data.validated_data)
        zone = services.save_zone(actor=request.user, zone=zone, **values)
        return self._saved(zone)

    @extend_schema(
        summary="Preview the resources a rule set matches (nothing is saved)",
        request=serializers.ZonePreviewSerializer,
        responses={200: serializers.ZonePreviewResultSerializer},
    )
    @action(detail=False, methods=["post"])
    def preview(self, request: Request) -> Response:
        data = serializers.ZonePreviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        matched = services.resources_matching(data.validated_data["rules"])
        result = {
            "count": matched.count(),
            "sample": matched.order_by("pk")[:PREVIEW_SAMPLE],
        }
        return Response(serializers.ZonePreviewResultSerializer(result).data)

    @extend_schema(
        methods=["POST"],
        summary="Watch a zone: drift alerts by email after each scan (for yourself)",
        request=serializers.ZoneWatchInputSerializer,
        responses={200: serializers.ZoneWatchSerializer, 201: serializers.ZoneWatchSerializer},
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Stop watching a zone (for yourself); 204 whether or not you watched it",
        request=None,
        responses={204: OpenApiResponse(description="Not watching it (any more).")},
    )
    @action(detail=True, methods=["post", "delete"])
    def watch(self, request: Request, pk: str | None = None) -> Response:
        # Anyone who reads zones watches them for themselves (the service checks it again);
        # watching someone else is the admin console's.
        zone = self.get_object()
        if request.method == "DELETE":
            services.unwatch_zone(request.user, zone, actor=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = serializers.ZoneWatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        existed = zone.watches.filter(user=request.user).exists()
        watch = services.watch_zone(
            request.user,
            zone,
            actor=request.user,
            min_severity=data.validated_data["min_severity"],
            benchmarks=data.validated_data.get("benchmarks"),
        )
        return Response(
            serializers.ZoneWatchSerializer(watch).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )


def _acceptance_queryset() -> QuerySet[RiskAcceptance]:
    pending = AcceptanceChange.objects.filter(state=AcceptanceChange.State.PENDING).select_related(
        "proposed_by"
    )
    return (
        queries.with_covered_count(
            RiskAcceptance.objects.select_related(
                "control__benchmark", "owner", "created_by", "approved_by", "revoked_by"
            )
        )
        .prefetch_related(
            Prefetch("proposed_changes", queryset=pending, to_attr="pending_changes"),
            Prefetch(
                "compensating_controls",
                queryset=CompensatingControl.objects.select_related("control", "resource"),
            ),
        )
        .order_by("-created_at", "-pk")
    )


def _one(acceptance: RiskAcceptance, code: int = status.HTTP_200_OK) -> Response:
    acceptance = _acceptance_queryset().get(pk=acceptance.pk)
    return Response(serializers.AcceptanceSerializer(acceptance).data, status=code)


def _updated(acceptance: RiskAcceptance) -> Response:
    """200 when the change is in force; 202 when (part of) it was proposed instead and awaits
    a second approver (``pending_change``)."""
    proposed = getattr(acceptance, "proposed_change", None) is not None
    return _one(acceptance, status.HTTP_202_ACCEPTED if proposed else status.HTTP_200_OK)


_UPDATED_RESPONSES = {
    200: serializers.AcceptanceSerializer,
    202: OpenApiResponse(
        serializers.AcceptanceSerializer,
        description="With four-eyes on, a change that widens or prolongs an approved "
        "acceptance is proposed: it is in pending_change until another approver approves it; "
        "the approved terms stay in force meanwhile.",
    ),
}


def _accept(user, data: dict[str, Any]) -> RiskAcceptance:
    data = dict(data)
    owner = data.pop("owner", None) or user
    return services.accept_risk(actor=user, owner=owner, **data)


@extend_schema_view(
    list=extend_schema(summary="Risk acceptances"),
    retrieve=extend_schema(summary="One risk acceptance"),
)
class AcceptanceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Risk treatment decisions on a control, for one resource or a whole zone."""

    serializer_class = serializers.AcceptanceSerializer
    filterset_class = filters.AcceptanceFilter
    ordering_fields = ("created_at", "expires_at", "updated_at", "id")
    lookup_value_regex = ID_REGEX
    action_permissions = {
        "create": "acceptances.add_riskacceptance",
        "bulk": "acceptances.add_riskacceptance",
        "partial_update": "acceptances.change_riskacceptance",
        "approve": "acceptances.approve_riskacceptance",
        "revoke": "acceptances.revoke_riskacceptance",
        "extend": "acceptances.extend_riskacceptance",
        "end_earlier": "acceptances.extend_riskacceptance",
        "approve_change": "acceptances.approve_riskacceptance",
        # The proposer may withdraw their own proposal: the service decides who may reject.
        "reject_change": "acceptances.view_riskacceptance",
        # The owner or an approver: the service decides.
        "reviewed": "acceptances.view_riskacceptance",
        # Only the named owner signs off, whatever their role: the service checks who.
        "sign_off": "acceptances.view_riskacceptance",
    }

    def get_queryset(self) -> QuerySet[RiskAcceptance]:
        if self.action == "export":
            return RiskAcceptance.objects.order_by("pk")
        return _acceptance_queryset()

    @extend_schema(
        summary="Accept a risk for one resource or one zone (analyst)",
        description="With approval required (four-eyes), it starts as proposed.",
        request=serializers.AcceptanceCreateSerializer,
        responses={201: serializers.AcceptanceSerializer},
    )
    def create(self, request: Request) -> Response:
        data = serializers.AcceptanceCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _one(_accept(request.user, data.validated_data), status.HTTP_201_CREATED)

    @extend_schema(
        summary="Accept several risks at once: all or nothing",
        description="Either every item is created, or none is and the answer names each "
        'bad item by its position: {"items": {"2": {"reason": ["..."]}}}.',
        request=serializers.AcceptanceBulkSerializer,
        responses={201: serializers.AcceptanceSerializer(many=True)},
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        data = serializers.AcceptanceBulkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = data.validated_data["items"]
        # Keyed by the item's position, as the serializer reports bad items: {"2": {...}}.
        errors: dict[str, dict[str, Any]] = {}
        created: list[RiskAcceptance] = []
        with transaction.atomic():
            for index, item in enumerate(items):
                try:
                    # Each item in its own savepoint: a refused one leaves the transaction
                    # usable to check the others; any refusal rolls back the whole batch below.
                    with transaction.atomic():
                        created.append(_accept(request.user, item))
                except ValidationError as exc:
                    errors[str(index)] = validation_error_detail(exc)
            if errors:
                transaction.set_rollback(True)
                return Response({"items": errors}, status=status.HTTP_400_BAD_REQUEST)
        rows = _acceptance_queryset().filter(pk__in=[a.pk for a in created]).order_by("pk")
        return Response(
            serializers.AcceptanceSerializer(rows, many=True).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Edit justification, reason, owner or treatment (approver)",
        description="With four-eyes on, new wording of an approved acceptance is proposed "
        "(202) and applies once another approver approves it; an owner change applies at once.",
        request=serializers.AcceptanceUpdateSerializer,
        responses=_UPDATED_RESPONSES,
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        acceptance = self.get_object()
        data = serializers.AcceptanceUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        note = changes.pop("note", "")
        controls = changes.pop("compensating_controls", None)
        measures = changes.pop("compensating_measures", None)
        with transaction.atomic():
            if changes:
                acceptance = services.update_acceptance(
                    acceptance, actor=request.user, note=note, **changes
                )
            if controls is not None or measures is not None:
                proposed = getattr(acceptance, "proposed_change", None)
                acceptance = compensation.set_compensating_controls(
                    acceptance,
                    actor=request.user,
                    controls=None if controls is None else serializers.compensating_pairs(controls),
                    measures=measures,
                    note=note,
                )
                acceptance.proposed_change = proposed
        return _updated(acceptance)

    @extend_schema(
        summary="Mark an acceptance flagged for re-review as reviewed (its owner or an approver)",
        description="Clears the flag and takes a new baseline of the accepted configuration. "
        "400 when it is not flagged or the note is missing.",
        request=serializers.AcceptanceReviewedSerializer,
        responses={200: serializers.AcceptanceSerializer},
    )
    @action(detail=True, methods=["post"])
    def reviewed(self, request: Request, pk: str | None = None) -> Response:
        acceptance = self.get_object()
        data = serializers.AcceptanceReviewedSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _one(
            compensation.mark_reviewed(
                acceptance, actor=request.user, note=data.validated_data["note"]
            )
        )

    @extend_schema(
        summary="Approve a proposed acceptance (an approver other than its creator)",
        request=None,
        responses={200: serializers.AcceptanceSerializer},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return _one(services.approve_acceptance(self.get_object(), actor=request.user))

    @extend_schema(
        summary="Accept the residual risk: the named owner's sign-off (the owner only)",
        description="Awaiting its owner, the acceptance comes into force at once and covers its "
        "findings; still proposed (four-eyes), the sign-off is recorded and it comes into force "
        "once approved. 403 for anyone but the owner; 400 when it awaits no sign-off.",
        request=serializers.AcceptanceNoteSerializer,
        responses={200: serializers.AcceptanceSerializer},
    )
    @action(detail=True, methods=["post"], url_path="sign-off")
    def sign_off(self, request: Request, pk: str | None = None) -> Response:
        acceptance = self.get_object()
        data = serializers.AcceptanceNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _one(
            services.sign_off_acceptance(
                acceptance, actor=request.user, note=data.validated_data["note"]
            )
        )

    @extend_schema(
        summary="Revoke an acceptance now: its findings fail again at once (approver)",
        request=serializers.AcceptanceNoteSerializer,
        responses={200: serializers.AcceptanceSerializer},
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        acceptance = self.get_object()
        data = serializers.AcceptanceNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _one(
            services.revoke_acceptance(
                acceptance, actor=request.user, note=data.validated_data["note"]
            )
        )

    @extend_schema(
        summary="Extend or renew an acceptance: a later expiry (approver)",
        description="Re-accepting an expired acceptance makes it active again. Presets "
        "(7, 30, 60, 90 days) count from the current expiry of a live acceptance; an expiry "
        "earlier than the current one is refused (400, naming the field sent). With four-eyes "
        "on, a later or no expiry, or a renewal, is proposed (202) and applies once another "
        "approver approves it.",
        request=serializers.AcceptanceExtendSerializer,
        responses=_UPDATED_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def extend(self, request: Request, pk: str | None = None) -> Response:
        return self._new_end(request, serializers.AcceptanceExtendSerializer)

    def _new_end(self, request: Request, serializer: type[drf_serializers.Serializer]) -> Response:
        """A new end for the acceptance, as ``serializer`` validates it (later or earlier)."""
        acceptance = self.get_object()
        data = serializer(data=request.data, context={"acceptance": acceptance})
        data.is_valid(raise_exception=True)
        return _updated(
            services.update_acceptance(
                acceptance,
                actor=request.user,
                note=data.validated_data["note"],
                expires_at=data.validated_data["expires_at"],
            )
        )

    @extend_schema(
        summary="End a live acceptance earlier than planned (approver)",
        description="Its findings fail again from the new end. The new end is a day "
        "(`expires_on`: the end of that day) or a moment (`expires_at`), after now and before "
        "its current end; anything else is refused (400, naming the field sent). Extending "
        "never shortens: this is its own action.",
        request=serializers.AcceptanceShortenSerializer,
        responses=_UPDATED_RESPONSES,
    )
    @action(detail=True, methods=["post"], url_path="end-earlier")
    def end_earlier(self, request: Request, pk: str | None = None) -> Response:
        return self._new_end(request, serializers.AcceptanceShortenSerializer)

    def _pending(self, request: Request) -> tuple[AcceptanceChange, str]:
        acceptance = self.get_object()
        data = serializers.AcceptanceChangeDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = AcceptanceChange.objects.filter(
            acceptance=acceptance, pk=data.validated_data["change"]
        ).first()
        if change is None:
            raise ValidationError({"change": "No such change of this acceptance."})
        return change, data.validated_data["note"]

    @extend_schema(
        summary="Approve the pending change of an acceptance (an approver other than its "
        "proposer): its terms are in force at once",
        request=serializers.AcceptanceChangeDecisionSerializer,
        responses={200: serializers.AcceptanceSerializer},
    )
    @action(detail=True, methods=["post"], url_path="approve-change")
    def approve_change(self, request: Request, pk: str | None = None) -> Response:
        change, note = self._pending(request)
        return _one(services.approve_acceptance_change(change, actor=request.user, note=note))

    @extend_schema(
        summary="Reject the pending change of an acceptance (approver), or withdraw it (its "
        "proposer): the terms in force stay",
        request=serializers.AcceptanceChangeDecisionSerializer,
        responses={200: serializers.AcceptanceSerializer},
    )
    @action(detail=True, methods=["post"], url_path="reject-change")
    def reject_change(self, request: Request, pk: str | None = None) -> Response:
        change, note = self._pending(request)
        return _one(services.reject_acceptance_change(change, actor=request.user, note=note))

    @extend_schema(
        summary="The acceptance's history: who, when, what changed",
        responses={200: serializers.AcceptanceEventSerializer(many=True)},
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request: Request, pk: str | None = None) -> Response:
        acceptance = self.get_object()
        events = acceptance.events.select_related("actor").order_by("at", "pk")
        return Response(serializers.AcceptanceEventSerializer(events, many=True).data)

    @extend_schema(
        summary="How many open failing findings an acceptance would cover",
        parameters=[
            OpenApiParameter("control", OpenApiTypes.INT, required=True),
            OpenApiParameter("resource", OpenApiTypes.INT, description="This resource..."),
            OpenApiParameter("zone", OpenApiTypes.INT, description="...or this zone"),
        ],
        responses={200: serializers.WouldCoverSerializer},
        filters=False,
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="would-cover",
        pagination_class=None,
        filterset_class=None,
    )
    def would_cover(self, request: Request) -> Response:
        from rest_framework.exceptions import ValidationError as ApiValidationError

        control = id_param(request, "control", Control)
        resource = id_param(request, "resource", Resource)
        zone = id_param(request, "zone", Zone)
        if control is None:
            raise ApiValidationError({"control": ["Give the control's id."]})
        if (resource is None) == (zone is None):
            raise ApiValidationError({"scope": ["Give either resource or zone."]})
        count = services.count_would_cover(control, resource=resource, zone=zone)
        return Response({"count": count})

    @extend_schema(
        summary="Export acceptances for auditors (CSV or JSON), with the list's filters",
        parameters=[EXPORT_PARAMETER],
        filters=True,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV"),
            (200, "application/json"): OpenApiResponse(
                {"type": "array", "items": {"type": "object"}}, description="A JSON array"
            ),
        },
    )
    @export_action()
    def export(self, request: Request) -> object:
        return export_response(
            self, queries.iter_acceptances_export, queries.ACCEPTANCE_EXPORT_FIELDS, "acceptances"
        )


@extend_schema_view(
    list=extend_schema(summary="Risk appetite rules"),
    retrieve=extend_schema(summary="One risk appetite rule"),
)
class AppetiteRuleViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Risk appetite: how far an acceptance may go by zone, severity and residual rating.
    Read-only here; admins manage them in the admin console."""

    serializer_class = serializers.AppetiteRuleSerializer
    lookup_value_regex = ID_REGEX

    def get_queryset(self) -> QuerySet[AppetiteRule]:
        return AppetiteRule.objects.order_by("name", "pk")


@extend_schema_view(
    list=extend_schema(summary="Fix plans, open ones first by due date"),
    retrieve=extend_schema(summary="One fix plan"),
)
class FixPlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Decisions to remove a risk source: who fixes what by when. Analysts plan."""

    serializer_class = serializers.FixPlanSerializer
    lookup_value_regex = ID_REGEX
    action_permissions = {"create": "acceptances.add_fixplan"}

    def get_queryset(self) -> QuerySet[FixPlan]:
        plans = FixPlan.objects.select_related("control", "owner", "created_by")
        state = self.request.query_params.get("state")
        if state in FixPlan.State.values:
            plans = plans.filter(state=state)
        return plans.order_by("-state", "due_on", "pk")  # "open" sorts after "done", "cancelled"

    @extend_schema(
        summary="Plan a fix (analyst)",
        request=serializers.FixPlanCreateSerializer,
        responses={201: serializers.FixPlanSerializer},
    )
    def create(self, request: Request) -> Response:
        data = serializers.FixPlanCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.setdefault("owner", request.user)
        plan = services.plan_fix(actor=request.user, **values)
        return Response(serializers.FixPlanSerializer(plan).data, status=status.HTTP_201_CREATED)
