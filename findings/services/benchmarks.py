"""Turning benchmarks on and off: which ones the team reads and the scans evaluate."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from findings.models import Benchmark, Check


class UnknownBenchmark(ValueError):
    """A ``slug@version`` no loaded catalog has."""


def get_benchmark_by_name(name: str) -> Benchmark:
    """The loaded benchmark ``slug@version`` names; UnknownBenchmark lists the loaded ones."""
    slug, at, version = (name or "").strip().partition("@")
    benchmark = Benchmark.objects.filter(slug=slug, version=version).first() if at else None
    if benchmark is None:
        loaded = ", ".join(f"{b.slug}@{b.version}" for b in Benchmark.objects.all()) or "none"
        raise UnknownBenchmark(
            f"No benchmark {name!r} is loaded; name one as slug@version (loaded: {loaded})."
        )
    return benchmark


@transaction.atomic
def set_benchmark_enabled(benchmark: Benchmark, enabled: bool) -> bool:
    """Enable or disable ``benchmark``; True when it changed.

    Enabling needs no re-scan: findings belong to checks, so its controls read the findings
    already held at once; controls whose checks never ran say so until the next scan runs them
    (``findings.services.scans.mapped_checks`` adds them). The last enabled benchmark cannot be
    disabled: every page and alert reads one.
    """
    row = Benchmark.objects.select_for_update().get(pk=benchmark.pk)
    if row.enabled == enabled:
        benchmark.enabled = enabled
        return False
    if not enabled and not Benchmark.objects.filter(enabled=True).exclude(pk=row.pk).exists():
        raise ValidationError(
            f"{row} is the only enabled benchmark: enable another before disabling it."
        )
    row.enabled = enabled
    row.save(update_fields=["enabled"])
    benchmark.enabled = enabled
    return True


@dataclass
class BenchmarkSummary:
    """How a benchmark's controls stand with respect to what scans can and did decide."""

    benchmark: Benchmark
    controls: int = 0
    # Decided by checks that have all run at least once.
    evaluated: int = 0
    # Decided by a person: no check reads them.
    manual: int = 0
    # Automated with no check (no collector reads their service), or with a check no scan ran.
    not_evaluated: int = 0


def summarize_benchmarks() -> list[BenchmarkSummary]:
    """Every loaded benchmark with its control counts, in slug and version order."""
    from findings.models import Control
    from findings.queries.posture import get_pending_checks

    benchmarks = sorted(
        Benchmark.objects.all(), key=lambda b: (b.slug, Control.sort_key(b.version))
    )
    checks_of: dict[int, set[str]] = {}
    for control_id, check_id in Check.controls.through.objects.values_list(
        "control_id", "check__check_id"
    ):
        checks_of.setdefault(control_id, set()).add(check_id)
    pending = get_pending_checks()
    summaries = {b.pk: BenchmarkSummary(benchmark=b) for b in benchmarks}
    for control in Control.objects.only("pk", "benchmark_id", "automated"):
        summary = summaries[control.benchmark_id]
        summary.controls += 1
        checks = checks_of.get(control.pk, set())
        if not checks:
            if control.automated:
                summary.not_evaluated += 1
            else:
                summary.manual += 1
        elif checks & pending:
            summary.not_evaluated += 1
        else:
            summary.evaluated += 1
    return list(summaries.values())
