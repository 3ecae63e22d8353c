"""Celery tasks: thin wrappers around ``acceptances.notifications``; beat runs both.

Both are safe to run from several workers or overlapping ticks: each expiry and each reminder
is claimed in the database by exactly one run (see the services).
"""

from __future__ import annotations

from celery import shared_task

from acceptances import notifications


@shared_task(name="acceptances.expire_acceptances", ignore_result=True)
def expire_acceptances() -> list[int]:
    """Beat, every 5 minutes: expire due acceptances, reopen their findings, tell the owners."""
    return notifications.expire_and_notify()


@shared_task(name="acceptances.send_expiry_reminders", ignore_result=True)
def send_expiry_reminders() -> int:
    """Beat, hourly: remind owners of acceptances nearing expiry; returns the digests sent."""
    return len(notifications.send_expiry_reminders().sent)
