"""Shared by the services: permission checks and the history every change writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied

from acceptances.models import (
    AcceptanceEvent,
    RiskAcceptance,
)
from findings.services.posture import queue_posture_recount

# Fields a person may edit on an acceptance, and how they appear in the history.
EDITABLE_FIELDS = (
    "justification",
    "reason",
    "reason_detail",
    "owner",
    "expires_at",
    "treatment",
    "likelihood",
    "impact",
    "compensating_measures",
)
# The assessment: a change of either level recomputes ``residual_rating`` (recorded beside it).
ASSESSMENT_FIELDS = ("likelihood", "impact")


def _require(actor: AbstractBaseUser | None, perm: str) -> None:
    if actor is None or not actor.is_active or not actor.has_perm(perm):
        raise PermissionDenied(f"You do not have permission to do this ({perm}).")


def _history_value(value: Any) -> Any:
    """JSON-friendly form of a field value for the history."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if hasattr(value, "get_username"):
        return value.get_username()
    return value


def _record(
    acceptance: RiskAcceptance,
    action: str,
    actor: AbstractBaseUser | None,
    at: dt.datetime,
    changes: dict[str, list[Any]] | None = None,
    note: str = "",
) -> AcceptanceEvent:
    # Every change of an acceptance writes an event, which moves the posture fingerprint.
    queue_posture_recount()
    return AcceptanceEvent.objects.create(
        acceptance=acceptance,
        action=action,
        actor=actor,
        at=at,
        changes=changes or {},
        note=note,
    )
