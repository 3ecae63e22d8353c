"""Role permissions for the API: the same model permissions the UI and the admin check.

* Reading needs the model's ``view`` permission (every role has them).
* Each write action names the permission it needs in the view's ``action_permissions``; the
  service called afterwards checks it again (and any rule about the object itself).
* Someone who may not read a kind of object is refused a list with 403 and any single object
  with 404, exactly as if it did not exist: its existence is not disclosed.
* Someone who may read an object but not make the requested change gets 403.
"""

from __future__ import annotations

from django.http import Http404
from rest_framework import permissions
from rest_framework.request import Request

SAFE = ("GET", "HEAD", "OPTIONS")


def view_permission(model) -> str:
    return f"{model._meta.app_label}.view_{model._meta.model_name}"


class RolePermission(permissions.BasePermission):
    """Model permissions by action, from ``view.read_permission`` / ``view.action_permissions``.

    ``read_permission`` defaults to the view permission of the queryset's model;
    ``action_permissions`` maps an action name to the permissions it needs on top of reading.
    """

    def has_permission(self, request: Request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        read = getattr(view, "read_permission", None)
        if read is None:
            read = view_permission(view.get_queryset().model)
        if not user.has_perm(read):
            if view.kwargs.get(getattr(view, "lookup_url_kwarg", None) or "pk") is not None:
                # Invisible objects are not there.
                raise Http404
            return False
        action = getattr(view, "action", None) or request.method.lower()
        needed = getattr(view, "action_permissions", {}).get(action, ())
        if isinstance(needed, str):
            needed = (needed,)
        return user.has_perms(needed)
