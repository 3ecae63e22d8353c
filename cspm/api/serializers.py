"""API tokens: shown once at creation, then only by their prefix."""

from __future__ import annotations

from rest_framework import serializers

from cspm.models import ApiToken


class ApiTokenSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.get_username", read_only=True)
    display = serializers.CharField(read_only=True, help_text="The token's visible part.")
    active = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = (
            "id",
            "name",
            "user",
            "display",
            "prefix",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
            "active",
        )
        read_only_fields = fields

    def get_active(self, token: ApiToken) -> bool:
        from django.utils import timezone

        return token.is_usable(timezone.now())


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        read_only=True, help_text="The whole token. Shown this once only: store it now."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = (*ApiTokenSerializer.Meta.fields, "token")
        read_only_fields = fields
