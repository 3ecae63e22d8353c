"""Owner sign-off: asking the named owner to accept the residual risk, and reminding them.

The sign-off itself is ``acceptances.services.acceptances.sign_off_acceptance``; this module
holds what the state machine and the reminder job share: when an acceptance started awaiting
its owner, the request queued when it does, and the claim of due reminders.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from celery import current_app as celery_app
from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from acceptances.models import AcceptanceEvent, RiskAcceptance

# Owners are first reminded once an acceptance has awaited them this long.
FIRST_REMINDER_AFTER = dt.timedelta(days=1)


def awaiting_owner_since() -> Coalesce:
    """When the outer acceptance last started awaiting its owner (an expression to annotate):
    the last event that moved its state to awaiting_owner, from the append-only history, so no
    column has to be kept in step; its creation for a row with no such event."""
    entered = (
        AcceptanceEvent.objects.filter(
            acceptance=OuterRef("pk"), changes__state__1=RiskAcceptance.State.AWAITING_OWNER
        )
        .order_by("-at", "-pk")
        .values("at")[:1]
    )
    return Coalesce(Subquery(entered), "created_at", output_field=DateTimeField())


def _send_request(acceptance_id: int) -> None:
    # By name: the tasks import the notifications, which import the services.
    celery_app.tasks["acceptances.send_signoff_request"].delay(acceptance_id)


def request_signoff(acceptance: RiskAcceptance) -> None:
    """Ask the owner to sign off, by email, once the transaction commits (a rolled-back change
    asks nobody). Robust: with the broker down the change stands, the failure is logged, and
    the reminder job asks the owner a day later."""
    transaction.on_commit(partial(_send_request, acceptance.pk), robust=True)


def due_signoff_reminders(now: dt.datetime):
    """Acceptances whose owner is owed a reminder now: awaiting the owner for more than a day,
    and not reminded within the last ``CSPM_SIGNOFF_REMINDER_DAYS``."""
    again = dt.timedelta(days=settings.CSPM_SIGNOFF_REMINDER_DAYS)
    return (
        RiskAcceptance.objects.filter(state=RiskAcceptance.State.AWAITING_OWNER)
        .annotate(awaiting_since=awaiting_owner_since())
        .filter(awaiting_since__lte=now - FIRST_REMINDER_AFTER)
        .filter(Q(signoff_reminded_at__isnull=True) | Q(signoff_reminded_at__lte=now - again))
        .select_related("control", "resource", "zone", "owner", "created_by")
        .order_by("pk")
    )


def claim_due_signoff_reminders(now: dt.datetime) -> list[RiskAcceptance]:
    """Claim the reminders due now; return the acceptances this run won.

    Each is claimed with a conditional UPDATE of ``signoff_reminded_at`` (still the value read,
    still awaiting its owner): of two workers or two beat ticks, exactly one changes the row,
    so each reminder goes out once. The returned acceptances keep the value they had before
    the claim in ``previous_reminded_at``, so an email that reached nobody can be released.
    """
    claimed: list[RiskAcceptance] = []
    for acceptance in due_signoff_reminders(now):
        won = RiskAcceptance.objects.filter(
            pk=acceptance.pk,
            state=RiskAcceptance.State.AWAITING_OWNER,
            signoff_reminded_at=acceptance.signoff_reminded_at,
        ).update(signoff_reminded_at=now)
        if won:
            acceptance.previous_reminded_at = acceptance.signoff_reminded_at
            acceptance.signoff_reminded_at = now
            claimed.append(acceptance)
    return claimed


def release_signoff_reminders(claimed: list[RiskAcceptance]) -> None:
    """Give back the claims of reminders that reached nobody: the next run tries again."""
    for acceptance in claimed:
        RiskAcceptance.objects.filter(
            pk=acceptance.pk, signoff_reminded_at=acceptance.signoff_reminded_at
        ).update(signoff_reminded_at=acceptance.previous_reminded_at)
