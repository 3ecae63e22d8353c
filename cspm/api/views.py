"""API tokens: each user lists, creates and revokes their own; admins see and revoke anyone's."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cspm import services
from cspm.api.base import ID_REGEX
from cspm.api.serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenCreateSerializer,
    ApiTokenSerializer,
)
from cspm.models import ApiToken
from cspm.roles import ROLES


class HoldsARole(permissions.BasePermission):
    """Tokens are for people who hold a role: an outsider has nothing to automate."""

    def has_permission(self, request: Request, view) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and user.is_active
            and (user.is_superuser or user.groups.filter(name__in=ROLES).exists())
        )


@extend_schema_view(
    list=extend_schema(summary="Your API tokens (an admin's list holds everyone's)"),
    retrieve=extend_schema(summary="One API token"),
)
class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Personal API tokens. Another user's token is not found (404), unless you are an admin."""

    serializer_class = ApiTokenSerializer
    lookup_value_regex = ID_REGEX
    permission_classes = [HoldsARole]
    filterset_fields = ("user__username",)
    ordering_fields = ("created_at", "last_used_at", "name")
    ordering = ("-created_at", "-id")

    def get_queryset(self) -> QuerySet[ApiToken]:
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        tokens = ApiToken.objects.select_related("user")
        if not services.can_manage_tokens_of_others(self.request.user):
            tokens = tokens.filter(user=self.request.user)
        return tokens.order_by("-created_at", "-id")

    @extend_schema(
        summary="Create a token for yourself (the token is in this answer only)",
        request=ApiTokenCreateSerializer,
        responses={201: ApiTokenCreatedSerializer},
    )
    def create(self, request: Request) -> Response:
        data = ApiTokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, raw = services.create_api_token(
            actor=request.user, user=request.user, **data.validated_data
        )
        token.token = raw
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Revoke a token at once", request=None, responses={200: ApiTokenSerializer}
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        token = services.revoke_api_token(self.get_object(), actor=request.user)
        return Response(ApiTokenSerializer(token).data)
