"""List the loaded benchmarks, and enable or disable them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from findings.services.benchmarks import (
    UnknownBenchmark,
    get_benchmark_by_name,
    set_benchmark_enabled,
    summarize_benchmarks,
)


class Command(BaseCommand):
    help = (
        "List the loaded benchmarks (enabled or not, controls evaluated, manual and not "
        "evaluated yet); --enable / --disable SLUG@VERSION switch one. Enabling needs no "
        "re-scan for checks that already ran; the next scan runs the others."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--enable", action="append", default=[], metavar="SLUG@VERSION", help="Enable one."
        )
        parser.add_argument(
            "--disable", action="append", default=[], metavar="SLUG@VERSION", help="Disable one."
        )

    def handle(self, *args, enable: list[str], disable: list[str], **options) -> None:
        try:
            # Resolve every name first: one unknown name changes nothing.
            changes = [(get_benchmark_by_name(n), True) for n in enable] + [
                (get_benchmark_by_name(n), False) for n in disable
            ]
        except UnknownBenchmark as exc:
            raise CommandError(str(exc)) from None
        for benchmark, enabled in changes:
            try:
                changed = set_benchmark_enabled(benchmark, enabled)
            except ValidationError as exc:
                raise CommandError("\n".join(exc.messages)) from None
            state = "enabled" if enabled else "disabled"
            self.stdout.write(
                f"{benchmark.slug}@{benchmark.version}: {state}"
                + ("." if changed else " already, nothing changed.")
            )
        summaries = summarize_benchmarks()
        if not summaries:
            self.stdout.write("No benchmark is loaded: run `manage.py load_catalog`.")
            return
        for s in summaries:
            b = s.benchmark
            self.stdout.write(
                f"{'enabled ' if b.enabled else 'disabled'}  {b.slug}@{b.version}  {b.name}: "
                f"{s.controls} controls, {s.evaluated} evaluated, {s.manual} manual, "
                f"{s.not_evaluated} not evaluated"
            )
