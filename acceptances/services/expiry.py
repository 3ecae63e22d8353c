"""Expiry: when an acceptance ends, and ending those that are due."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from acceptances.models import (
    AcceptanceEvent,
    RiskAcceptance,
)
from acceptances.services.coverage import _uncover
from acceptances.services.history import _record

EXPIRY_PRESETS = {"7": 7, "30": 30, "60": 60, "90": 90}


def expiry_from_preset(
    preset: str,
    now: dt.datetime,
    on_date: dt.date | None = None,
    *,
    base: dt.datetime | None = None,
) -> dt.datetime | None:
    """Turn a UI/API expiry choice into a moment: "7"/"30"/"60"/"90" days, "date", or "never".

    Days count from ``base`` (an extension: see ``extension_base``), else from ``now``. A
    chosen date means "until the end of that day" in the server's time zone.
    """
    if preset in EXPIRY_PRESETS:
        return (base or now) + dt.timedelta(days=EXPIRY_PRESETS[preset])
    if preset == "never":
        return None
    if preset == "date":
        if on_date is None:
            raise ValidationError({"expires_on": "Choose the date the acceptance ends."})
        end_of_day = dt.datetime.combine(on_date, dt.time(23, 59, 59))
        return timezone.make_aware(end_of_day, timezone.get_default_timezone())
    raise ValidationError(
        {"expiry": f"Unknown expiry '{preset}'; use 7, 30, 60, 90, date or never."}
    )


def _validate_expiry(expires_at: dt.datetime | None, now: dt.datetime) -> None:
    if expires_at is not None and expires_at <= now:
        raise ValidationError({"expires_at": "The expiry must be in the future."})


def extension_base(acceptance: RiskAcceptance, now: dt.datetime) -> dt.datetime:
    """Where "N more days" count from when extending: the current end of a live acceptance
    whose end is still ahead; now when renewing an expired one (or a proposal whose end
    passed)."""
    if acceptance.is_live and acceptance.expires_at is not None and acceptance.expires_at > now:
        return acceptance.expires_at
    return now


SHORTEN_HINT = "To end it earlier, use “End earlier”."


def validate_extension(
    acceptance: RiskAcceptance,
    expires_at: dt.datetime | None,
    now: dt.datetime,
    field: str = "expires_at",
) -> None:
    """An extension never brings a live acceptance's end earlier: ending earlier is its own,
    explicit action (``validate_shortening``). ``field``: the input to name in the error."""
    _validate_expiry(expires_at, now)
    if not acceptance.is_live or expires_at is None:
        return  # renewing an expired one may pick any future end; no end is the latest
    current = acceptance.expires_at
    if current is None:
        raise ValidationError(
            {field: f"This acceptance has no end; a date would end it earlier. {SHORTEN_HINT}"}
        )
    if expires_at < current:
        raise ValidationError(
            {
                field: f"That would end it on {timezone.localtime(expires_at):%Y-%m-%d}, "
                f"before its current end ({timezone.localtime(current):%Y-%m-%d}); "
                f"extending never shortens. {SHORTEN_HINT}"
            }
        )


def validate_shortening(
    acceptance: RiskAcceptance,
    expires_at: dt.datetime,
    now: dt.datetime,
    field: str = "expires_at",
) -> None:
    """Ending a live acceptance earlier: a new end in the future, before its current one."""
    if not acceptance.is_live:
        raise ValidationError({"state": f"This acceptance is {acceptance.state}; it has ended."})
    _validate_expiry(expires_at, now)
    current = acceptance.expires_at
    if current is not None and expires_at >= current:
        raise ValidationError(
            {
                field: f"It ends on {timezone.localtime(current):%Y-%m-%d} already; choose an "
                "earlier date (or extend it instead)."
            }
        )


def expire_due_acceptances(now: dt.datetime | None = None) -> list[int]:
    """Expire every acceptance in force, awaiting its owner or suspended whose expiry has
    passed; reopen its findings at once.

    Each acceptance is claimed with a conditional UPDATE (state unchanged since it was read), so
    two workers or two beat ticks never expire, record or notify the same one twice.
    """
    now = now or timezone.now()
    due = list(
        RiskAcceptance.objects.filter(
            state__in=RiskAcceptance.EXPIRING_STATES, expires_at__lte=now
        ).values_list("pk", "state")
    )
    expired: list[int] = []
    for pk, state in due:
        with transaction.atomic():
            claimed = RiskAcceptance.objects.filter(pk=pk, state=state, expires_at__lte=now).update(
                state=RiskAcceptance.State.EXPIRED, handled_at=now, updated_at=now
            )
            if not claimed:
                continue
            acceptance = RiskAcceptance.objects.get(pk=pk)
            _record(
                acceptance,
                AcceptanceEvent.Action.EXPIRED,
                None,
                now,
                {"state": [state, "expired"]},
            )
            _uncover(acceptance, now)
            expired.append(pk)
    return expired
