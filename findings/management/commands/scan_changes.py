"""Print what a scan changed: new failures, fixes, gone resources, stale acceptances."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from findings.models import Scan, ScanChange
from findings.queries import ChangeRow, get_scan_change_counts, get_scan_changes


def _record(row: ChangeRow) -> dict[str, object]:
    return {
        "kind": row.kind,
        "severity": row.severity,
        "accepted": row.accepted,
        "controls": [c.ref for c in row.controls],
        "check_id": row.check_id or None,
        "finding_id": row.finding_id,
        "resource_id": row.resource_id,
        "resource_name": row.resource_name or None,
        "resource_arn": row.resource_arn or None,
        "resource_type": row.resource_type or None,
        "region": row.region or None,
        "account_id": row.account_id or None,
        "evidence": row.evidence_summary or None,
        "acceptance_id": row.acceptance_id,
        "acceptance": row.acceptance_label or None,
        "at": row.at.isoformat(),
    }


class Command(BaseCommand):
    help = (
        "Print what scan SCAN_ID changed since the previous successful scan of each of its "
        "units: findings newly failing, fixed or gone, and acceptances no longer needed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("scan_id", type=int, metavar="SCAN_ID")
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument(
            "--kind",
            action="append",
            choices=ScanChange.Kind.values,
            help="Only these kinds (repeat the option for several; default: all).",
        )

    def handle(self, *args, scan_id: int, format: str, kind: list[str] | None, **options):
        scan = Scan.objects.select_related("account").filter(pk=scan_id).first()
        if scan is None:
            raise CommandError(f"There is no scan #{scan_id}.")
        rows = get_scan_changes(scan, kinds=kind)
        counts = get_scan_change_counts(scan)
        if format == "json":
            document = {
                "scan": {
                    "id": scan.pk,
                    "account_id": scan.account.account_id,
                    "account": scan.account.name,
                    "state": scan.state,
                    "finished_at": scan.finished_at.isoformat() if scan.finished_at else None,
                },
                "counts": counts,
                "changes": [_record(row) for row in rows],
            }
            self.stdout.write(json.dumps(document, indent=2))
            return
        self._text(scan, counts, rows)

    def _text(self, scan: Scan, counts: dict, rows: list[ChangeRow]) -> None:
        write = self.stdout.write
        write(f"Scan #{scan.pk} of {scan.account} ({scan.get_state_display()})")
        if not scan.is_finished:
            write("The scan is still running: its changes so far.")
        if counts.get("baseline_units"):
            units = ", ".join(counts["baseline_units"])
            write(f"First scan of {units}: a baseline, not changes.")
        write(
            f"{counts['new_failure']} newly failing ({counts['accepted']} of them accepted), "
            f"{counts['fixed']} fixed, {counts['gone']} gone, "
            f"{counts['stale_acceptance']} acceptances no longer needed."
        )
        order = ScanChange.Kind.values
        current = None
        # Grouped by kind; within each, most severe first (a stable sort keeps that order).
        for row in sorted(rows, key=lambda r: order.index(r.kind)):
            if row.kind != current:
                current = row.kind
                write("")
                write(f"{row.kind_display}:")
            if row.acceptance_id is not None:
                write(f"  acceptance #{row.acceptance_id}: {row.acceptance_label}")
                continue
            accepted = " (accepted)" if row.accepted else ""
            write(
                f"  [{row.severity or '-'}] {row.control_refs or row.check_id} "
                f"{row.resource_label} ({row.resource_type}, {row.region}){accepted}"
            )
            if row.evidence_summary:
                write(f"      {row.evidence_summary}")
