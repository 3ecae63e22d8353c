"""Celery tasks: thin wrappers that call services with ids."""

from __future__ import annotations

from celery import shared_task

from findings.services import scans


# acks_late: a unit whose worker dies mid-way is redelivered and run again; every step is
# idempotent (claimed with conditional updates), so running twice is safe.
@shared_task(name="findings.scan_account", acks_late=True, ignore_result=True)
def scan_account(scan_id: int) -> list[str]:
    """Plan a scan into units and queue one task per unit."""
    units = scans.plan_scan(scan_id)
    for unit in units:
        scan_unit.delay(scan_id, unit)
    return units


# acks_late as above. soft_time_limit: a unit stuck on a hung endpoint fails (and is recorded
# as failed) instead of holding a worker forever; boto3's own timeouts normally come first.
@shared_task(
    name="findings.scan_unit",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=1800,
    time_limit=1900,
)
def scan_unit(scan_id: int, unit: str) -> str:
    """Collect, evaluate and write one region (or the global unit) of a scan."""
    return scans.run_scan_unit(scan_id, unit).state


@shared_task(name="findings.start_due_scans", ignore_result=True)
def start_due_scans() -> list[int]:
    """Beat: start the scheduled scans whose interval has passed."""
    return scans.start_due_scans()
