"""Write the risk register as of a date, as an auditor asks for it: PDF, CSV, JSON or a bundle."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from acceptances import register_export
from acceptances.register import parse_as_of, rebuild


class Command(BaseCommand):
    help = (
        "Rebuild every acceptance as it stood at --at (default now) from the history and write "
        "the register as a PDF, CSV, JSON, or a bundle (zip of the three with a manifest of "
        "SHA-256 digests)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--at",
            default="",
            help="The date and time, e.g. 2026-06-30T00:00 (site time zone unless an offset is "
            "given) or a day (its end); default now.",
        )
        parser.add_argument("--format", required=True, help="pdf, csv, json or bundle.")
        parser.add_argument("--output", "-o", required=True, type=Path, help="File to write.")

    def handle(self, *args, at: str, format: str, output: Path, **options) -> None:
        if format not in register_export.FORMATS:
            raise CommandError(
                f"--format: unknown format '{format}'; use pdf, csv, json or bundle."
            )
        try:
            moment = parse_as_of(at)
        except ValidationError as exc:
            raise CommandError(f"--at: {' '.join(exc.message_dict['at'])}") from None
        output = Path(output)
        if not output.parent.is_dir():
            raise CommandError(f"--output: {output.parent} is not a directory.")
        if output.is_dir():
            raise CommandError(f"--output: {output} is a directory; name a file.")
        register = rebuild(moment)
        body = register_export.render(register, format)
        output.write_bytes(body)
        self.stderr.write(
            f"Wrote the register as of {moment.isoformat()} ({len(register.entries)} "
            f"acceptances, {len(body):,} bytes) to {output}."
        )
