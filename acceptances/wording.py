"""The history of a decision in plain words, for people: the detail page, the audit log.

Events store a JSON diff of raw values (``{"reason": [null, "risk_owned"]}``, ISO timestamps,
usernames); people read "Reason set to Risk owned", "End changed from 28 Feb 2027 to
30 Mar 2027" and the owner's name. Pure functions over the stored diff: nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from acceptances.models import AcceptanceEvent, Reason, RiskAcceptance, Treatment
from findings.models import Severity

EMPTY = "—"

FIELD_LABELS = {
    "justification": "Justification",
    "reason": "Reason",
    "reason_detail": "Explanation",
    "owner": "Owner",
    "expires_at": "End",
    "treatment": "Treatment",
    "state": "State",
    "stale_since": "No longer needed since",
    "compensating_controls": "Compensating controls",
    "compensating_measures": "Compensating measures",
    "suspended_at": "Suspended since",
    "failing": "Failing compensating controls",
    "review_flagged_at": "Needs re-review since",
    "review_reason": "What changed",
    "owner_signed_off_at": "Owner's sign-off",
    "covered": "Covered findings",
    "likelihood": "Likelihood",
    "impact": "Impact",
    "residual_rating": "Residual rating",
    "renewals": "Renewals",
}

CHOICE_LABELS: dict[str, dict[str, str]] = {
    "reason": dict(Reason.choices),
    "treatment": dict(Treatment.choices),
    "state": dict(RiskAcceptance.State.choices),
    "residual_rating": dict(Severity.choices),
}

DATE_FIELDS = (
    "expires_at",
    "stale_since",
    "suspended_at",
    "review_flagged_at",
    "owner_signed_off_at",
)


def when(value: dt.datetime | None) -> str:
    """A moment as people read it: "30 Nov 2026, 19:12 UTC" in the site's time zone."""
    if value is None:
        return EMPTY
    local = timezone.localtime(value)
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def day(value: dt.datetime) -> str:
    local = timezone.localtime(value)
    return f"{local.day} {local:%b %Y}"


def person(user: Any) -> str:
    """A user as the owner list shows them: "Full Name (username)", or the username."""
    if user is None:
        return "the system"
    full = user.get_full_name()
    return f"{full} ({user.get_username()})" if full else user.get_username()


def _value(field: str, raw: Any, people: Mapping[str, str], *, new: bool = False) -> str:
    if raw is None or raw == "" or (field == "review_reason" and raw == {}):
        # An empty end is "no end", except before a new acceptance existed.
        return "no end" if field == "expires_at" and not new else EMPTY
    if field in CHOICE_LABELS:
        return CHOICE_LABELS[field].get(raw, str(raw))
    if field in DATE_FIELDS:
        parsed = parse_datetime(raw) if isinstance(raw, str) else None
        return day(parsed) if parsed else str(raw)
    if field == "owner":
        return people.get(raw, str(raw))
    if field == "review_reason" and isinstance(raw, dict):
        from acceptances.services.compensation import describe_review_reason

        return describe_review_reason(raw) if raw else EMPTY
    if isinstance(raw, list):
        return "; ".join(map(str, raw)) if raw else "none"
    return str(raw)


def people_named(diffs: Iterable[Mapping[str, list[Any]]]) -> dict[str, str]:
    """Display names of the owners named in the diffs, by username (one query for them all)."""
    usernames = {
        value
        for diff in diffs
        for value in (diff or {}).get("owner", [])
        if isinstance(value, str) and value
    }
    if not usernames:
        return {}
    User = get_user_model()
    users = User.objects.filter(**{f"{User.USERNAME_FIELD}__in": usernames})
    return {user.get_username(): person(user) for user in users}


def describe_changes(
    changes: Mapping[str, list[Any]] | None,
    people: Mapping[str, str] | None = None,
    *,
    created: bool = False,
) -> list[str]:
    """One sentence per changed field: "Reason changed from — to Risk owned".

    ``created``: the diff of a new acceptance (every term from nothing); terms left empty
    (no explanation for a listed reason) are left out."""
    people = people or {}
    lines = []
    for field, pair in (changes or {}).items():
        before, after = [*pair, None, None][:2]
        if created and before in (None, "") and after in (None, "") and field != "expires_at":
            continue
        label = FIELD_LABELS.get(field, field.replace("_", " ").capitalize())
        lines.append(
            f"{label} changed from {_value(field, before, people, new=created)} "
            f"to {_value(field, after, people)}"
        )
    return lines


def describe_events(events: Iterable[AcceptanceEvent]) -> list[AcceptanceEvent]:
    """The events with ``.lines`` (plain words of their diff) and ``.when`` set, for templates."""
    events = list(events)
    people = people_named(event.changes for event in events)
    for event in events:
        created = event.action in (
            AcceptanceEvent.Action.CREATED,
            AcceptanceEvent.Action.PROPOSED,
        )
        event.lines = describe_changes(event.changes, people, created=created)
        event.when = when(event.at)
        event.by = person(event.actor)
    return events
