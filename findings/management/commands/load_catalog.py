"""Load the benchmark catalogs shipped in findings/catalog (idempotent)."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from findings import services


class Command(BaseCommand):
    help = (
        "Create or update benchmarks and controls from catalog files, and the checks that "
        "evidence them; safe to run again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "files",
            nargs="*",
            type=Path,
            help="Catalog JSON files (default: every file shipped in findings/catalog).",
        )

    def handle(self, *args, files: list[Path], **options) -> None:
        paths = files or services.catalog_files()
        if not paths:
            raise CommandError("No catalog file found.")
        for path in paths:
            if not path.is_file():
                raise CommandError(f"{path}: no such file.")
            try:
                result = services.load_catalog(path)
            except ValidationError as exc:
                raise CommandError("\n".join(exc.messages)) from None
            self.stdout.write(
                f"{result.benchmark}: {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged."
            )
        try:
            counts = services.sync_checks()
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from None
        self.stdout.write("Checks: " + ", ".join(f"{n} {what}" for what, n in counts.items()) + ".")
