"""Send the expiry reminders that are due now (what the hourly beat task does), with a summary."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from acceptances import notifications
from acceptances.notifications import ReminderReport


class Command(BaseCommand):
    help = (
        "Remind owners (and creators) of active risk acceptances nearing expiry, at the "
        "thresholds of CSPM_REMINDER_DAYS: one digest per person; and owners of fix plans past "
        "their due date, once. Safe to run alongside the "
        "beat task: each reminder is sent once. Exit 1 when a digest could not be sent (it is "
        "tried again on the next run). Also reminds the authors of attestations of manual "
        "controls ending within 30 days, once each."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List who would get which reminders; claim and send nothing.",
        )

    def handle(self, *args, **options) -> None:
        report = notifications.send_expiry_reminders(dry_run=options["dry_run"])
        if not options["dry_run"]:
            # Fix plans past their due date ride with the reminders, as in the beat task.
            plans_sent = notifications.send_overdue_fix_plan_reminders()
            if plans_sent:
                self.stdout.write(f"Sent {len(plans_sent)} overdue fix plan digest(s).")
        if report.dry_run:
            self._summary(report)
        else:
            # The digests go out when the claims commit; summarise after them. With no
            # transaction open (the normal case) both have already happened and this runs now.
            transaction.on_commit(lambda: self._summary(report))
            # Attestations of manual controls nearing their end: their authors, once each.
            attested = notifications.send_attestation_reminders()
            if attested:
                self.stdout.write(f"Reminded the authors of {len(attested)} attestation(s).")

    def _summary(self, report: ReminderReport) -> None:
        if not report.reminders:
            self.stdout.write("No reminders due.")
            return
        reminders = {r.acceptance_id: r for r in report.reminders}
        if report.dry_run:
            self.stdout.write(
                f"Dry run: would send {len(report.digests)} digest(s) about "
                f"{len(reminders)} acceptance(s). Nothing was claimed or sent."
            )
        else:
            self.stdout.write(
                f"Sent {len(report.sent)} digest(s) about {len(reminders)} acceptance(s)."
            )
        for address, ids in report.digests.items():
            status = "" if report.dry_run or address in report.sent else " (NOT SENT)"
            self.stdout.write(f"  {address}{status}")
            for pk in ids:
                reminder = reminders[pk]
                self.stdout.write(
                    f"    #{pk} {reminder.label}: {reminder.threshold_days}-day reminder, "
                    f"expires {timezone.localtime(reminder.expires_at):%Y-%m-%d %H:%M %Z}"
                )
        for pk in report.unreachable:
            self.stderr.write(
                f"Nobody to remind about #{pk} {reminders[pk].label}: neither its owner nor its "
                "creator is an active user with an email address."
            )
        if report.failed:
            raise CommandError(
                f"Could not send {len(report.failed)} digest(s), to {', '.join(report.failed)}; "
                "see the log. Reminders that reached nobody are tried again on the next run."
            )
