"""Scan one account or all, in this process, with progress and a summary."""

from __future__ import annotations

import sys
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from findings.models import CloudAccount, Scan, ScanRegion
from findings.services import register_account, scans


class Command(BaseCommand):
    help = (
        "Scan an account (or every enabled one) now, in this process. With --account-id and "
        "--name, registers (or updates) the account first. Exit 0 when every unit succeeded, 2 "
        "when some failed (partial), 1 when the scan failed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--account-id", help="12-digit id of the account to scan.")
        parser.add_argument("--name", help="Register the account under this name.")
        parser.add_argument("--role-arn", default=None, help="Role to assume (register).")
        parser.add_argument("--external-id", default=None, help="External id (register).")
        parser.add_argument(
            "--endpoint-url", default=None, help="Send AWS calls here (an emulator)."
        )
        parser.add_argument(
            "--regions",
            default=None,
            help="Comma-separated regions to scan (register); default: every enabled region.",
        )

    def handle(self, *args, **options) -> None:
        accounts = self._accounts(options)
        worst = 0
        for account in accounts:
            scan = scans.start_scan(account, trigger=Scan.Trigger.COMMAND, dispatch=False)
            if scan.state != Scan.State.QUEUED:
                raise CommandError(f"A scan of {account} is already running (#{scan.pk}).")
            worst = max(worst, self._run(scan))
        if worst:
            sys.exit(worst)

    def _accounts(self, options) -> list[CloudAccount]:
        account_id = options["account_id"]
        registering = any(
            options[k] is not None
            for k in ("name", "role_arn", "external_id", "endpoint_url", "regions")
        )
        if account_id is None:
            if registering:
                raise CommandError("--account-id is required to register an account.")
            accounts = list(CloudAccount.objects.filter(enabled=True))
            if not accounts:
                raise CommandError("No enabled account; register one with --account-id --name.")
            return accounts
        existing = CloudAccount.objects.filter(account_id=account_id).first()
        if registering:
            name = options["name"] or (existing.name if existing else None)
            if not name:
                raise CommandError("--name is required to register a new account.")
            regions = options["regions"]
            try:
                account, created = register_account(
                    account_id=account_id,
                    name=name,
                    role_arn=options["role_arn"]
                    if options["role_arn"] is not None
                    else (existing.role_arn if existing else ""),
                    external_id=options["external_id"]
                    if options["external_id"] is not None
                    else (existing.external_id if existing else ""),
                    endpoint_url=options["endpoint_url"]
                    if options["endpoint_url"] is not None
                    else (existing.endpoint_url if existing else ""),
                    regions=[r.strip() for r in regions.split(",") if r.strip()]
                    if regions is not None
                    else (existing.regions if existing else []),
                    scan_interval_hours=existing.scan_interval_hours if existing else 24,
                )
            except ValidationError as exc:
                raise CommandError(
                    "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
                ) from None
            self.stdout.write(f"{'Registered' if created else 'Updated'} {account}.")
            return [account]
        if existing is None:
            raise CommandError(f"No account {account_id}; add --name to register it.")
        return [existing]

    def _run(self, scan: Scan) -> int:
        started = time.monotonic()
        self.stdout.write(f"Scanning {scan.account} (scan #{scan.pk})...")
        tty = self.stdout.isatty()
        scan = scans.run_scan_inline(
            scan.pk, lambda done, total, report: self._progress(done, total, report, tty)
        )
        if scan.state == Scan.State.FAILED and scan.regions_total == 0:
            self.stderr.write(self.style.ERROR(f"Scan failed: {scan.error}"))
            return 1
        if tty:
            self.stdout.write("")
        scan.refresh_from_db()
        elapsed = time.monotonic() - started
        style = {
            Scan.State.SUCCEEDED: self.style.SUCCESS,
            Scan.State.PARTIAL: self.style.WARNING,
        }.get(scan.state, self.style.ERROR)
        self.stdout.write(
            style(
                f"{scan.get_state_display()}: {scan.regions_done}/{scan.regions_total} units, "
                f"{scan.resources_seen} resources, {scan.findings_failed} failing of "
                f"{scan.findings_total} findings, in {elapsed:.1f}s."
            )
        )
        for row in scan.regions.all():
            if row.state == ScanRegion.State.FAILED:
                self.stderr.write(f"  {row.region}: {row.error}")
                continue
            for line in row.not_evaluated:
                self.stderr.write(f"  {row.region}: {line}")
            for region, error in sorted((row.skipped_regions or {}).items()):
                self.stderr.write(f"  {row.region}: left out {region}: {error}")
        return {Scan.State.SUCCEEDED: 0, Scan.State.PARTIAL: 2}.get(scan.state, 1)

    def _progress(self, done: int, total: int, report: scans.UnitReport, tty: bool) -> None:
        unit, state = report.unit, report.state
        if not tty:
            self.stdout.write(f"[{done}/{total}] {unit}: {state}")
            return
        width = 30
        filled = int(width * done / total)
        bar = "#" * filled + "." * (width - filled)
        self.stdout.write(f"\r[{bar}] {done}/{total} {unit:<16} {state:<10}", ending="")
        self.stdout.flush()
