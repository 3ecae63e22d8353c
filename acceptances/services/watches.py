"""Watching zones: who hears of drift in a zone."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from acceptances.models import (
    Zone,
    ZoneWatch,
)
from acceptances.services.history import _require
from findings.models import Benchmark, Severity
from findings.queries import disabled_message


def _may_manage_watch(actor: AbstractBaseUser | None, user: AbstractBaseUser) -> None:
    """Anyone who may read zones watches for themselves; only admins for someone else."""
    if actor is not None and actor.pk == user.pk:
        _require(actor, "acceptances.view_zone")
    else:
        _require(actor, "acceptances.add_zonewatch")


@transaction.atomic
def watch_zone(
    user: AbstractBaseUser,
    zone: Zone,
    *,
    actor: AbstractBaseUser,
    min_severity: str = "",
    benchmarks: Iterable[Benchmark] | None = None,
) -> ZoneWatch:
    """Subscribe ``user`` to drift alerts about ``zone`` (or change the minimum severity, and
    the benchmarks whose controls the alerts list; ``None`` keeps them, empty: the default).

    Idempotent: watching a zone again only updates the severity and benchmarks.
    """
    _may_manage_watch(actor, user)
    chosen = list(benchmarks) if benchmarks is not None else None
    disabled = [b for b in chosen or () if not b.enabled]
    if disabled:
        raise ValidationError({"benchmarks": [disabled_message(b) for b in disabled]})
    if min_severity not in ("", *Severity.values):
        raise ValidationError(
            {
                "min_severity": f"Unknown severity '{min_severity}'; use one of "
                f"{', '.join(Severity.values)}, or none for every severity."
            }
        )
    # Alerts list findings: refuse to mail them to someone who may not read them.
    if not user.is_active or not user.has_perm("findings.view_finding"):
        raise ValidationError({"user": f"{user} may not read findings, so cannot watch a zone."})
    if not user.email:
        raise ValidationError({"user": f"{user} has no email address to send alerts to."})
    watch, created = ZoneWatch.objects.get_or_create(
        user=user, zone=zone, defaults={"min_severity": min_severity}
    )
    if not created and watch.min_severity != min_severity:
        watch.min_severity = min_severity
        watch.save(update_fields=["min_severity"])
    if chosen is not None and {b.pk for b in chosen} != set(
        watch.benchmarks.values_list("pk", flat=True)
    ):
        watch.benchmarks.set(chosen)
    return watch


@transaction.atomic
def unwatch_zone(user: AbstractBaseUser, zone: Zone, *, actor: AbstractBaseUser) -> bool:
    """Stop ``user``'s drift alerts about ``zone``; False if they were not watching it."""
    _may_manage_watch(actor, user)
    deleted, _ = ZoneWatch.objects.filter(user=user, zone=zone).delete()
    return bool(deleted)
