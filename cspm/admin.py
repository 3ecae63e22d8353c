"""API tokens in the admin console: created through the service (the token is shown once, in a
message), never edited; the digest is read-only and revocation is an action."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest

from cspm import services
from cspm.models import ApiToken


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("user", "name", "expires_at")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenForm
    list_display = (
        "name",
        "user",
        "display",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    actions = ("revoke",)
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at", "revoked_at")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return services.can_manage_tokens_of_others(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return services.can_manage_tokens_of_others(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return services.can_manage_tokens_of_others(request.user)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Only creation goes through the form; an existing token is read-only.
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if obj is not None:
            return ("user", "name", "expires_at", *self.readonly_fields)
        return ()

    def get_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return ("user", "name", "expires_at")
        return (
            "user",
            "name",
            "prefix",
            "digest",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = get_user_model().objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: ApiToken, form, change: bool) -> None:
        token, raw = services.create_api_token(
            actor=request.user,
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data.get("expires_at"),
        )
        obj.pk = token.pk
        obj.prefix, obj.digest = token.prefix, token.digest
        messages.warning(request, f"The token for {token.user}, shown this once only: {raw}")

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            services.revoke_api_token(token, actor=request.user)
        messages.success(request, f"Revoked {queryset.count()} token(s).")
