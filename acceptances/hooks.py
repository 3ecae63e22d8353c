"""How the treatment side answers the scan side's hooks (``findings.hooks``).

Fulfilled once, when the app loads (``AcceptancesConfig.ready``): the scan side calls these
without importing anything of ``acceptances``.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet

from acceptances import queries, tasks
from acceptances.models import (
    AcceptanceEvent,
    Attestation,
    FixPlan,
    RiskAcceptance,
    Zone,
    ZoneMembership,
)
from acceptances.services import (
    close_fixed_plans,
    compensation,
    record_coverage,
    refresh_coverage,
    refresh_memberships_for_unit,
    refresh_staleness,
)
from findings import hooks
from findings.models import Finding


def on_unit_ingested(event: hooks.UnitIngested) -> None:
    """Zones follow the resources; coverage follows zones and new or reopened failures."""
    account_id, unit = event.account_id, event.unit
    changed = list(event.changed_resource_ids)
    if event.zones_may_change:
        refresh_memberships_for_unit(account_id, unit)
    if RiskAcceptance.objects.filter(state=RiskAcceptance.State.ACTIVE).exists():
        unit_findings = Finding.objects.filter(
            resource__account_id=account_id, resource__scan_unit=unit
        )
        # Open failures this scan wrote (new or reopened) that nothing covers yet; findings
        # the scan only confirmed keep their coverage, so a re-scan of a million costs nothing.
        refresh_coverage(
            unit_findings.filter(
                last_scan_id=event.scan_id,
                status=Finding.Status.FAIL,
                resolved_at__isnull=True,
                acceptance__isnull=True,
            )
        )
        if changed:
            # A tag change may take a resource out of an accepted zone.
            refresh_coverage(unit_findings.filter(resource_id__in=changed))


def on_scan_closed(scan_id: int, now: dt.datetime) -> None:
    """What the scan saw may have made acceptances unnecessary (or necessary again); those it
    flags are recorded among the scan's changes."""
    refresh_staleness(now, scan_id=scan_id)
    # The scan's ingest linked and unlinked findings directly (fixed, gone, newly failing):
    # every acceptance whose covered count moved gets its COVERAGE event, for the register.
    record_coverage(now=now)
    # Fix plans whose fix the scan saw close themselves.
    close_fixed_plans(scan_id, now)
    # Compensating controls the scan saw fail suspend their acceptances (or, passing again,
    # resume them); accepted configurations it saw change flag theirs for re-review.
    compensation.check_compensation(now, scan_id=scan_id)
    compensation.check_reviews(now)


def on_drift_recorded(scan_id: int) -> None:
    # After the commit: the worker must see the closed scan and its change rows. Robust: with
    # the broker down the alerts are logged as not queued, and whatever else was to happen at
    # that commit (queueing the next scan, the scan command's summary) still happens.
    transaction.on_commit(lambda: tasks.send_drift_alerts.delay(scan_id), robust=True)


def zones() -> QuerySet[Zone]:
    return Zone.objects.all()


def zone_member_ids(zone_id: int) -> QuerySet[ZoneMembership]:
    return ZoneMembership.objects.filter(zone_id=zone_id).values("resource_id")


def is_whole_zone(zone_id: int) -> bool:
    return Zone.objects.filter(pk=zone_id, is_builtin=True).exists()


def posture_marks_sql() -> list[str]:
    """Every change of an acceptance writes an event; a zone's rules move its ``updated_at``;
    a zone created or deleted moves the count. Each is read from an index or a small table."""
    event = AcceptanceEvent._meta.db_table
    zone = Zone._meta.db_table
    return [
        f"(SELECT MAX(id) FROM {event})",  # noqa: S608 - table names from model metadata only
        f"(SELECT MAX(updated_at) FROM {zone})",  # noqa: S608
        f"(SELECT COUNT(*) FROM {zone})",  # noqa: S608
    ]


def live_acceptances_for(control_id: int) -> QuerySet[RiskAcceptance]:
    return queries.get_live_acceptances_for(control_id)


def open_fix_plans(
    *, control_id: int | None = None, resource_id: int | None = None, overdue: bool = False
) -> list[FixPlan]:
    from django.utils import timezone

    return queries.get_open_fix_plans(
        control_id=control_id,
        resource_id=resource_id,
        overdue_on=timezone.localdate() if overdue else None,
    )


def attention(now: dt.datetime, user=None) -> queries.Attention:
    return queries.get_attention(now, user=user)


def attestations_for(control_id: int) -> list[Attestation]:
    return list(Attestation.objects.select_related("attested_by").filter(control_id=control_id)[:5])


def fulfil() -> None:
    hooks.fulfil(
        on_unit_ingested=on_unit_ingested,
        on_scan_closed=on_scan_closed,
        on_drift_recorded=on_drift_recorded,
        zones=zones,
        zone_member_ids=zone_member_ids,
        is_whole_zone=is_whole_zone,
        posture_marks_sql=posture_marks_sql,
        live_acceptances_for=live_acceptances_for,
        open_fix_plans=open_fix_plans,
        attention=attention,
        attestations_for=attestations_for,
    )
