"""The four roles and what each may do, as Django groups with model permissions.

viewer reads; analyst triages and proposes acceptances; approver approves, revokes, extends and
defines zones; admin does everything, including accounts and users. Permissions are cumulative.
``sync_roles`` is idempotent: migrations call it whenever the table below changes.
"""

from __future__ import annotations

from typing import Any

VIEWER = "viewer"
ANALYST = "analyst"
APPROVER = "approver"
ADMIN = "admin"
ROLES = (VIEWER, ANALYST, APPROVER, ADMIN)

_APPS = ("findings", "acceptances")

# Extra permissions on top of the role below it ("app.codename").
_GRANTS: dict[str, list[str]] = {
    VIEWER: [],  # every view_* permission of the product's apps, added below
    ANALYST: [
        "acceptances.add_riskacceptance",
        "acceptances.add_fixplan",
        "findings.add_scan",
    ],
    APPROVER: [
        "acceptances.change_riskacceptance",
        "acceptances.approve_riskacceptance",
        "acceptances.revoke_riskacceptance",
        "acceptances.extend_riskacceptance",
        "acceptances.add_zone",
        "acceptances.change_zone",
        "acceptances.change_fixplan",
    ],
    ADMIN: [],  # every permission of the product's apps and of users and groups, added below
}


def role_permissions(all_perms: list[tuple[str, str]]) -> dict[str, set[tuple[str, str]]]:
    """Map each role to the (app_label, codename) pairs it holds, from the existing permissions."""
    product = {p for p in all_perms if p[0] in _APPS}
    result: dict[str, set[tuple[str, str]]] = {}
    held: set[tuple[str, str]] = set()
    for role in ROLES:
        if role == VIEWER:
            held |= {p for p in product if p[1].startswith("view_")}
        elif role == ADMIN:
            held |= product | {p for p in all_perms if p[0] == "auth"}
        held |= {tuple(name.split(".", 1)) for name in _GRANTS[role]}  # type: ignore[misc]
        result[role] = set(held)
    return result


def sync_roles(apps: Any) -> None:
    """Create or update the role groups. ``apps`` is a (historical) app registry."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations ran; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = {
        (p.content_type.app_label, p.codename): p
        for p in Permission.objects.select_related("content_type")
    }
    for role, wanted in role_permissions(list(perms)).items():
        # An older migration runs this with the models of its time: a grant on a model a
        # later migration creates is left for that migration's own call.
        wanted = {key for key in wanted if key in perms or _model_exists(apps, *key)}
        missing = wanted - perms.keys()
        if missing:
            raise RuntimeError(f"Role {role} refers to unknown permissions: {sorted(missing)}")
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([perms[key] for key in wanted])


def _model_exists(apps: Any, app_label: str, codename: str) -> bool:
    """Whether the model a permission codename (``add_fixplan``) is about exists in ``apps``.
    Custom codenames (``approve_riskacceptance``) name their model last too."""
    model = codename.rsplit("_", 1)[-1]
    try:
        apps.get_model(app_label, model)
    except LookupError:
        return False
    return True


def holds_a_role(user: Any) -> bool:
    """An active user in one of the role groups (or a superuser): someone who can answer for a
    decision. A deactivated account or one with no role cannot own a risk."""
    if user is None or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name__in=ROLES).exists()


def users_with_a_role() -> Any:
    """Active users who hold a role (or are superusers): the possible owners of a risk."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    return (
        get_user_model()
        .objects.filter(Q(groups__name__in=ROLES) | Q(is_superuser=True), is_active=True)
        .distinct()
    )


def may_see_external_ids(user: Any) -> bool:
    """Only who may change accounts (admins) reads an account's external id; the others see
    whether one is set. With the role ARN it is what lets the scanner into the account."""
    return bool(
        user is not None and user.is_active and user.has_perm("findings.change_cloudaccount")
    )
