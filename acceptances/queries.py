"""Reads about treatment decisions shared by the pages, the API and reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from acceptances.models import RiskAcceptance


def get_acceptances(
    *,
    zone: Any = None,
    control_ref: str = "",
    reason: str = "",
    owner: Any = None,
    state: str = "",
    expires_within_days: int | None = None,
    now: dt.datetime,
) -> QuerySet[RiskAcceptance]:
    """Acceptances matching the filters, soonest expiry first (no end last), with how many
    findings each covers now. ``state`` may also be "stale": live but no longer needed."""
    acceptances = RiskAcceptance.objects.select_related(
        "control", "control__benchmark", "zone", "resource", "owner"
    ).annotate(covering=Count("covered_findings"))
    if zone is not None:
        acceptances = acceptances.filter(zone=zone)
    if control_ref:
        acceptances = acceptances.filter(control__ref=control_ref.strip())
    if reason:
        acceptances = acceptances.filter(reason=reason)
    if owner is not None:
        acceptances = acceptances.filter(owner=owner)
    if state == "stale":
        acceptances = acceptances.filter(
            state__in=RiskAcceptance.LIVE_STATES, stale_since__isnull=False
        )
    elif state:
        acceptances = acceptances.filter(state=state)
    if expires_within_days is not None:
        acceptances = acceptances.filter(
            state__in=RiskAcceptance.LIVE_STATES,
            expires_at__isnull=False,
            expires_at__lte=now + dt.timedelta(days=expires_within_days),
        )
    return acceptances.order_by(F("expires_at").asc(nulls_last=True), "pk")


def get_live_acceptances_for(control_id: int) -> QuerySet[RiskAcceptance]:
    return RiskAcceptance.objects.filter(
        Q(control_id=control_id), state__in=RiskAcceptance.LIVE_STATES
    ).select_related("zone", "resource", "owner")
