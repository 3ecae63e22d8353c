"""Admin parts both apps use."""

from __future__ import annotations

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """Viewable by those with the view permission; never added, changed or deleted by hand
    (what scans record and the history of decisions are written by services only)."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
