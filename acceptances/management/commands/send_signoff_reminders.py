"""Remind owners of acceptances awaiting their sign-off (what the hourly beat task does)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from acceptances import notifications


class Command(BaseCommand):
    help = (
        "Remind owners of risk acceptances that have awaited their sign-off for more than a "
        "day, then again every CSPM_SIGNOFF_REMINDER_DAYS: one digest per owner. Safe to run "
        "alongside the beat task: each reminder is claimed once."
    )

    def handle(self, *args, **options) -> None:
        sent = notifications.send_signoff_reminders()

        def summary() -> None:
            if sent:
                self.stdout.write(f"Reminded {len(sent)} owner(s): {', '.join(sent)}.")
            else:
                self.stdout.write("No sign-off reminders due.")

        # The emails go out when the claims commit: summarise after them (at once, with no
        # transaction open, the normal case).
        transaction.on_commit(summary)
