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
    preset: str, now: dt.datetime, on_date: dt.date | None = None
) -> dt.datetime | None:
    """Turn a UI/API expiry choice into a moment: "7"/"30"/"60"/"90" days, "date", or "never".

    A chosen date means "until the end of that day" in the server's time zone.
    """
    if preset in EXPIRY_PRESETS:
        return now + dt.timedelta(days=EXPIRY_PRESETS[preset])
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


def expire_due_acceptances(now: dt.datetime | None = None) -> list[int]:
    """Expire every active acceptance whose expiry has passed; reopen its findings at once.

    Each acceptance is claimed with a conditional UPDATE (state still active), so two workers
    or two beat ticks never expire, record or notify the same one twice.
    """
    now = now or timezone.now()
    due = list(
        RiskAcceptance.objects.filter(
            state=RiskAcceptance.State.ACTIVE, expires_at__lte=now
        ).values_list("pk", flat=True)
    )
    expired: list[int] = []
    for pk in due:
        with transaction.atomic():
            claimed = RiskAcceptance.objects.filter(
                pk=pk, state=RiskAcceptance.State.ACTIVE, expires_at__lte=now
            ).update(state=RiskAcceptance.State.EXPIRED, handled_at=now, updated_at=now)
            if not claimed:
                continue
            acceptance = RiskAcceptance.objects.get(pk=pk)
            _record(
                acceptance,
                AcceptanceEvent.Action.EXPIRED,
                None,
                now,
                {"state": ["active", "expired"]},
            )
            _uncover(acceptance)
            expired.append(pk)
    return expired
