"""The outbox: emails written in the transaction that decided them, sent after its commit.

``enqueue`` writes one ``OutboundEmail`` per address inside the caller's transaction (a
rolled-back change mails nobody) and, once it commits, sends them in this process. Whatever is
left unsent (the process stopped between the commit and the send, or the mail server was down)
is sent by ``deliver`` from beat every few minutes. Each row is claimed with a conditional
UPDATE before sending, so two runs never send one row twice; a run that stops mid-send leaves
its claim, which expires after ``CLAIM_SECONDS`` (at least once: a process that dies after the
server accepted the message but before recording it sends it again). After ``MAX_ATTEMPTS``
failures a row stays unsent with its last error, visible in the admin console.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from acceptances.models import OutboundEmail
from cspm.email import send_templated

logger = logging.getLogger(__name__)

CLAIM_SECONDS = 600
MAX_ATTEMPTS = 12


def enqueue(template: str, recipients: Mapping[str, str], context: dict[str, Any]) -> list[int]:
    """Keep one email per address (``recipients``: address -> name) with the caller's change;
    send them once it commits. ``context`` must be JSON: it is stored."""
    now = timezone.now()
    rows = OutboundEmail.objects.bulk_create(
        OutboundEmail(
            template=template, address=address, name=name, context=context, created_at=now
        )
        for address, name in recipients.items()
    )
    ids = [row.pk for row in rows]
    # robust: a failure here is logged; the rows stay for beat's run of ``deliver``.
    transaction.on_commit(partial(deliver, ids), robust=True)
    return ids


def _due(now: dt.datetime) -> Q:
    stale = now - dt.timedelta(seconds=CLAIM_SECONDS)
    return Q(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS) & (
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale)
    )


def deliver(ids: Iterable[int] | None = None, now: dt.datetime | None = None) -> int:
    """Send the due emails (``ids``: only these); return how many were sent."""
    now = now or timezone.now()
    due = OutboundEmail.objects.filter(_due(now))
    if ids is not None:
        due = due.filter(pk__in=list(ids))
    sent = 0
    for pk in list(due.order_by("created_at", "pk").values_list("pk", flat=True)):
        if not OutboundEmail.objects.filter(_due(now), pk=pk).update(claimed_at=now):
            continue  # another run has it
        row = OutboundEmail.objects.get(pk=pk)
        try:
            send_templated(row.template, [row.address], {**row.context, "name": row.name})
        except Exception as exc:
            logger.warning("Could not send %s email to %s: %s", row.template, row.address, exc)
            OutboundEmail.objects.filter(pk=pk).update(
                claimed_at=None, attempts=row.attempts + 1, last_error=str(exc)[:2000]
            )
            continue
        OutboundEmail.objects.filter(pk=pk).update(
            sent_at=timezone.now(), attempts=row.attempts + 1
        )
        sent += 1
    return sent
