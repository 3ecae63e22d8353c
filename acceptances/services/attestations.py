"""Attestations: an approver's dated decision on a manual control, and its reminder."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from acceptances.models import Attestation
from acceptances.services.history import _require
from findings.models import Control

# Reminded once, this many days before it ends (the acceptances' widest default threshold).
ATTESTATION_REMINDER_DAYS = 30


def attest_control(
    *,
    actor: AbstractBaseUser,
    control: Control,
    evidence: str,
    expires_at: dt.datetime,
    now: dt.datetime | None = None,
) -> Attestation:
    """Record that ``actor`` checked manual ``control`` and found ``evidence``, until
    ``expires_at``. Approvers only: it decides a control as an acceptance's approval does."""
    _require(actor, "acceptances.approve_riskacceptance")
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if control.automated:
        errors["control"] = "Only a manual control is attested; a scan decides this one."
    if not evidence.strip():
        errors["evidence"] = "Say what was checked and what was found."
    if expires_at <= now:
        errors["expires_at"] = "The end date must be in the future."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        return Attestation.objects.create(
            control=control,
            evidence=evidence.strip(),
            attested_by=actor,
            attested_at=now,
            expires_at=expires_at,
        )


def claim_due_attestation_reminders(now: dt.datetime) -> list[Attestation]:
    """Claim the attestations ending within the reminder window and not reminded yet.

    The claim is a conditional ``UPDATE ... WHERE reminded_at IS NULL``: of two runs at once,
    only one updates a row, so each attestation is reminded once (a second run finds none).
    """
    horizon = now + dt.timedelta(days=ATTESTATION_REMINDER_DAYS)
    due = list(
        Attestation.objects.filter(
            reminded_at__isnull=True, expires_at__gt=now, expires_at__lte=horizon
        ).values_list("pk", flat=True)
    )
    claimed = []
    for pk in due:
        if Attestation.objects.filter(pk=pk, reminded_at__isnull=True).update(reminded_at=now):
            claimed.append(pk)
    return list(Attestation.objects.select_related("control", "attested_by").filter(pk__in=claimed))
