"""Coverage: which open failing findings an active acceptance covers, kept materialized on the
finding; and acceptances that cover nothing any more (stale)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from acceptances.models import (
    AcceptanceEvent,
    RiskAcceptance,
    Zone,
    ZoneMembership,
)
from acceptances.services.history import _record
from findings.models import Check, Control, Finding, Resource, ScanChange
from findings.services.posture import queue_posture_recount


def _covering_acceptance() -> Subquery:
    """The active acceptance that covers the outer finding, if any.

    A resource-scoped acceptance wins over a zone-scoped one; then the oldest.
    """
    # Two levels down: OuterRef(OuterRef(...)) reaches the finding, not the acceptance.
    in_zone = ZoneMembership.objects.filter(resource_id=OuterRef(OuterRef("resource_id"))).values(
        "zone_id"
    )
    return Subquery(
        RiskAcceptance.objects.filter(
            state=RiskAcceptance.State.ACTIVE, control__checks=OuterRef("control_check_id")
        )
        .filter(
            Q(resource_id=OuterRef("resource_id"))
            | Q(zone_id__in=in_zone)
            | Q(zone__is_builtin=True)
        )
        .order_by(F("zone_id").asc(nulls_first=True), "pk")
        .values("pk")[:1]
    )


def record_coverage(
    acceptance_ids: Iterable[int] | None = None, now: dt.datetime | None = None
) -> int:
    """Write a COVERAGE event ({"covered": [old, new]}) for each acceptance whose covered-finding
    count moved since the count last recorded (``RiskAcceptance.recorded_coverage``); return how
    many were written. The register rebuilds coverage as of any date from these.

    ``acceptance_ids``: the acceptances a change may have touched; None: every acceptance that
    covers or covered something (after a scan, whose ingest links and unlinks findings
    directly). One grouped count, one read of the recorded counts, and a write only for those
    that changed. Each is claimed with a conditional UPDATE on the recorded count, so two
    writers (two scans closing together) never record the same change twice.
    """
    covered = Finding.objects.filter(acceptance__isnull=False)
    recorded = RiskAcceptance.objects.all()
    if acceptance_ids is not None:
        ids = set(acceptance_ids)
        if not ids:
            return 0
        covered = covered.filter(acceptance_id__in=ids)
        recorded = recorded.filter(pk__in=ids)
    else:
        # Only an active acceptance covers findings; one whose recorded count is above zero
        # may have just stopped. An active one never recorded gets its first count here.
        recorded = recorded.filter(
            Q(state=RiskAcceptance.State.ACTIVE) | Q(recorded_coverage__gt=0)
        )
    counts = dict(
        covered.order_by()
        .values_list("acceptance_id")
        .annotate(n=Count("pk"))
        .values_list("acceptance_id", "n")
    )
    now = now or timezone.now()
    events = []
    for pk, old in recorded.values_list("pk", "recorded_coverage"):
        new = counts.get(pk, 0)
        if old == new:
            continue
        claim = RiskAcceptance.objects.filter(pk=pk)
        claim = (
            claim.filter(recorded_coverage__isnull=True)
            if old is None
            else claim.filter(recorded_coverage=old)
        )
        if claim.update(recorded_coverage=new):
            events.append(
                AcceptanceEvent(
                    acceptance_id=pk,
                    action=AcceptanceEvent.Action.COVERAGE,
                    at=now,
                    changes={"covered": [old, new]},
                )
            )
    if events:
        AcceptanceEvent.objects.bulk_create(events)
        queue_posture_recount()
    return len(events)


def refresh_coverage(findings: QuerySet[Finding], now: dt.datetime | None = None) -> int:
    """Recompute which acceptance covers each of ``findings``; return how many are covered.

    Only open failures can be covered; anything else loses its link. The acceptances whose
    coverage moved get a COVERAGE event (``record_coverage``): those that covered some of
    ``findings`` before, and the active ones of their checks' controls, which may cover them
    now. Both are read before the update, since ``findings`` may be filtered on the very
    link it changes ("not covered yet").
    """
    open_failures = Q(status=Finding.Status.FAIL, resolved_at__isnull=True)
    touched = set(
        findings.filter(acceptance__isnull=False)
        .order_by()
        .values_list("acceptance_id", flat=True)
        .distinct()
    )
    checks = list(
        findings.filter(open_failures)
        .order_by()
        .values_list("control_check_id", flat=True)
        .distinct()
    )
    findings.exclude(open_failures).exclude(acceptance__isnull=True).update(acceptance=None)
    findings.filter(open_failures).update(acceptance=_covering_acceptance())
    if checks:
        touched.update(
            RiskAcceptance.objects.filter(
                state=RiskAcceptance.State.ACTIVE, control__checks__in=checks
            ).values_list("pk", flat=True)
        )
    record_coverage(touched, now)
    return findings.filter(acceptance__isnull=False).count()


def within_scope(acceptance: RiskAcceptance, findings: QuerySet[Finding]) -> QuerySet[Finding]:
    """``findings`` narrowed to the acceptance's scope: its resource, or its zone's members (all
    of them for the built-in zone)."""
    if acceptance.resource_id is not None:
        return findings.filter(resource_id=acceptance.resource_id)
    if acceptance.zone.is_builtin:
        return findings
    return findings.filter(
        resource_id__in=ZoneMembership.objects.filter(zone_id=acceptance.zone_id).values(
            "resource_id"
        )
    )


def _findings_in_scope(acceptance: RiskAcceptance) -> QuerySet[Finding]:
    return within_scope(
        acceptance, Finding.objects.filter(control_check__controls=acceptance.control_id)
    )


def _check_ids(control_id: int) -> list[int]:
    return list(Check.objects.filter(controls=control_id).values_list("pk", flat=True))


def _cover(acceptance: RiskAcceptance, now: dt.datetime | None = None) -> int:
    """Link the open failures in the acceptance's scope that nothing covers yet; its coverage
    goes to the history (``record_coverage``, at ``now``)."""
    linked = _link(acceptance)
    record_coverage([acceptance.pk], now)
    return linked


def _link(acceptance: RiskAcceptance) -> int:
    checks = _check_ids(acceptance.control_id)
    if not checks:
        return 0
    open_uncovered = Finding.objects.filter(
        control_check_id__in=checks,
        status=Finding.Status.FAIL,
        resolved_at__isnull=True,
        acceptance__isnull=True,
    )
    if acceptance.resource_id is not None:
        return open_uncovered.filter(resource_id=acceptance.resource_id).update(
            acceptance=acceptance
        )
    if acceptance.zone.is_builtin:
        return open_uncovered.update(acceptance=acceptance)
    # A zone may hold a hundred thousand findings of the control: one UPDATE joined to the
    # membership table (the ORM would select the ids in a subquery and join them back).
    finding, membership = Finding._meta.db_table, ZoneMembership._meta.db_table
    placeholders = ", ".join(["%s"] * len(checks))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {finding} SET acceptance_id = %s FROM {membership} m "  # noqa: S608
            f"WHERE m.zone_id = %s AND {finding}.resource_id = m.resource_id "
            f"AND {finding}.control_check_id IN ({placeholders}) "
            f"AND {finding}.status = 'fail' AND {finding}.resolved_at IS NULL "
            f"AND {finding}.acceptance_id IS NULL",
            [acceptance.pk, acceptance.zone_id, *checks],
        )
        return cursor.rowcount


def _uncover(acceptance: RiskAcceptance, now: dt.datetime | None = None) -> None:
    """Unlink the acceptance's findings; other active acceptances may still cover some. The
    coverage of each goes to the history (at ``now``)."""
    unlinked = Finding.objects.filter(acceptance=acceptance).update(acceptance=None)
    record_coverage([acceptance.pk], now)
    if not unlinked:
        return
    # Only acceptances of a control sharing a check can cover these findings: resource-scoped
    # ones first (they win), then zone-scoped ones, each covering what is still uncovered.
    others = (
        RiskAcceptance.objects.filter(
            state=RiskAcceptance.State.ACTIVE,
            control__checks__in=_check_ids(acceptance.control_id),
        )
        .exclude(pk=acceptance.pk)
        .distinct()
        .order_by(F("zone_id").asc(nulls_first=True), "pk")
    )
    for other in others.select_related("zone"):
        _cover(other, now)


def _split_open_failures(findings: QuerySet[Finding]) -> tuple[int, int]:
    """(not yet covered, already covered by an active acceptance) among the open failures of
    ``findings``, in one query."""
    counts = findings.filter(status=Finding.Status.FAIL, resolved_at__isnull=True).aggregate(
        uncovered=Count("pk", filter=Q(acceptance__isnull=True)),
        covered=Count("pk", filter=Q(acceptance__isnull=False)),
    )
    return counts["uncovered"], counts["covered"]


def count_would_cover(
    control: Control, resource: Resource | None = None, zone: Zone | None = None
) -> int:
    """How many open failing findings an acceptance of this scope would cover: those no
    active acceptance covers already (a new acceptance links only those, see ``_cover``)."""
    draft = RiskAcceptance(control=control, resource=resource, zone=zone)
    return _split_open_failures(_findings_in_scope(draft))[0]


def _selection_findings(control: Control, resources: Iterable[Resource | int]) -> QuerySet[Finding]:
    ids = {getattr(r, "pk", r) for r in resources}
    return Finding.objects.filter(control_check__controls=control, resource_id__in=ids)


def count_would_cover_resources(control: Control, resources: Iterable[Resource | int]) -> int:
    """How many open failing findings resource-scoped acceptances of ``control`` on each of
    ``resources`` would cover, together (those not covered already): one query."""
    return _split_open_failures(_selection_findings(control, resources))[0]


def preview_cover(
    control: Control,
    *,
    by_zone: bool,
    zone: Zone | None = None,
    resources: Iterable[Resource] = (),
) -> dict[str, Any]:
    """What the accept-risk dialog shows before saving: how many findings the chosen scope
    would cover (``count``, a ``scope`` label), how many in it another acceptance covers
    already (``already_covered``), a ``conflict`` when a live acceptance of the same control
    and scope exists (saving would be refused), or an ``error`` saying what is missing."""
    live = RiskAcceptance.objects.filter(control=control, state__in=RiskAcceptance.LIVE_STATES)
    if by_zone:
        if zone is None:
            return {"error": "Choose a zone."}
        draft = RiskAcceptance(control=control, zone=zone)
        count, covered = _split_open_failures(_findings_in_scope(draft))
        conflict = (
            f"Control {control.ref} already has a live acceptance in zone {zone}."
            if live.filter(zone=zone).exists()
            else ""
        )
        return {
            "count": count,
            "already_covered": covered,
            "conflict": conflict,
            "scope": f"zone {zone}",
        }
    selected = list(resources)
    if not selected:
        return {"error": "No resource is selected."}
    count, covered = _split_open_failures(_selection_findings(control, selected))
    taken = live.filter(resource__in=selected).count()
    return {
        "count": count,
        "already_covered": covered,
        "conflict": f"{taken} of the selected resources already have a live acceptance of "
        f"control {control.ref}."
        if taken
        else "",
        "scope": f"{len(selected)} selected resource(s)",
    }


def refresh_staleness(
    now: dt.datetime | None = None, *, scan_id: int | None = None
) -> tuple[int, int]:
    """Flag live acceptances that cover nothing any more; unflag those needed again.

    An acceptance is no longer needed when no open failure is left in its scope: every finding
    it was about now passes, or its resources are gone. People retire it (revoke) or keep it,
    e.g. while a fix is being rolled back; the flag and its history entry tell them. Returns
    (newly stale, needed again). ``scan_id``: the scan whose close runs this; the acceptances it
    flags are recorded among that scan's changes.
    """
    now = now or timezone.now()
    stale = needed = 0
    for acceptance in RiskAcceptance.objects.filter(state__in=RiskAcceptance.LIVE_STATES):
        has_failures = (
            _findings_in_scope(acceptance)
            .filter(
                status=Finding.Status.FAIL,
                resolved_at__isnull=True,
                resource__gone_at__isnull=True,
            )
            .exists()
        )
        with transaction.atomic():
            # Conditional updates, so two scans finishing together flag (and record) it once.
            if (
                not has_failures
                and acceptance.stale_since is None
                and RiskAcceptance.objects.filter(
                    pk=acceptance.pk, stale_since__isnull=True
                ).update(stale_since=now)
            ):
                _record(
                    acceptance,
                    AcceptanceEvent.Action.STALE,
                    None,
                    now,
                    {"stale_since": [None, now.isoformat()]},
                    "Every finding it covered now passes or is gone.",
                )
                if scan_id is not None:
                    # In the flag's own transaction: recorded exactly when it is flagged.
                    ScanChange.objects.create(
                        scan_id=scan_id,
                        kind=ScanChange.Kind.STALE_ACCEPTANCE,
                        acceptance=acceptance,
                        at=now,
                    )
                stale += 1
            elif (
                has_failures
                and acceptance.stale_since is not None
                and RiskAcceptance.objects.filter(
                    pk=acceptance.pk, stale_since__isnull=False
                ).update(stale_since=None)
            ):
                _record(
                    acceptance,
                    AcceptanceEvent.Action.EDITED,
                    None,
                    now,
                    {"stale_since": [acceptance.stale_since.isoformat(), None]},
                    "Findings in its scope fail again: it is needed again.",
                )
                needed += 1
    return stale, needed
