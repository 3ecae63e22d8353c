"""Reads about risk treatment shared by the UI, the API and reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When

from acceptances.models import (
    AcceptanceChange,
    AcceptanceEvent,
    FixPlan,
    RiskAcceptance,
    ZoneMembership,
)
from acceptances.services.signoff import awaiting_owner_since
from findings.queries import matching_controls


def get_pending_change(acceptance: RiskAcceptance) -> AcceptanceChange | None:
    """The change of ``acceptance`` awaiting a second approver, if any."""
    return (
        AcceptanceChange.objects.select_related("proposed_by")
        .filter(acceptance=acceptance, state=AcceptanceChange.State.PENDING)
        .first()
    )


def get_change_rows(change: AcceptanceChange) -> dict[str, list[Any]]:
    """What a proposed change changes, as the history shows it: ``{field: [before, after]}``
    (dates in ISO 8601, people by username)."""
    from django.contrib.auth import get_user_model

    def shown(name: str, value: Any) -> Any:
        if name == "owner" and value is not None:
            user = get_user_model().objects.filter(pk=value).first()
            return user.get_username() if user else value
        return value

    rows = {
        name: [shown(name, change.before.get(name)), shown(name, value)]
        for name, value in change.terms.items()
    }
    if change.renews:
        rows["state"] = ["expired", "active"]
    return rows


def get_acceptances(
    *,
    zone: Any = None,
    control_ref: str = "",
    reason: str = "",
    owner: Any = None,
    state: str = "",
    expires_within_days: int | None = None,
    needs_review: bool = False,
    hygiene: str = "",
    sort: str = "",
    now: dt.datetime,
) -> QuerySet[RiskAcceptance]:
    """Acceptances matching the filters: live ones (proposed, awaiting the owner, active,
    suspended) first, each group soonest
    expiry first (no end last), with how many findings each covers now. ``control_ref`` is a
    control's reference ("2.1.2") or words of its title ("IMDS", "bucket policy").
    ``state`` may also be "stale": live but no longer needed. ``needs_review``: only those a
    scan flagged for re-review (the accepted configuration changed). ``hygiene`` names a number
    of the hygiene page (``acceptances.hygiene.CONDITIONS``): the acceptances it counts.
    ``sort="waiting"`` puts the longest waiting first (for approval or sign-off)."""
    from acceptances import hygiene as hygiene_queries

    acceptances = RiskAcceptance.objects.select_related(
        "control", "control__benchmark", "zone", "resource", "owner"
    ).annotate(covering=Count("covered_findings"), awaiting_since=awaiting_owner_since())
    if zone is not None:
        acceptances = acceptances.filter(zone=zone)
    if control_ref.strip():
        acceptances = acceptances.filter(control__in=matching_controls(control_ref))
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
    if needs_review:
        acceptances = acceptances.filter(review_flagged_at__isnull=False)
    if expires_within_days is not None:
        acceptances = acceptances.filter(
            state__in=RiskAcceptance.LIVE_STATES,
            expires_at__isnull=False,
            expires_at__lte=now + dt.timedelta(days=expires_within_days),
        )
    if hygiene:
        acceptances = hygiene_queries.filter_acceptances(acceptances, hygiene, now)
    if sort == "waiting":
        return hygiene_queries.order_by_waiting(acceptances)
    # A revoked or expired acceptance ended on a past date, so by expiry alone it sorted
    # above every live one; what still holds a scope is what a reader looks for first.
    live_first = Case(
        When(state__in=RiskAcceptance.LIVE_STATES, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return acceptances.order_by(live_first, F("expires_at").asc(nulls_last=True), "pk")


@dataclass
class Attention:
    """What of the treatment side needs someone now, for the overview's panels."""

    expiring: list[RiskAcceptance]
    expiring_count: int
    proposed: list[RiskAcceptance]
    proposed_count: int
    pending_changes: list[AcceptanceChange]
    pending_changes_count: int
    # Acceptances approved (or needing no approval) that await their owner's sign-off, oldest
    # first, each with ``awaiting_since``; and those the given user owns and has not signed
    # off yet (awaiting them, or proposals they may sign off before approval).
    awaiting_owner: list[RiskAcceptance] = field(default_factory=list)
    awaiting_owner_count: int = 0
    my_signoffs: list[RiskAcceptance] = field(default_factory=list)
    my_signoffs_count: int = 0


EXPIRING_WITHIN_DAYS = 30


def get_attention(
    now: dt.datetime, *, user: Any = None, days: int = EXPIRING_WITHIN_DAYS, limit: int = 10
) -> Attention:
    """Live acceptances ending within ``days`` (soonest first), acceptances proposed, changes
    awaiting a second approver and acceptances awaiting their owner (oldest first), and the
    sign-offs awaiting ``user``: the first ``limit`` of each, with their counts."""
    expiring = (
        RiskAcceptance.objects.select_related("control", "resource", "zone", "owner")
        .filter(
            state__in=RiskAcceptance.LIVE_STATES,
            expires_at__isnull=False,
            expires_at__lte=now + dt.timedelta(days=days),
        )
        .order_by("expires_at", "pk")
    )
    proposed = (
        RiskAcceptance.objects.select_related("control", "resource", "zone", "created_by")
        .filter(state=RiskAcceptance.State.PROPOSED)
        .order_by("created_at", "pk")
    )
    changes = (
        AcceptanceChange.objects.select_related(
            "acceptance__control", "acceptance__resource", "acceptance__zone", "proposed_by"
        )
        .filter(state=AcceptanceChange.State.PENDING)
        .order_by("proposed_at", "pk")
    )
    awaiting = (
        RiskAcceptance.objects.select_related("control", "resource", "zone", "owner")
        .filter(state=RiskAcceptance.State.AWAITING_OWNER)
        .annotate(awaiting_since=awaiting_owner_since())
        .order_by("awaiting_since", "pk")
    )
    mine = RiskAcceptance.objects.none()
    if user is not None and user.is_authenticated:
        mine = (
            RiskAcceptance.objects.select_related("control", "resource", "zone", "created_by")
            .filter(
                owner=user,
                state__in=[RiskAcceptance.State.PROPOSED, RiskAcceptance.State.AWAITING_OWNER],
                owner_signed_off_at__isnull=True,
            )
            .annotate(awaiting_since=awaiting_owner_since())
            .order_by("awaiting_since", "pk")
        )
    return Attention(
        awaiting_owner=list(awaiting[:limit]),
        awaiting_owner_count=awaiting.count(),
        my_signoffs=list(mine[:limit]),
        my_signoffs_count=mine.count(),
        expiring=list(expiring[:limit]),
        expiring_count=expiring.count(),
        proposed=list(proposed[:limit]),
        proposed_count=proposed.count(),
        pending_changes=list(changes[:limit]),
        pending_changes_count=changes.count(),
    )


def get_live_acceptances_for(control_id: int) -> QuerySet[RiskAcceptance]:
    """The live acceptances that apply to a control, for its page: its own, and those made on
    a control of another benchmark (or version) that shares a check with it (a decision
    follows the check, not the version)."""
    from findings.models import Check

    checks = Check.objects.filter(controls=control_id).values("pk")
    return (
        RiskAcceptance.objects.filter(state__in=RiskAcceptance.LIVE_STATES)
        .filter(Q(control_id=control_id) | Q(control__checks__in=checks))
        .distinct()
        .select_related("zone", "resource", "owner", "control__benchmark")
    )


ACCEPTANCE_EXPORT_FIELDS = [
    "id",
    "control",
    "benchmark_version",
    "scope",
    "resource_arn",
    "zone",
    "treatment",
    "reason",
    "reason_detail",
    "justification",
    "owner",
    "severity",
    "likelihood",
    "impact",
    "residual_rating",
    "compensating_measures",
    "renewals",
    "created_by",
    "created_at",
    "approved_by",
    "approved_at",
    "state",
    "owner_signed_off_at",
    "expires_at",
    "revoked_by",
    "revoked_at",
    "stale_since",
    "covered_findings",
]


def with_covered_count(acceptances: QuerySet[RiskAcceptance]) -> QuerySet[RiskAcceptance]:
    """Annotate ``covered_count``: the open failing findings each acceptance covers now."""
    return acceptances.annotate(covered_count=Count("covered_findings"))


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _name(user) -> str | None:
    return user.get_username() if user else None


def iter_acceptances_export(
    acceptances: QuerySet[RiskAcceptance] | None = None,
) -> Iterator[dict[str, Any]]:
    """Every acceptance as a flat record for auditors: what, where, who decided, until when."""
    acceptances = RiskAcceptance.objects.all() if acceptances is None else acceptances
    rows = with_covered_count(
        acceptances.select_related(
            "control__benchmark",
            "resource",
            "zone",
            "owner",
            "created_by",
            "approved_by",
            "revoked_by",
        )
    ).order_by("pk")
    for acceptance in rows.iterator(chunk_size=2000):
        yield {
            "id": acceptance.pk,
            "control": acceptance.control.ref,
            "benchmark_version": acceptance.control.benchmark.version,
            "scope": "zone" if acceptance.zone_id else "resource",
            "resource_arn": acceptance.resource.arn if acceptance.resource else None,
            "zone": acceptance.zone.name if acceptance.zone else None,
            "treatment": acceptance.treatment,
            "reason": acceptance.reason,
            "reason_detail": acceptance.reason_detail,
            "justification": acceptance.justification,
            "owner": _name(acceptance.owner),
            "severity": acceptance.control.severity,
            "likelihood": acceptance.likelihood,
            "impact": acceptance.impact,
            "residual_rating": acceptance.residual_rating,
            "compensating_measures": acceptance.compensating_measures,
            "renewals": acceptance.renewals,
            "created_by": _name(acceptance.created_by),
            "created_at": _iso(acceptance.created_at),
            "approved_by": _name(acceptance.approved_by),
            "approved_at": _iso(acceptance.approved_at),
            "state": acceptance.state,
            "owner_signed_off_at": _iso(acceptance.owner_signed_off_at),
            "expires_at": _iso(acceptance.expires_at),
            "revoked_by": _name(acceptance.revoked_by),
            "revoked_at": _iso(acceptance.revoked_at),
            "stale_since": _iso(acceptance.stale_since),
            "covered_findings": acceptance.covered_count,
        }


# Names the audit log's action filter takes for several actions at once: the decisions on
# proposed changes the hygiene page counts (a withdrawn change was decided by no one else).
AUDIT_ACTION_GROUPS = {
    "change_decided": (
        AcceptanceEvent.Action.CHANGE_APPROVED,
        AcceptanceEvent.Action.CHANGE_REJECTED,
    ),
}


def get_audit_events(
    *,
    actor: Any = None,
    system: bool = False,
    action: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[AcceptanceEvent]:
    """Every recorded decision across acceptances, newest first: the audit log.

    ``actor`` narrows to one person's events, ``system`` to the expiry job's and the scans'
    (no actor); ``since`` is inclusive, ``until`` exclusive. Coverage counts (COVERAGE events,
    written after scans, which the register reads) are not decisions: listed only when asked
    for by ``action``."""
    events = AcceptanceEvent.objects.select_related(
        "actor", "acceptance__control", "acceptance__zone", "acceptance__resource"
    ).order_by("-at", "-pk")
    if system:
        events = events.filter(actor__isnull=True)
    elif actor is not None:
        events = events.filter(actor=actor)
    if action in AUDIT_ACTION_GROUPS:
        events = events.filter(action__in=AUDIT_ACTION_GROUPS[action])
    elif action:
        events = events.filter(action=action)
    else:
        events = events.exclude(action=AcceptanceEvent.Action.COVERAGE)
    if since is not None:
        events = events.filter(at__gte=since)
    if until is not None:
        events = events.filter(at__lt=until)
    return events


def get_open_fix_plans(
    *,
    control_id: int | None = None,
    resource_id: int | None = None,
    overdue_on: dt.date | None = None,
) -> list[FixPlan]:
    """Open fix plans, due date first: of a control; of a resource (its own and those of the
    zones it is in, the built-in zone included); or, with ``overdue_on``, those due before
    that day. Open plans are few: the ``fixplan_due_idx`` index serves every variant."""
    from django.db.models import Q

    plans = FixPlan.objects.filter(state=FixPlan.State.OPEN).select_related(
        "control", "resource", "zone", "owner"
    )
    if control_id is not None:
        plans = plans.filter(control_id=control_id)
    if resource_id is not None:
        zones = ZoneMembership.objects.filter(resource_id=resource_id).values("zone_id")
        plans = plans.filter(
            Q(resource_id=resource_id) | Q(zone_id__in=zones) | Q(zone__is_builtin=True)
        )
    if overdue_on is not None:
        plans = plans.filter(due_on__lt=overdue_on)
    return list(plans.order_by("due_on", "pk"))
