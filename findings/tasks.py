"""Celery tasks: thin wrappers that call services with ids."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from findings.services import scans

# Scan tasks are safe to run twice: every step claims its rows with conditional updates, and a
# unit already recorded is not written again. So they are acknowledged only after they ran
# (acks_late), and a task whose worker died is run again:
# - the pool process running it was killed (SIGKILL, out of memory): reject_on_worker_lost
#   puts the message back on the queue at once, for another process (without it, Celery
#   acknowledges the message of a lost process and the unit would stay "running");
# - the whole worker died: Redis gives the unacknowledged message to another worker after
#   the visibility timeout (CSPM_BROKER_VISIBILITY_TIMEOUT in cspm/settings.py).
# A unit that kills its worker every time is bounded by the watchdog (close_stalled_scans),
# which fails it CSPM_SCAN_STALL_SECONDS after its first start.


@shared_task(
    name="findings.scan_account",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # Planning is a few API calls; boto3's timeouts and retries normally end it long before.
    soft_time_limit=600,
    time_limit=660,
)
def scan_account(scan_id: int) -> list[str]:
    """Plan a scan into units and queue one task per unit."""
    units = scans.plan_scan(scan_id)
    for unit in units:
        scan_unit.delay(scan_id, unit)
    return units


# soft_time_limit: a unit stuck on a hung endpoint fails (and is recorded as failed) instead
# of holding a worker forever; boto3's own timeouts normally come first.
@shared_task(
    name="findings.scan_unit",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=settings.CSPM_SCAN_UNIT_TIME_LIMIT,
    time_limit=settings.CSPM_SCAN_UNIT_TIME_LIMIT + 100,
)
def scan_unit(scan_id: int, unit: str) -> str:
    """Collect, evaluate and write one region (or the global unit) of a scan."""
    return scans.run_scan_unit(scan_id, unit).state


@shared_task(name="findings.start_due_scans", ignore_result=True)
def start_due_scans() -> list[int]:
    """Beat: start the scheduled scans whose interval has passed."""
    return scans.start_due_scans()


@shared_task(name="findings.close_stalled_scans", ignore_result=True)
def close_stalled_scans() -> list[int]:
    """Beat, every 5 minutes: fail what made no progress for CSPM_SCAN_STALL_SECONDS."""
    return scans.close_stalled_scans()


@shared_task(name="findings.recount_posture", ignore_result=True)
def recount_posture() -> bool:
    """After a write: count the overview's posture into the cache under the new fingerprint."""
    from findings import queries
    from findings.services.posture import recount_started

    recount_started()
    return queries.warm_posture_counts()
