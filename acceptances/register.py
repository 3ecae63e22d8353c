"""The risk register as of any date: every acceptance as it stood then, rebuilt from its history.

Nothing here reads an acceptance's current terms: ``AcceptanceEvent`` is append-only and every
change of a term writes one, so folding an acceptance's events up to a moment gives its terms,
state, approval, sign-off and coverage at that moment. What never changes on an acceptance
(its control and scope) is read from the acceptance itself; a zone's name is today's.

How the fold reads the history (one pass over the events, ordered by acceptance, time, id):

- The CREATED or PROPOSED event carries the initial terms (``{"field": [None, value]}``); every
  later event's ``changes`` set ``field`` to its ``after`` value. A CHANGE_PROPOSED event's
  changes are *not* in force (four-eyes: they await approval): it only marks a pending change;
  CHANGE_APPROVED applies them.
- State: active on CREATED, proposed on PROPOSED, then every ``"state"`` change (approval,
  sign-off, suspension, expiry, revocation, renewal...). An acceptance created after the date
  is absent.
- Expiry: the expiry job ticks every few minutes, so an acceptance whose end had passed by the
  date may have its EXPIRED event only later. The register reads it as expired from its
  expiry time: that is when its terms ended and when the product promises its findings fail
  again; ``expired_at`` is then the expiry time and ``expired_by_term`` says the job had not
  recorded it yet.
- Approval: the APPROVED event's actor and time. Sign-off: ``owner_signed_off_at`` from the
  events' changes (the creation counts when the owner created it), and a SIGNED_OFF event's
  actor and time.
- Coverage: COVERAGE events (``{"covered": [old, new]}``, written whenever the count of covered
  findings moves, ``acceptances.services.coverage.record_coverage``). Only an active acceptance
  covers findings, so any other state reads 0. An active acceptance with no COVERAGE event yet
  (made before coverage was recorded) reads "not recorded".
- Events written before a field existed lack it: the field reads "not recorded" (``MISSING``)
  until an event sets it, never a guess from today's row.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

import orjson
from django.core.exceptions import ValidationError
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from acceptances.models import AcceptanceEvent, Reason, RiskAcceptance, Treatment
from findings.models import SEVERITY_RANK, Severity

Action = AcceptanceEvent.Action
State = RiskAcceptance.State


class _Missing:
    """A value the history does not hold (events written before the field existed)."""

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()
NOT_RECORDED = "not recorded"

# The terms an acceptance's history carries, as the fold reads them (history values: ISO
# timestamps, usernames, plain values).
TERMS = (
    "justification",
    "reason",
    "reason_detail",
    "treatment",
    "owner",
    "expires_at",
    "likelihood",
    "impact",
    "residual_rating",
    "compensating_measures",
    "owner_signed_off_at",
)
DATE_TERMS = ("expires_at", "owner_signed_off_at")

STATE_LABELS = dict(State.choices)
RATING_LABELS = {**dict(Severity.choices), "": "Not rated"}
RESOURCE_SCOPE = "resource"
RESOURCES_LABEL = "Single resources"


@dataclass
class Entry:
    """One acceptance as it stood at the register's date."""

    pk: int
    control_ref: str = ""
    control_title: str = ""
    severity: str = ""
    scope: str = ""  # "zone prod" / "resource story-images"
    zone_id: int | None = None
    zone: str = ""  # the zone's name; empty for a resource-scoped acceptance
    resource: str = ""
    state: Any = MISSING
    created_at: dt.datetime | None = None
    created_by: str = ""
    terms: dict[str, Any] = field(default_factory=lambda: dict.fromkeys(TERMS, MISSING))
    approved_by: str = ""
    approved_at: dt.datetime | None = None
    signed_off_by: str = ""
    covered: Any = MISSING
    revoked_at: dt.datetime | None = None
    revoked_by: str = ""
    expired_at: dt.datetime | None = None
    expired_by_term: bool = False
    change_pending: bool = False
    last_event_at: dt.datetime | None = None

    @property
    def rating(self) -> str:
        value = self.terms["residual_rating"]
        return value if isinstance(value, str) else ""

    @property
    def zone_key(self) -> str:
        return str(self.zone_id) if self.zone_id is not None else RESOURCE_SCOPE

    @property
    def zone_label(self) -> str:
        return self.zone if self.zone_id is not None else RESOURCES_LABEL

    @property
    def state_label(self) -> str:
        if self.state is MISSING:
            return NOT_RECORDED
        label = STATE_LABELS.get(self.state, str(self.state))
        return f"{label} (by its end date)" if self.expired_by_term else label


@dataclass
class Register:
    at: dt.datetime
    generated_at: dt.datetime
    entries: list[Entry]

    def counts(self) -> dict[str, list[tuple[str, str, int]]]:
        """Counts by state, residual rating and zone: ``[(key, label, count), ...]`` each."""
        by_state = Counter(e.state if e.state is not MISSING else "" for e in self.entries)
        by_rating = Counter(e.rating for e in self.entries)
        by_zone = Counter((e.zone_key, e.zone_label) for e in self.entries)
        states = [(key, STATE_LABELS[key], by_state[key]) for key in State.values if by_state[key]]
        if by_state[""]:
            states.append(("", NOT_RECORDED, by_state[""]))
        ratings = [
            (key, RATING_LABELS[key], by_rating[key])
            for key in sorted(by_rating, key=lambda r: -SEVERITY_RANK.get(r, 0))
            if key in RATING_LABELS
        ]
        zones = [
            (key, label, n)
            for (key, label), n in sorted(
                by_zone.items(), key=lambda item: (item[0][0] == RESOURCE_SCOPE, item[0][1])
            )
        ]
        return {"state": states, "rating": ratings, "zone": zones}

    def filtered(self, *, state: str = "", zone: str = "", rating: str = "") -> list[Entry]:
        """The entries in a state, a zone (its id, or ``"resource"``) and a rating (``"none"``
        for not rated); empty filters match all."""
        return [
            e
            for e in self.entries
            if (not state or e.state == state)
            and (not zone or e.zone_key == zone)
            and (not rating or e.rating == ("" if rating == "none" else rating))
        ]


# --- The date ------------------------------------------------------------------------------


def parse_as_of(value: str | None, now: dt.datetime | None = None) -> dt.datetime:
    """The register's date from text: ISO 8601 (``2026-06-30T00:00``, with or without seconds
    or an offset) or a day (``2026-06-30``: its end, 23:59:59). Without an offset, the site's
    time zone. Empty: now. Raises ValidationError on ``at`` saying what is wrong."""
    now = now or timezone.now()
    text = (value or "").strip()
    if not text:
        return now
    try:
        # A day alone first: parse_datetime would read it as its midnight.
        day = parse_date(text) if len(text) == 10 else None
        moment = None if day else parse_datetime(text.replace(" ", "T", 1))
    except ValueError:
        moment = day = None
    if day is not None:
        moment = dt.datetime.combine(day, dt.time(23, 59, 59))
    if moment is None:
        raise ValidationError(
            {
                "at": f"“{text[:40]}” is not a date and time; write it as 2026-06-30T00:00 "
                "(or a day, 2026-06-30)."
            }
        )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    if moment > now:
        raise ValidationError(
            {
                "at": f"{timezone.localtime(moment):%Y-%m-%d %H:%M} is in the future: the "
                "register shows what was accepted, up to now."
            }
        )
    return moment


# --- The fold ------------------------------------------------------------------------------


def _moment(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and value:
        return parse_datetime(value)
    return None


def _fold(entry: Entry, events: Iterable[tuple]) -> None:
    """Apply an acceptance's events, oldest first (see the module's docstring)."""
    terms = entry.terms
    covered: Any = MISSING
    for _pk, action, at, changes, actor in events:
        entry.last_event_at = at
        if action == Action.CHANGE_PROPOSED:
            # Awaiting a second approver: the approved terms stay in force.
            entry.change_pending = True
            continue
        if action in (Action.CREATED, Action.PROPOSED) and entry.created_at is None:
            entry.created_at, entry.created_by = at, actor or ""
            entry.state = State.ACTIVE if action == Action.CREATED else State.PROPOSED
        elif action in (Action.CHANGE_APPROVED, Action.CHANGE_REJECTED, Action.CHANGE_WITHDRAWN):
            entry.change_pending = False
        elif action == Action.APPROVED:
            entry.approved_by, entry.approved_at = actor or "", at
        elif action == Action.SIGNED_OFF:
            entry.signed_off_by = actor or ""
            if "owner_signed_off_at" not in (changes or {}):
                terms["owner_signed_off_at"] = at
        elif action == Action.REVOKED:
            entry.revoked_at, entry.revoked_by = at, actor or ""
            entry.change_pending = False
        elif action == Action.EXPIRED:
            entry.expired_at = at
        for name, pair in (changes or {}).items():
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                continue
            _before, after = pair
            if name == "covered":
                covered = after
            elif name == "state":
                entry.state = after
                if after != State.EXPIRED:
                    entry.expired_at = None
            elif name in terms:
                terms[name] = after
    for name in DATE_TERMS:
        if terms[name] is not MISSING:
            terms[name] = _moment(terms[name])
    entry.covered = covered


def _end_by_term(entry: Entry, at: dt.datetime) -> None:
    """An acceptance whose end had passed by ``at`` reads expired from its end, even when the
    expiry job recorded it later (see the module's docstring)."""
    expires_at = entry.terms["expires_at"]
    if (
        entry.state in RiskAcceptance.EXPIRING_STATES
        and isinstance(expires_at, dt.datetime)
        and expires_at <= at
    ):
        entry.state = State.EXPIRED
        entry.expired_at = expires_at
        entry.expired_by_term = True


def _scopes() -> dict[int, tuple]:
    """What never changes on an acceptance: control and scope, for all of them in one query."""
    rows = RiskAcceptance.objects.order_by().values_list(
        "pk",
        "control__ref",
        "control__title",
        "control__severity",
        "control__position",
        "zone_id",
        "zone__name",
        "resource__name",
        "resource__arn",
    )
    return {row[0]: row[1:] for row in rows.iterator(chunk_size=5000)}


def iter_events(at: dt.datetime) -> Iterator[tuple]:
    """Every event up to ``at``, ordered by (acceptance, time, id), as plain tuples."""
    rows = (
        AcceptanceEvent.objects.filter(at__lte=at)
        .order_by("acceptance_id", "at", "pk")
        # The diff as text, parsed with orjson: the JSON field's own decoding is most of the
        # time a rebuild spends in Python.
        .annotate(diff=Cast("changes", output_field=TextField()))
        .values_list("acceptance_id", "action", "at", "diff", "actor__username")
        .iterator(chunk_size=5000)
    )
    for pk, action, moment, diff, actor in rows:
        yield pk, action, moment, orjson.loads(diff) if diff else {}, actor


def rebuild(at: dt.datetime, *, now: dt.datetime | None = None) -> Register:
    """The register as of ``at``: every acceptance that existed then, as it stood.

    One query for the events, one for the acceptances' controls and scopes; no query per row.
    """
    scopes = _scopes()
    entries: list[tuple[tuple, Entry]] = []
    for pk, events in groupby(iter_events(at), key=itemgetter(0)):
        entry = Entry(pk=pk)
        _fold(entry, events)
        if (
            entry.created_at is None
            and entry.state is MISSING
            and all(value is MISSING for value in entry.terms.values())
        ):
            continue  # only bookkeeping (coverage, staleness) is known of it by then
        _end_by_term(entry, at)
        if entry.state != State.ACTIVE and entry.state is not MISSING:
            entry.covered = 0  # only an active acceptance covers findings
        scope = scopes.get(pk)
        if scope is not None:
            ref, title, severity, position, zone_id, zone, name, arn = scope
            entry.control_ref, entry.control_title, entry.severity = ref, title, severity
            entry.zone_id, entry.zone = zone_id, zone or ""
            entry.resource = "" if zone_id is not None else (name or arn or "")
            entry.scope = f"zone {zone}" if zone_id is not None else f"resource {entry.resource}"
        else:
            position = 0
        entries.append(((position, entry.control_ref, entry.scope, pk), entry))
    entries.sort(key=itemgetter(0))
    return Register(
        at=at, generated_at=now or timezone.now(), entries=[entry for _, entry in entries]
    )


# --- Rows for people and files ---------------------------------------------------------------

REASON_LABELS = dict(Reason.choices)
TREATMENT_LABELS = dict(Treatment.choices)


def show(value: Any, *, empty: str = "") -> str:
    """A register value as text: "not recorded" for what the history lacks, dates as ISO."""
    if value is MISSING:
        return NOT_RECORDED
    if value is None or value == "":
        return empty
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z")
    return str(value)


EXPORT_FIELDS = [
    "acceptance",
    "control",
    "control_title",
    "severity",
    "scope",
    "zone",
    "resource",
    "state",
    "expired_by_term",
    "residual_rating",
    "likelihood",
    "impact",
    "owner",
    "owner_signed_off_at",
    "signed_off_by",
    "created_at",
    "created_by",
    "approved_by",
    "approved_at",
    "expires_at",
    "covered",
    "treatment",
    "reason",
    "reason_detail",
    "justification",
    "compensating_measures",
    "change_pending",
    "revoked_at",
    "revoked_by",
    "expired_at",
    "not_recorded",
]


def _json_value(value: Any) -> Any:
    if value is MISSING:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def export_row(entry: Entry) -> dict[str, Any]:
    """One acceptance as the JSON export writes it: exact values (ISO timestamps, usernames,
    raw choices); what the history lacks is null and named in ``not_recorded``."""
    terms = entry.terms
    row = {
        "acceptance": entry.pk,
        "control": entry.control_ref,
        "control_title": entry.control_title,
        "severity": entry.severity,
        "scope": entry.scope,
        "zone": entry.zone or None,
        "resource": entry.resource or None,
        "state": entry.state,
        "expired_by_term": entry.expired_by_term,
        "residual_rating": terms["residual_rating"],
        "likelihood": terms["likelihood"],
        "impact": terms["impact"],
        "owner": terms["owner"],
        "owner_signed_off_at": terms["owner_signed_off_at"],
        "signed_off_by": entry.signed_off_by or None,
        "created_at": entry.created_at,
        "created_by": entry.created_by or None,
        "approved_by": entry.approved_by or None,
        "approved_at": entry.approved_at,
        "expires_at": terms["expires_at"],
        "covered": entry.covered,
        "treatment": terms["treatment"],
        "reason": terms["reason"],
        "reason_detail": terms["reason_detail"],
        "justification": terms["justification"],
        "compensating_measures": terms["compensating_measures"],
        "change_pending": entry.change_pending,
        "revoked_at": entry.revoked_at,
        "revoked_by": entry.revoked_by or None,
        "expired_at": entry.expired_at,
    }
    row = {key: _json_value(value) for key, value in row.items()}
    row["not_recorded"] = not_recorded(entry)
    return row


def not_recorded(entry: Entry) -> list[str]:
    """The fields the history did not hold at the register's date."""
    missing = [name for name, value in entry.terms.items() if value is MISSING]
    if entry.state is MISSING:
        missing.append("state")
    if entry.covered is MISSING:
        missing.append("covered")
    return missing


def text_row(entry: Entry) -> dict[str, Any]:
    """One acceptance in words, as the page, the CSV and the PDF show it."""
    terms = entry.terms
    expires = terms["expires_at"]
    return {
        "acceptance": entry.pk,
        "control": entry.control_ref,
        "control_title": entry.control_title,
        "severity": RATING_LABELS.get(entry.severity, entry.severity),
        "scope": entry.scope,
        "zone": entry.zone,
        "resource": entry.resource,
        "state": entry.state_label,
        "expired_by_term": "yes" if entry.expired_by_term else "",
        "residual_rating": NOT_RECORDED
        if terms["residual_rating"] is MISSING
        else RATING_LABELS.get(terms["residual_rating"] or "", terms["residual_rating"]),
        "likelihood": show(terms["likelihood"]),
        "impact": show(terms["impact"]),
        "owner": show(terms["owner"]),
        "owner_signed_off_at": show(terms["owner_signed_off_at"], empty="not signed off"),
        "signed_off_by": entry.signed_off_by,
        "created_at": show(entry.created_at),
        "created_by": entry.created_by,
        "approved_by": entry.approved_by,
        "approved_at": show(entry.approved_at),
        "expires_at": "no end" if expires is None else show(expires),
        "covered": show(entry.covered),
        "treatment": show(TREATMENT_LABELS.get(terms["treatment"], terms["treatment"])),
        "reason": show(REASON_LABELS.get(terms["reason"], terms["reason"])),
        "reason_detail": show(terms["reason_detail"]),
        "justification": show(terms["justification"]),
        "compensating_measures": show(terms["compensating_measures"]),
        "change_pending": "yes" if entry.change_pending else "",
        "revoked_at": show(entry.revoked_at),
        "revoked_by": entry.revoked_by,
        "expired_at": show(entry.expired_at),
        "not_recorded": " ".join(not_recorded(entry)),
    }
