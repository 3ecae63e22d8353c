"""Recounting the posture in the background after a write, so the first view is fast too."""

from __future__ import annotations

import logging

from celery import current_app as celery_app
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

#: Set while a recount is queued and not yet started: the writes of a scan's forty units queue
#: one recount at a time instead of forty (the waiting one counts the latest data when it runs).
RECOUNT_PENDING_KEY = "posture:recount-pending"
#: A queued recount lost with its worker stops absorbing new ones after this long.
RECOUNT_PENDING_SECONDS = 300


def _send_recount() -> None:
    if not cache.add(RECOUNT_PENDING_KEY, True, RECOUNT_PENDING_SECONDS):
        return  # one is waiting already (or the cache is down: nothing to count into)
    try:
        # By name: the tasks module imports the services.
        celery_app.tasks["findings.recount_posture"].delay()
    except Exception:
        cache.delete(RECOUNT_PENDING_KEY)
        raise


def recount_started() -> None:
    """The queued recount starts: a write from now on queues the next one."""
    cache.delete(RECOUNT_PENDING_KEY)


def queue_posture_recount() -> None:
    """After the current transaction commits, count the overview's posture into the cache.

    Called by every write that moves the posture fingerprint (a unit's ingest, a scan's close,
    a change of an acceptance). Robust: with the broker down the failure is logged and the
    write stands; the first overview then counts by itself, as it would without this. Queued
    once per transaction, however many writes it holds (an expiry run of a thousand
    acceptances queues one recount).
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        func is _send_recount for _, func, _ in connection.run_on_commit
    ):
        return
    transaction.on_commit(_send_recount, robust=True)
