"""The watchdog, once: fail what made no progress for CSPM_SCAN_STALL_SECONDS (beat runs it
every 5 minutes as findings.close_stalled_scans)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from findings.models import Scan
from findings.services import scans


class Command(BaseCommand):
    help = (
        "Fail the scan units and scans that made no progress for CSPM_SCAN_STALL_SECONDS "
        f"(now {settings.CSPM_SCAN_STALL_SECONDS} s), recording why, and close those scans."
    )

    def handle(self, *args, **options) -> None:
        closed = scans.close_stalled_scans()
        for scan in Scan.objects.filter(pk__in=closed).select_related("account"):
            self.stdout.write(f"Closed scan #{scan.pk} of {scan.account}: {scan.error}")
        if not closed:
            self.stdout.write("No stalled scan.")
