"""Every write about project-level data: personal API tokens.

Like every service, these take model instances and plain values, check the actor's permission
and run in a transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cspm.models import TOKEN_PREFIX, ApiToken, token_digest

# How often "last used" is written: once a minute is precise enough for an audit and spares a
# write on every API request.
LAST_USED_PRECISION = dt.timedelta(minutes=1)
_TOKEN_RE = re.compile(
    rf"^{TOKEN_PREFIX}_(?P<prefix>[0-9a-f]{{12}})_(?P<secret>[A-Za-z0-9_-]{{20,}})$"
)


def can_manage_tokens_of_others(user: AbstractBaseUser) -> bool:
    """Admins (the admin role manages users) may list and revoke anyone's tokens."""
    return bool(user.is_active and (user.is_superuser or user.has_perm("auth.change_user")))


@transaction.atomic
def create_api_token(
    *,
    actor: AbstractBaseUser,
    user: AbstractBaseUser,
    name: str,
    expires_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for ``user``; return it with the raw token, which is never shown again."""
    now = now or timezone.now()
    if actor.pk != user.pk and not can_manage_tokens_of_others(actor):
        raise PermissionDenied("You may only create tokens for yourself.")
    if not user.is_active:
        raise ValidationError({"user": "Tokens are for active users only."})
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Say what the token is for, e.g. 'CI pipeline'."
    elif len(name) > 100:
        errors["name"] = "At most 100 characters."
    if expires_at is not None and expires_at <= now:
        errors["expires_at"] = "The expiry must be in the future."
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(6)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user, name=name, prefix=prefix, digest=token_digest(raw), expires_at=expires_at
    )
    return token, raw


@transaction.atomic
def revoke_api_token(
    token: ApiToken, *, actor: AbstractBaseUser, now: dt.datetime | None = None
) -> ApiToken:
    """Revoke a token at once; revoking a revoked token changes nothing."""
    if token.user_id != actor.pk and not can_manage_tokens_of_others(actor):
        raise PermissionDenied("You may only revoke your own tokens.")
    now = now or timezone.now()
    # Conditional: the first revocation's time stands.
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    token.refresh_from_db(fields=["revoked_at"])
    return token


def find_api_token(raw: str, now: dt.datetime | None = None) -> ApiToken | None:
    """The usable token ``raw`` stands for, or None (unknown, wrong secret, revoked, expired,
    or its user deactivated)."""
    match = _TOKEN_RE.match(raw or "")
    if match is None:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=match["prefix"]).first()
    if token is None or not token.matches(raw):
        return None
    if not token.is_usable(now or timezone.now()):
        return None
    return token


def touch_api_token(token: ApiToken, now: dt.datetime | None = None) -> None:
    """Record that the token was used, at most once per minute (one conditional UPDATE)."""
    now = now or timezone.now()
    if token.last_used_at is not None and token.last_used_at > now - LAST_USED_PRECISION:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_PRECISION)
    ).update(last_used_at=now)
    token.last_used_at = now
