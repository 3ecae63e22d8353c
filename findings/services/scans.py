"""Starting, running and finishing scans.

A scan of an account is planned into units (every region plus ``global``), each run by its own
task; each unit's results are written in one transaction; the last unit to finish closes the
scan. Every step claims its row with a conditional update, so a retried or duplicated task does
nothing twice, and a unit that failed resolves nothing.

Every scan ends: a unit whose writing fails is recorded as failed with the error; a scan whose
planning fails, whatever the error, fails with it; a scan that could not be queued (broker
unreachable) fails at once with that reason; and the watchdog (``close_stalled_scans``) fails
what made no progress for ``CSPM_SCAN_STALL_SECONDS`` (a worker lost for good, a message lost),
so that no account is ever left with a scan that blocks the next one.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from celery import current_app as celery_app
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, transaction
from django.db.models import DateTimeField, F, Max, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerConnectionError

from findings import hooks
from findings.aws import CollectionError
from findings.aws.session import AccountAccess, enabled_regions, session_for
from findings.checks.base import GLOBAL
from findings.models import Benchmark, Check, CloudAccount, PostureSnapshot, Scan, ScanRegion
from findings.queries.changes import count_changes
from findings.services.catalog import sync_checks
from findings.services.ingest import IngestStats, db_text, ingest_unit
from findings.services.posture import queue_posture_recount

log = logging.getLogger(__name__)

LIVE = (Scan.State.QUEUED, Scan.State.RUNNING)


class BrokerUnavailable(Exception):
    """The task broker could not be reached: nothing was queued (views answer 503)."""


def account_access(account: CloudAccount) -> AccountAccess:
    """The account's access settings as the plain value collectors take."""
    return AccountAccess(
        account_id=account.account_id,
        role_arn=account.role_arn,
        external_id=account.external_id,
        endpoint_url=account.endpoint_url,
        regions=tuple(account.regions or ()),
    )


def _dispatch(
    task_name: str, *args: object, if_not_queued: Callable[[str], None] | None = None
) -> None:
    """Queue a task once the current transaction commits (never for a rolled-back row).

    The task is looked up by its registered name (``findings.<task_name>``, registered when
    the app loads), so that services never import the tasks that call them. If the task
    cannot be queued, ``if_not_queued(reason)`` runs (after the commit: it records that the
    work will not happen) and the error is raised where the transaction committed:
    ``BrokerUnavailable`` when the broker could not be reached.
    """
    task = celery_app.tasks[f"findings.{task_name}"]
    if settings.CELERY_TASK_ALWAYS_EAGER and settings.CSPM_BACKGROUND_TASKS:
        transaction.on_commit(lambda: _run_in_background(task, args))
    else:
        transaction.on_commit(lambda: _send(task, args, if_not_queued))


def _send(task: Any, args: tuple[object, ...], if_not_queued: Callable[[str], None] | None) -> None:
    if task.app.conf.task_always_eager:
        task.delay(*args)  # runs here; its own errors are the task's, not the broker's
        return
    try:
        # One attempt, no publish retries: whoever asked waits for one connection attempt
        # (bounded by broker_connection_timeout, 4 s by default), not for a retry loop.
        task.apply_async(args, retry=False)
    except (BrokerConnectionError, OSError) as exc:
        # The details (the broker's address) go to the log, not to the page or the scan.
        log.error("Could not queue %s%r: %s", task.name, args, exc)
        if if_not_queued is not None:
            if_not_queued("Not queued: the task broker is unreachable.")
        raise BrokerUnavailable(
            "The task broker is unreachable, so nothing was queued. Try again once it is back."
        ) from exc
    except Exception as exc:
        if if_not_queued is not None:
            if_not_queued(f"Not queued: {type(exc).__name__}: {exc}")
        raise


def _run_in_background(task: Any, args: tuple[object, ...]) -> None:
    """Embedded mode serving pages: run the (eager) task in a thread of its own, so the page
    that started a scan answers at once and shows its progress region by region, as it does
    with real workers. The thread uses, and then closes, its own database connection."""

    def run() -> None:
        try:
            task.delay(*args)
        except Exception:
            # The scan's own rows record a unit's failure; this is for the unexpected.
            log.exception("Background task %s%r failed", task.name, args)
        finally:
            connections.close_all()

    threading.Thread(target=run, name=f"task-{task.name}", daemon=True).start()


@transaction.atomic
def start_scan(
    account: CloudAccount,
    *,
    trigger: str = Scan.Trigger.MANUAL,
    requested_by: AbstractBaseUser | None = None,
    dispatch: bool = True,
) -> Scan:
    """Queue a scan of ``account`` and return it at once.

    If a scan of the account is already queued or running, that one is returned: two scans of
    the same account at once would only race each other. A live scan that made no progress
    for the watchdog's bound is closed first (it is dead; a new one starts). ``dispatch=False``
    leaves running it to the caller (the ``scan`` command runs the units itself).

    Raises ``BrokerUnavailable`` (when the transaction commits) if the scan could not be
    queued; the scan is then already recorded as failed with that reason, so it blocks
    nothing and the next request starts a new one.
    """
    if requested_by is not None and not requested_by.has_perm("findings.add_scan"):
        raise PermissionDenied("You do not have permission to start scans.")
    account = CloudAccount.objects.select_for_update().get(pk=account.pk)
    if not account.enabled:
        raise ValidationError({"account": f"{account} is disabled; enable it to scan it."})
    close_stalled_scans(account_id=account.pk)
    live = account.scans.filter(state__in=LIVE).first()
    if live is not None:
        return live
    if trigger not in Scan.Trigger.values:
        raise ValidationError({"trigger": f"Unknown trigger '{trigger}'."})
    scan = Scan.objects.create(account=account, trigger=trigger, requested_by=requested_by)
    if dispatch:
        _dispatch("scan_account", scan.pk, if_not_queued=partial(_fail_unqueued, scan.pk))
    return scan


def _fail_unqueued(scan_id: int, reason: str) -> None:
    now = timezone.now()
    Scan.objects.filter(pk=scan_id, state=Scan.State.QUEUED).update(
        state=Scan.State.FAILED, finished_at=now, error=db_text(reason)[:2000]
    )


def plan_scan(scan_id: int, now: dt.datetime | None = None) -> list[str]:
    """Discover the units of a queued scan and record them; return the units still to run.

    Safe to run twice: a scan already planned returns its unfinished units.
    """
    now = now or timezone.now()
    scan = Scan.objects.select_related("account").get(pk=scan_id)
    if scan.state != Scan.State.QUEUED:
        return list(
            scan.regions.filter(
                state__in=[ScanRegion.State.PENDING, ScanRegion.State.RUNNING]
            ).values_list("region", flat=True)
        )
    try:
        # Keep the catalog's Check rows in step with the code that is about to run.
        sync_checks()
        access = account_access(scan.account)
        regions = enabled_regions(access, session_for(access))
    except Exception as exc:
        # Whatever went wrong (an endpoint answering HTML, a parser error, a time limit, a
        # bug), the scan fails with it: a scan left queued would block every later one.
        if isinstance(exc, CollectionError | ValidationError):
            error = str(exc)
        else:
            log.exception("scan %s: planning failed", scan_id)
            error = f"Planning failed: {type(exc).__name__}: {exc}"
        Scan.objects.filter(pk=scan.pk, state=Scan.State.QUEUED).update(
            state=Scan.State.FAILED, started_at=now, finished_at=now, error=db_text(error)[:2000]
        )
        return []
    units = [*regions, GLOBAL]
    with transaction.atomic():
        claimed = Scan.objects.filter(pk=scan.pk, state=Scan.State.QUEUED).update(
            state=Scan.State.RUNNING, started_at=now, regions_total=len(units)
        )
        if not claimed:
            return []
        ScanRegion.objects.bulk_create(
            [ScanRegion(scan=scan, region=unit) for unit in units], ignore_conflicts=True
        )
    return units


@dataclass
class UnitReport:
    unit: str
    state: str
    stats: IngestStats | None = None
    error: str = ""


def mapped_checks() -> frozenset[str]:
    """The checks some enabled benchmark's control is decided by: a catalog's ``"checks"``
    or a registration's ``controls`` (refs of the benchmark version it was written for, v2.0.0;
    both linked by ``sync_checks``). A scan runs these and no other: a check only disabled
    benchmarks use costs a scan nothing."""
    from findings.checks import REGISTRY

    enabled = {(b.slug, b.version): b.enabled for b in Benchmark.objects.all()}
    # A registration's benchmark counts while it is enabled, or not loaded at all (a database
    # without catalogs keeps running what the code maps).
    registered = {
        spec.check_id
        for spec in REGISTRY.values()
        if spec.controls and enabled.get((spec.benchmark, spec.version), True)
    }
    linked = Check.objects.filter(
        active=True, controls__benchmark__enabled=True, check_id__in=list(REGISTRY)
    ).values_list("check_id", flat=True)
    return frozenset(registered | set(linked))


def run_scan_unit(scan_id: int, unit: str) -> UnitReport:
    """Collect, evaluate and write one unit of a scan; then close the scan if it was the last."""
    from findings.scanner import run_unit

    started = timezone.now()
    claimed = ScanRegion.objects.filter(
        scan_id=scan_id,
        region=unit,
        state__in=[ScanRegion.State.PENDING, ScanRegion.State.RUNNING],
    ).update(
        state=ScanRegion.State.RUNNING,
        # The first start stays: the watchdog counts from it, so a unit that kills its
        # worker at every delivery is still failed within its bound.
        started_at=Coalesce(F("started_at"), Value(started, output_field=DateTimeField())),
    )
    if not claimed:
        # A redelivered task whose first run recorded the unit but died before closing the
        # scan: closing it here is what lets the scan (and its drift alerts) complete.
        finish_scan(scan_id)
        return UnitReport(unit, "already finished")
    scan = Scan.objects.select_related("account").get(pk=scan_id)
    account = scan.account
    regions = list(
        scan.regions.exclude(region=GLOBAL).values_list("region", flat=True).order_by("region")
    )
    try:
        session = session_for(account_access(account))
        outcome = run_unit(
            session,
            account.account_id,
            unit,
            regions,
            account.endpoint_url,
            checks=mapped_checks(),
        )
    except CollectionError as exc:
        report = _record_unit_failure(scan, unit, str(exc))
    except Exception as exc:  # a bug in a collector or check must not leave the unit running
        log.exception("scan %s unit %s crashed", scan_id, unit)
        report = _record_unit_failure(scan, unit, f"internal error: {type(exc).__name__}: {exc}")
    else:
        try:
            report = _record_unit_success(scan, unit, outcome)
        except Exception as exc:
            # The unit's transaction rolled back: nothing of it was written. Record why, or
            # the unit would stay running and the scan never close.
            log.exception("scan %s unit %s: writing its results failed", scan_id, unit)
            report = _record_unit_failure(
                scan, unit, f"Writing its results failed: {type(exc).__name__}: {exc}"
            )
    finish_scan(scan_id)
    return report


def _record_unit_failure(
    scan: Scan, unit: str, error: str, now: dt.datetime | None = None
) -> UnitReport:
    error = db_text(error)
    with transaction.atomic():
        row = ScanRegion.objects.select_for_update().get(scan=scan, region=unit)
        if row.state in (ScanRegion.State.SUCCEEDED, ScanRegion.State.FAILED):
            return UnitReport(unit, "already finished")
        row.state = ScanRegion.State.FAILED
        row.error = error[:4000]
        row.finished_at = now or timezone.now()
        row.save(update_fields=["state", "error", "finished_at"])
        Scan.objects.filter(pk=scan.pk).update(regions_done=F("regions_done") + 1)
    return UnitReport(unit, "failed", error=error)


def _record_unit_success(scan: Scan, unit: str, outcome) -> UnitReport:
    now = timezone.now()
    with transaction.atomic():
        row = ScanRegion.objects.select_for_update().get(scan=scan, region=unit)
        if row.state in (ScanRegion.State.SUCCEEDED, ScanRegion.State.FAILED):
            # A duplicate delivery of this task got here first; its write stands.
            return UnitReport(unit, "already finished")
        stats = ingest_unit(scan, outcome, now)
        row.state = ScanRegion.State.SUCCEEDED
        row.finished_at = timezone.now()
        row.resources_seen = stats.resources_seen
        row.findings_total = stats.findings_total
        row.findings_failed = stats.findings_failed
        row.api_calls = outcome.api_calls
        row.baseline = stats.baseline
        row.error = "skipped: a newer scan already wrote this region" if stats.skipped else ""
        row.failed_services = {
            db_text(service): db_text(error) for service, error in outcome.failed_services.items()
        }
        row.skipped_regions = outcome.skipped_regions
        row.save()
        if not stats.skipped and outcome.evaluated_checks:
            Check.objects.filter(
                check_id__in=sorted(outcome.evaluated_checks), first_evaluated_at__isnull=True
            ).update(first_evaluated_at=now)
        Scan.objects.filter(pk=scan.pk).update(
            regions_done=F("regions_done") + 1,
            resources_seen=F("resources_seen") + stats.resources_seen,
            findings_total=F("findings_total") + stats.findings_total,
            findings_failed=F("findings_failed") + stats.findings_failed,
        )
    return UnitReport(unit, "succeeded", stats=stats)


def finish_scan(scan_id: int, now: dt.datetime | None = None, reason: str = "") -> bool:
    """Close a running scan whose units are all done; True if this call closed it.

    ``reason``, if it closes, goes first in the scan's error (the watchdog says why)."""
    now = now or timezone.now()
    scan = Scan.objects.get(pk=scan_id)
    if scan.state != Scan.State.RUNNING or scan.regions_done < scan.regions_total:
        return False
    units = scan.regions.aggregate(
        failed=Sum(1, filter=Q(state=ScanRegion.State.FAILED)),
        succeeded=Sum(1, filter=Q(state=ScanRegion.State.SUCCEEDED)),
    )
    failed, succeeded = units["failed"] or 0, units["succeeded"] or 0
    # Units that succeeded without some service (denied): the scan is not fully clean.
    incomplete = _services_not_evaluated(scan)
    if failed == 0 and not incomplete:
        final = Scan.State.SUCCEEDED
    elif succeeded == 0:
        final = Scan.State.FAILED
    else:
        final = Scan.State.PARTIAL
    errors = []
    if failed:
        names = scan.regions.filter(state=ScanRegion.State.FAILED).values_list("region", flat=True)
        errors.append(f"{failed} of {scan.regions_total} units failed: {', '.join(names)}")
    if incomplete:
        errors.append(f"services not evaluated: {'; '.join(incomplete)}")
    error = ". ".join(errors)
    if reason:
        error = f"{reason} {error}".strip()
    # One transaction: if closing dies half-way, the scan stays running and the next
    # finish_scan (a redelivered unit task) closes it again, counts and alerts included.
    with transaction.atomic():
        # Conditional: of two units finishing at once (or a retried one), only one closes
        # the scan, so only one records its counts and queues its drift alerts.
        closed = bool(
            Scan.objects.filter(pk=scan_id, state=Scan.State.RUNNING).update(
                state=final, finished_at=now, error=error[:2000]
            )
        )
        if closed:
            # What the scan saw may have made acceptances unnecessary (or necessary again);
            # those it flags are recorded among the scan's changes.
            hooks.on_scan_closed(scan_id, now)
            counts = record_change_counts(scan_id)
            if counts["new_failure"] - counts["accepted"] or counts["fixed"] or counts["gone"]:
                hooks.on_drift_recorded(scan_id)
            if final != Scan.State.FAILED:
                record_posture_snapshot(scan, now)
            queue_posture_recount()
    return closed


def _services_not_evaluated(scan: Scan) -> list[str]:
    """``unit: service, service`` for each succeeded unit with failed services."""
    rows = scan.regions.filter(state=ScanRegion.State.SUCCEEDED).values_list(
        "region", "failed_services"
    )
    return [f"{unit}: {', '.join(sorted(services))}" for unit, services in rows if services]


def record_change_counts(scan_id: int) -> dict[str, object]:
    """Store the scan's change counts on it (when it closes) and return them."""
    counts = count_changes(scan_id)
    Scan.objects.filter(pk=scan_id).update(change_counts=counts)
    return counts


def record_posture_snapshot(scan: Scan, now: dt.datetime) -> PostureSnapshot | None:
    """The account's posture as this scan left it: one point of the overview's history."""
    from findings import queries

    benchmark = queries.get_default_benchmark()
    if benchmark is None:
        return None
    rows = queries.get_control_posture(
        benchmark, scope=queries.PostureScope(account_ids=(scan.account_id,))
    )
    totals = queries.summarize_posture(rows)
    # get_or_create: a finish step run twice records one point.
    snapshot, _ = PostureSnapshot.objects.get_or_create(
        scan=scan,
        defaults={
            "account_id": scan.account_id,
            "benchmark": benchmark,
            "at": now,
            "failing": totals.failing,
            "accepted": totals.accepted,
            "passing": totals.passing,
        },
    )
    return snapshot


# A failed scan is tried again before the account's next full interval: 15 minutes after it,
# then 30, 60, ... doubling with each failure in a row (an outage is not hammered), never
# later than the interval itself. A partial scan waits the interval: a region that is always
# denied would otherwise rescan the account all day.
RETRY_AFTER_FAILURE = dt.timedelta(minutes=15)


def _scan_wait(interval: dt.timedelta, states: list[str]) -> dt.timedelta:
    """How long after the latest scan (``states``: newest first) the next one is due."""
    failures = 0
    for state in states:
        if state != Scan.State.FAILED:
            break
        failures += 1
    if failures == 0:
        return interval
    return min(interval, RETRY_AFTER_FAILURE * 2 ** min(failures - 1, 20))


def start_due_scans(now: dt.datetime | None = None) -> list[int]:
    """Start a scheduled scan of every enabled account whose interval has passed, or whose
    last scan failed and whose retry is due."""
    now = now or timezone.now()
    # A dead live scan must not hold an account's schedule back until the watchdog's tick.
    close_stalled_scans(now)
    started: list[int] = []
    for account in CloudAccount.objects.filter(enabled=True, scan_interval_hours__gt=0):
        if account.scans.filter(state__in=LIVE).exists():
            continue
        # Enough of the latest scans to count the failures in a row up to a year's interval.
        recent = list(account.scans.order_by("-created_at").values_list("created_at", "state")[:20])
        if recent:
            interval = dt.timedelta(hours=account.scan_interval_hours)
            if recent[0][0] > now - _scan_wait(interval, [state for _, state in recent]):
                continue
        try:
            started.append(start_scan(account, trigger=Scan.Trigger.SCHEDULE).pk)
        except BrokerUnavailable as exc:
            # That scan is recorded as failed (so retried after the failure's wait); the other
            # accounts would fail alike, and are tried again at the next tick.
            log.error("Scheduled scans not started: %s", exc)
            break
    return started


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def close_stalled_scans(
    now: dt.datetime | None = None, *, account_id: int | None = None
) -> list[int]:
    """The watchdog: fail what made no progress for ``CSPM_SCAN_STALL_SECONDS``, close the
    scans it can, and return their ids.

    - a queued scan never planned in that time fails (no worker took its planning task);
    - a running unit with no result that long after its first start fails (its worker was
      lost for good, or it keeps killing its workers): a live unit's time limit ends it well
      before;
    - a running scan none of whose units started or finished in that time has every
      unfinished unit failed (their tasks were lost).
    Each failure says why, on the unit and on the scan, and the scan closes by the usual rule
    (partial if some unit succeeded). Every write is conditional, so a unit finishing at the
    same moment, or two runs of the watchdog, record one outcome.
    """
    now = now or timezone.now()
    seconds = settings.CSPM_SCAN_STALL_SECONDS
    bound = _duration(seconds)
    cutoff = now - dt.timedelta(seconds=seconds)
    live = Scan.objects.filter(state__in=LIVE)
    if account_id is not None:
        live = live.filter(account_id=account_id)
    closed: list[int] = []
    for scan_id in live.filter(state=Scan.State.QUEUED, created_at__lt=cutoff).values_list(
        "pk", flat=True
    ):
        if Scan.objects.filter(pk=scan_id, state=Scan.State.QUEUED).update(
            state=Scan.State.FAILED,
            finished_at=now,
            error=f"Never started: no worker planned it within {bound} (are workers reading "
            "the 'scans' queue?). Closed by the watchdog.",
        ):
            closed.append(scan_id)
    running = live.filter(state=Scan.State.RUNNING).annotate(
        last_start=Max("regions__started_at"), last_finish=Max("regions__finished_at")
    )
    unfinished = [ScanRegion.State.PENDING, ScanRegion.State.RUNNING]
    for scan in running:
        marks = (scan.created_at, scan.started_at, scan.last_start, scan.last_finish)
        stalled = max(mark for mark in marks if mark is not None) < cutoff
        units = scan.regions.filter(state__in=unfinished)
        if not stalled:
            units = units.filter(state=ScanRegion.State.RUNNING, started_at__lt=cutoff)
        for row in units:
            if row.state == ScanRegion.State.RUNNING:
                reason = (
                    f"No result {bound} after it started: its worker was lost, or it hung. "
                    "Failed by the watchdog."
                )
            else:
                reason = (
                    f"Never ran: the scan made no progress for {bound} (its task was lost). "
                    "Failed by the watchdog."
                )
            _record_unit_failure(scan, row.region, reason, now=now)
        reason = f"No progress for {bound}: closed by the watchdog." if stalled else ""
        if finish_scan(scan.pk, now, reason=reason):
            closed.append(scan.pk)
    return closed


def run_scan_inline(
    scan_id: int, on_unit: Callable[[int, int, UnitReport], None] | None = None
) -> Scan:
    """Run a queued scan in this process, unit after unit (the command line and the demo).

    Same steps as the workers run; ``on_unit(done, total, report)`` reports progress.
    """
    units = plan_scan(scan_id)
    for index, unit in enumerate(units, start=1):
        report = run_scan_unit(scan_id, unit)
        if on_unit is not None:
            on_unit(index, len(units), report)
    return Scan.objects.get(pk=scan_id)
