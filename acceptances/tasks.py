"""Celery tasks: thin wrappers around ``acceptances.notifications`` (beat runs both) and
``acceptances.drift`` (queued when a scan closes).

All are safe to run from several workers or overlapping ticks: each expiry and each reminder
(and each drift alert) is claimed in the database by exactly one run (see the services).
"""

from __future__ import annotations

from celery import shared_task

from acceptances import drift, notifications


@shared_task(name="acceptances.expire_acceptances", ignore_result=True)
def expire_acceptances() -> list[int]:
    """Beat, every 5 minutes: expire due acceptances, reopen their findings, tell the owners."""
    return notifications.expire_and_notify()


@shared_task(name="acceptances.send_expiry_reminders", ignore_result=True)
def send_expiry_reminders() -> int:
    """Beat, hourly: remind owners of acceptances nearing expiry and of fix plans past their due
    date, and authors of attestations nearing their end; returns the emails sent or planned."""
    sent = len(notifications.send_expiry_reminders().sent)
    sent += len(notifications.send_overdue_fix_plan_reminders())
    return sent + len(notifications.send_attestation_reminders())


@shared_task(name="acceptances.send_signoff_request", ignore_result=True)
def send_signoff_request(acceptance_id: int) -> int:
    """Queued when an acceptance starts awaiting its owner: ask the owner to sign it off."""
    return len(notifications.send_signoff_request(acceptance_id))


@shared_task(name="acceptances.send_signoff_reminders", ignore_result=True)
def send_signoff_reminders() -> int:
    """Beat, hourly: remind owners of acceptances awaiting their sign-off for more than a day
    (again every CSPM_SIGNOFF_REMINDER_DAYS); returns the digests sent."""
    return len(notifications.send_signoff_reminders())


# Retries only when the mail server could not be reached: those alerts were released unsent
# (see acceptances.drift); everything sent or possibly sent stays claimed, so a retry, like any
# duplicate delivery of this task, never mails anyone twice.
@shared_task(name="acceptances.send_drift_alerts", bind=True, ignore_result=True, max_retries=6)
def send_drift_alerts(self, scan_id: int) -> int:
    """After a scan closes: email each zone watcher what newly fails and what got fixed."""
    report = drift.send_drift_alerts(scan_id)
    # Eager (the embedded default) has no broker to hold a delayed retry.
    if report.released and not self.request.is_eager:
        raise self.retry(countdown=120 * 2**self.request.retries)
    return len(report.sent)


@shared_task(name="acceptances.check_appetite", ignore_result=True)
def check_appetite() -> int:
    """Queued when a risk appetite rule is saved: flag the acceptances in force that the rules
    would now refuse for re-review (each flag claimed once); returns how many were flagged."""
    from acceptances.services.compensation import check_appetite as check

    return len(check())


@shared_task(name="acceptances.deliver_outbox", ignore_result=True)
def deliver_outbox() -> int:
    """Beat, every 5 minutes: send the emails kept in the outbox that no run has sent (the
    process stopped after its commit, or the mail server was down); returns how many."""
    from acceptances import outbox

    return outbox.deliver()
