"""Write every finding as JSON or CSV, for auditors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cspm.csvcells import safe_csv_row
from findings.models import Check, Finding
from findings.queries import EXPORT_FIELDS, disabled_message, iter_findings_export
from findings.services.benchmarks import UnknownBenchmark, get_benchmark_by_name


class Command(BaseCommand):
    help = (
        "Write every finding (check id, control references, account, region, resource ARN and "
        "type, status, accepted or not, first and last seen) as JSON or CSV."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("--output", "-o", type=Path, help="File to write (default: stdout).")
        parser.add_argument(
            "--benchmark",
            metavar="SLUG@VERSION",
            help="Only the findings of its controls' checks, named by its refs (an enabled "
            "benchmark; default: every finding, named in every enabled benchmark).",
        )

    def handle(
        self, *args, format: str, output: Path | None, benchmark: str | None, **options
    ) -> None:
        if output is not None and not output.parent.is_dir():
            raise CommandError(f"{output.parent}: no such directory.")
        self.benchmark = None
        self.findings = None
        if benchmark:
            try:
                self.benchmark = get_benchmark_by_name(benchmark)
            except UnknownBenchmark as exc:
                raise CommandError(str(exc)) from None
            if not self.benchmark.enabled:
                raise CommandError(disabled_message(self.benchmark))
            self.findings = Finding.objects.filter(
                control_check__in=Check.objects.filter(controls__benchmark=self.benchmark)
            )
        stream = open(output, "w", newline="", encoding="utf-8") if output else _Raw(self.stdout)  # noqa: SIM115
        try:
            count = self._write(stream, format)
        finally:
            if output:
                stream.close()
        if output:
            self.stderr.write(f"Wrote {count} findings to {output}.")

    def _write(self, stream, format: str) -> int:
        count = 0
        if format == "csv":
            writer = csv.DictWriter(stream, fieldnames=EXPORT_FIELDS)
            writer.writeheader()
            for row in iter_findings_export(self.findings, benchmark=self.benchmark):
                writer.writerow(safe_csv_row(row))
                count += 1
            return count
        # A JSON array written row by row: a million findings never sit in memory at once.
        stream.write("[")
        for row in iter_findings_export(self.findings, benchmark=self.benchmark):
            stream.write(("," if count else "") + "\n" + json.dumps(row))
            count += 1
        stream.write("\n]\n")
        return count


class _Raw:
    """The command's stdout without the newline Django adds to every write."""

    def __init__(self, wrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")
