"""Exception hygiene: the numbers auditors and security leads ask of the acceptances.

Acceptances with no end, overdue reviews, what waits for approval or sign-off (and how long),
how long decisions take, how often acceptances are renewed, acceptances whose resources are
gone, suspended ones, and self-approvals refused.

Each number over acceptances is one condition defined here (``CONDITIONS``); the page counts
them all in one aggregate query, and the acceptances list (UI and API, ``?hygiene=<name>``)
filters with the same condition, so a number's link lists exactly the rows it counted. The
decisions on proposed changes and the refused self-approvals are counted from their own tables
and link to the audit log, filtered to the same events.

Built for scale: three aggregate queries however many acceptances and events there are (the
per-acceptance figures come from one pass over the history, joined and grouped by acceptance,
see ``annotated``); ``bench/hygiene.py`` times them over 10,000 acceptances and 100,000 events.
Medians are computed by PostgreSQL (``percentile_cont``); on SQLite, which has no such
aggregate, the durations are read and the median taken here.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Case,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from acceptances.models import AcceptanceChange, AcceptanceEvent, RiskAcceptance, ZoneMembership
from acceptances.services.signoff import awaiting_owner_since
from findings.models import Resource

# Decision times are shown for this many days back, beside all time.
WINDOW_DAYS = 90

Action = AcceptanceEvent.Action
State = RiskAcceptance.State

# A person's decision on the terms of an acceptance: what restarts its periodic-review clock.
DECISION_ACTIONS = (
    Action.CREATED,
    Action.APPROVED,
    Action.EDITED,
    Action.EXTENDED,
    Action.REACCEPTED,
    Action.CHANGE_APPROVED,
    Action.SIGNED_OFF,
    Action.REVIEWED,
)
# What ends a proposal: approval, or revocation (a proposal is rejected by revoking it).
PROPOSAL_DECISIONS = (Action.APPROVED, Action.REVOKED)
# The audit log's name for the decisions on proposed changes (approved or rejected; a change
# its proposer withdrew was decided by no one else).
CHANGE_DECISIONS = (Action.CHANGE_APPROVED, Action.CHANGE_REJECTED)


class Median(Aggregate):
    """PostgreSQL's continuous median of a number or an interval."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False


def _waiting_since() -> Case:
    """Since when it waits: a proposal since it was made; an acceptance awaiting its owner's
    sign-off since it last entered that state (the sign-off service's one definition: its
    creation, its approval, a new owner or a renewal)."""
    return Case(
        When(state=State.AWAITING_OWNER, then=awaiting_owner_since()),
        default=F("created_at"),
        output_field=DateTimeField(),
    )


def _event(**lookups) -> Q:
    return Q(**{f"events__{name}": value for name, value in lookups.items()})


def _renewal_count() -> Greatest:
    renewal = _event(
        action__in=(Action.REACCEPTED, Action.CHANGE_APPROVED), changes__state__0=State.EXPIRED
    )
    return Greatest(F("renewals"), Count("events", filter=renewal))


ANNOTATIONS: dict[str, Callable[[], Any]] = {
    "zone_holds_resource": lambda: Exists(
        ZoneMembership.objects.filter(zone=OuterRef("zone"), resource__gone_at__isnull=True)
    ),
    "any_resource": lambda: Exists(Resource.objects.filter(gone_at__isnull=True)),
    "renewal_count": _renewal_count,
    "last_decision_at": lambda: Coalesce(
        Max("events__at", filter=_event(action__in=DECISION_ACTIONS)),
        F("approved_at"),
        F("created_at"),
    ),
    # The history is read (one indexed subquery) only for acceptances awaiting sign-off.
    "waiting_since": _waiting_since,
    "proposed_at": lambda: Min("events__at", filter=_event(action=Action.PROPOSED)),
    "proposal_decided_at": lambda: Min("events__at", filter=_event(action__in=PROPOSAL_DECISIONS)),
}


def annotated(
    queryset: QuerySet[RiskAcceptance] | None = None, names: tuple[str, ...] | None = None
) -> QuerySet[RiskAcceptance]:
    """Acceptances with what the conditions read, from one pass over their history grouped by
    acceptance (a join, not a subquery per row and figure):

    - ``renewal_count``: how many times it was renewed after it had expired: its renewal
      events (a re-acceptance, or an approved change that renewed it), or its ``renewals``
      counter if a service keeps one that is higher;
    - ``last_decision_at``: its latest decision (``DECISION_ACTIONS``), else its approval or
      creation;
    - ``waiting_since`` (see ``_waiting_since``);
    - ``proposed_at`` and ``proposal_decided_at``: its proposal, and the first approval or
      revocation;
    - whether any resource not gone is left in its zone (``zone_holds_resource``) or at all
      (``any_resource``: the built-in zone holds every resource and stores no membership).

    ``names`` picks some of them (all by default): a list that needs none reads no history.
    """
    queryset = RiskAcceptance.objects.all() if queryset is None else queryset
    wanted = tuple(ANNOTATIONS) if names is None else names
    return queryset.annotate(**{name: ANNOTATIONS[name]() for name in wanted})


def window_start(now: dt.datetime) -> dt.datetime:
    """The start of the "last 90 days": midnight (the site's time zone) of the day 90 days
    back, so that the audit log's day filter lists exactly the events counted."""
    day = timezone.localdate(now) - dt.timedelta(days=WINDOW_DAYS)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _live() -> Q:
    return Q(state__in=RiskAcceptance.LIVE_STATES)


def _resources_gone() -> Q:
    """Live, and nothing left to accept: its resource is gone, or its zone holds no resource
    that is not gone (the built-in zone holds every resource, and stores no membership)."""
    return _live() & (
        Q(resource__gone_at__isnull=False)
        | Q(zone__is_builtin=False, zone_holds_resource=False)
        | Q(zone__is_builtin=True, any_resource=False)
    )


def _proposal_decided(since: dt.datetime | None) -> Q:
    decided = Q(proposed_at__isnull=False, proposal_decided_at__isnull=False)
    if since is not None:
        decided &= Q(proposal_decided_at__gte=since)
    return decided


@dataclass(frozen=True)
class Condition:
    label: str
    q: Callable[[dt.datetime], Q]
    # The annotations of ``annotated`` it reads.
    needs: tuple[str, ...] = ()


def _days_ago(setting: str, now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(days=getattr(settings, setting))


DECIDED = ("proposed_at", "proposal_decided_at")

# Each number over acceptances, by the name the lists take as ``?hygiene=<name>``.
CONDITIONS: dict[str, Condition] = {
    "no_end": Condition("Live, with no end", lambda now: _live() & Q(expires_at__isnull=True)),
    "review_overdue": Condition(
        "Flagged for re-review, not reviewed in time",
        lambda now: _live() & Q(review_flagged_at__lt=_days_ago("CSPM_REVIEW_OVERDUE_DAYS", now)),
    ),
    "review_due": Condition(
        "In force, no decision for a year",
        lambda now: Q(
            state__in=RiskAcceptance.EXPIRING_STATES,
            last_decision_at__lt=_days_ago("CSPM_PERIODIC_REVIEW_DAYS", now),
        ),
        ("last_decision_at",),
    ),
    "awaiting_approval": Condition("Awaiting approval", lambda now: Q(state=State.PROPOSED)),
    "awaiting_signoff": Condition(
        "Awaiting the owner's sign-off", lambda now: Q(state=State.AWAITING_OWNER)
    ),
    "renewed": Condition(
        "Live, renewed at least once",
        lambda now: _live() & Q(renewal_count__gte=1),
        ("renewal_count",),
    ),
    "renewed_often": Condition(
        "Live, renewed more than once",
        lambda now: _live() & Q(renewal_count__gte=2),
        ("renewal_count",),
    ),
    "resources_gone": Condition(
        "Live, its resources gone",
        lambda now: _resources_gone(),
        ("zone_holds_resource", "any_resource"),
    ),
    "suspended": Condition("Suspended", lambda now: Q(state=State.SUSPENDED)),
    "decided_recently": Condition(
        f"Proposal decided in the last {WINDOW_DAYS} days",
        lambda now: _proposal_decided(window_start(now)),
        DECIDED,
    ),
    "decided": Condition("Proposal decided", lambda now: _proposal_decided(None), DECIDED),
}

HYGIENE_CHOICES = [(name, condition.label) for name, condition in CONDITIONS.items()]


def select(name: str, now: dt.datetime) -> QuerySet[RiskAcceptance]:
    """The acceptances behind one number (``name`` from ``CONDITIONS``), reading only the
    annotations its condition needs."""
    condition = CONDITIONS[name]
    return annotated(names=condition.needs).filter(condition.q(now))


def filter_acceptances(
    acceptances: QuerySet[RiskAcceptance], name: str, now: dt.datetime
) -> QuerySet[RiskAcceptance]:
    """``acceptances`` narrowed to those behind one number; the caller's annotations and
    ordering are left alone (a ``pk IN (...)`` subquery)."""
    return acceptances.filter(pk__in=select(name, now).values("pk"))


def order_by_waiting(acceptances: QuerySet[RiskAcceptance]) -> QuerySet[RiskAcceptance]:
    """Longest waiting first (see ``_waiting_since``), annotated ``waiting_since``.

    A subquery per row, not ``annotated``'s join: the list already counts covered findings
    through a join, which a second one would multiply; the lists that sort so are short."""
    return acceptances.annotate(waiting_since=_waiting_since()).order_by("waiting_since", "pk")


# --- The page's figures ------------------------------------------------------------------------


@dataclass
class Waiting:
    count: int
    oldest: dt.timedelta | None
    median: dt.timedelta | None


@dataclass
class DecisionTimes:
    count: int
    median: dt.timedelta | None


@dataclass
class Hygiene:
    now: dt.datetime
    window_start: dt.datetime
    counts: dict[str, int]
    awaiting_approval: Waiting
    awaiting_signoff: Waiting
    # Proposals (proposed -> approved or revoked) and proposed changes (-> approved or
    # rejected): in the window, and all time.
    proposals_recent: DecisionTimes
    proposals_all: DecisionTimes
    changes_recent: DecisionTimes
    changes_all: DecisionTimes
    refused_recent: int
    refused_all: int
    settings: dict[str, int] = field(default_factory=dict)


def _age(now: dt.datetime) -> F:
    return Value(now, output_field=DateTimeField()) - F("waiting_since")


def _median_of(values: list[dt.timedelta]) -> dt.timedelta | None:
    if not values:
        return None
    seconds = statistics.median(v.total_seconds() for v in values)
    return dt.timedelta(seconds=seconds)


def _durations(queryset: QuerySet, start: str, end: str) -> list[dt.timedelta]:
    return [b - a for a, b in queryset.values_list(start, end)]


def get_hygiene(now: dt.datetime | None = None) -> Hygiene:
    """Every figure of the hygiene page, in three aggregate queries (more on SQLite, which reads
    the durations behind the medians)."""
    now = now or timezone.now()
    since = window_start(now)
    on_postgres = connection.vendor == "postgresql"
    acceptances = annotated()
    conditions = {name: condition.q(now) for name, condition in CONDITIONS.items()}
    aggregates: dict[str, Aggregate] = {
        name: Count("pk", filter=q) for name, q in conditions.items()
    }
    for name in ("awaiting_approval", "awaiting_signoff"):
        aggregates[f"{name}_oldest"] = Min("waiting_since", filter=conditions[name])
    decision_time = F("proposal_decided_at") - F("proposed_at")
    if on_postgres:
        for name in ("awaiting_approval", "awaiting_signoff"):
            aggregates[f"{name}_median"] = Median(
                _age(now), filter=conditions[name], output_field=DurationField()
            )
        for name in ("decided_recently", "decided"):
            aggregates[f"{name}_median"] = Median(
                decision_time, filter=conditions[name], output_field=DurationField()
            )
    with transaction.atomic():
        if on_postgres:
            # PostgreSQL's JIT compiler judges this one-pass aggregate (dozens of FILTER
            # clauses over the history) costly enough to compile, and spends seconds on it
            # where running it takes a fraction of one: off for this transaction only.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        figures = acceptances.aggregate(**aggregates)
    if not on_postgres:
        for name in ("awaiting_approval", "awaiting_signoff"):
            rows = acceptances.filter(conditions[name]).values_list("waiting_since", flat=True)
            figures[f"{name}_median"] = _median_of([now - since_ for since_ in rows])
        for name in ("decided_recently", "decided"):
            rows = acceptances.filter(conditions[name])
            figures[f"{name}_median"] = _median_of(
                _durations(rows, "proposed_at", "proposal_decided_at")
            )

    decided = AcceptanceChange.objects.filter(
        state__in=(AcceptanceChange.State.APPROVED, AcceptanceChange.State.REJECTED)
    )
    recent = Q(decided_at__gte=since)
    change_aggregates: dict[str, Aggregate] = {
        "all": Count("pk"),
        "recent": Count("pk", filter=recent),
    }
    if on_postgres:
        change_time = F("decided_at") - F("proposed_at")
        change_aggregates["all_median"] = Median(change_time, output_field=DurationField())
        change_aggregates["recent_median"] = Median(
            change_time, filter=recent, output_field=DurationField()
        )
    changes = decided.aggregate(**change_aggregates)
    if not on_postgres:
        changes["all_median"] = _median_of(_durations(decided, "proposed_at", "decided_at"))
        changes["recent_median"] = _median_of(
            _durations(decided.filter(recent), "proposed_at", "decided_at")
        )

    refused = AcceptanceEvent.objects.filter(action=Action.APPROVAL_REFUSED).aggregate(
        all=Count("pk"), recent=Count("pk", filter=Q(at__gte=since))
    )

    def waiting(name: str) -> Waiting:
        oldest = figures[f"{name}_oldest"]
        return Waiting(
            count=figures[name],
            oldest=now - oldest if oldest is not None else None,
            median=figures[f"{name}_median"],
        )

    return Hygiene(
        now=now,
        window_start=since,
        counts={name: figures[name] for name in CONDITIONS},
        awaiting_approval=waiting("awaiting_approval"),
        awaiting_signoff=waiting("awaiting_signoff"),
        proposals_recent=DecisionTimes(
            figures["decided_recently"], figures["decided_recently_median"]
        ),
        proposals_all=DecisionTimes(figures["decided"], figures["decided_median"]),
        changes_recent=DecisionTimes(changes["recent"], changes["recent_median"]),
        changes_all=DecisionTimes(changes["all"], changes["all_median"]),
        refused_recent=refused["recent"],
        refused_all=refused["all"],
        settings={
            "review_overdue_days": settings.CSPM_REVIEW_OVERDUE_DAYS,
            "periodic_review_days": settings.CSPM_PERIODIC_REVIEW_DAYS,
            "window_days": WINDOW_DAYS,
        },
    )
