"""Every benchmark enabled at a million findings: the time to enable each, and its overview
beside the triage bench's overview of the default benchmark.

    .venv/bin/python bench/benchmarks.py [--resources 100000] [--checks 10] [--runs 5] [--reuse]

Builds (or with --reuse, keeps) the triage bench's estate (``data.build_triage_estate``:
resources × checks findings of every catalog's checks, 4 accounts × 4 regions, a zone and
five acceptances on the default benchmark) on PostgreSQL. Then it removes every benchmark but
the default one (none of them holds a decision) and enables each catalog file in
``findings/catalog/`` in turn, timing what enabling does: load its catalog, sync the checks
(link them to the new controls), set ``Benchmark.enabled``. No re-scan: the findings are the
checks' and every benchmark reads them at once (``Control.check_ids``).

Per benchmark, median of ``--runs``, in this process (the Django test client, logged in as the
bench admin; server time from the app's ``Server-Timing`` header):

- the posture query (``get_control_posture``) with its counts uncached, then cached;
- the overview page ``/?benchmark=<id>`` with nothing cached (the first view after a change,
  which counts), then cached (any later view);
- the Findings page filtered by the benchmark, and by the benchmark and failing status.

Beside each, the same figure of the triage bench's overview (``/``, the default benchmark, as
``triage_pages.py`` times it), measured here on the same estate, and the ratio. Nothing is
asserted: the figures are printed.

Redis: ``BENCH_CACHE_URL`` (the cache, flushed between runs; default db 14) and
``BENCH_BROKER_URL`` (where writes queue their recount, purged: no worker runs; default db 13).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from common import median, reproduce, setup_django
from data import BENCH_USER, PASSWORD, build_triage_estate


@dataclass
class Figures:
    label: str
    enable_ms: float | None = None
    note: str = ""
    controls: int = 0
    evaluated: int = 0
    ms: dict[str, float] = field(default_factory=dict)


def timed(action: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    action()
    return (time.perf_counter() - t0) * 1000


def server_ms(client, path: str) -> float:
    """The app's own time for one GET (``Server-Timing``), as the triage bench reads it."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return float(re.search(r"dur=([0-9.]+)", response["Server-Timing"]).group(1))


def catalog_identity(path: Path) -> tuple[str, str]:
    meta = json.loads(path.read_text(encoding="utf-8"))["benchmark"]
    return meta["slug"], meta["version"]


def remove_benchmarks(keep_pk: int) -> list[str]:
    """Delete every loaded benchmark but ``keep_pk`` (their controls and check links go with
    them; findings stay), so that enabling them is timed from scratch. One a decision refers
    to (an acceptance, a fix plan, an attestation) is kept and enabled again instead."""
    from django.db import transaction
    from django.db.models import ProtectedError

    from findings.models import Benchmark

    kept = []
    for benchmark in Benchmark.objects.exclude(pk=keep_pk):
        try:
            with transaction.atomic():
                benchmark.delete()
        except ProtectedError:
            kept.append(f"{benchmark.slug}@{benchmark.version}")
    return kept


def enable(path: Path):
    """What enabling a benchmark does: load its catalog, link the checks, switch it on."""
    from findings.models import Benchmark
    from findings.services import load_catalog, sync_checks

    benchmark = load_catalog(path).benchmark
    sync_checks()
    Benchmark.objects.filter(pk=benchmark.pk).update(enabled=True)
    return benchmark


def measure(figures: Figures, benchmark, path: str, client, runs: int) -> None:
    """Median figures of one benchmark's posture query and pages (``path``: its overview)."""
    from django.core.cache import cache

    from findings.queries import PostureScope, get_control_posture, summarize_posture

    def cold(action: Callable[[], float]) -> float:
        samples = []
        for _ in range(runs):
            cache.clear()  # counts and the rendered table: the first view after a change
            samples.append(action())
        return median(samples)

    def warm(action: Callable[[], float]) -> float:
        action()
        return median([action() for _ in range(runs)])

    def posture() -> float:
        return timed(lambda: get_control_posture(benchmark, scope=PostureScope()))

    rows = get_control_posture(benchmark, scope=PostureScope())
    figures.controls = len(rows)
    figures.evaluated = summarize_posture(rows).evaluated
    figures.ms["posture, uncached"] = cold(posture)
    figures.ms["posture, cached"] = warm(posture)
    figures.ms["overview, uncached"] = cold(lambda: server_ms(client, path))
    figures.ms["overview, cached"] = warm(lambda: server_ms(client, path))
    figures.ms["findings list"] = warm(
        lambda: server_ms(client, f"/findings/?benchmark={benchmark.pk}")
    )
    figures.ms["findings list, failing"] = warm(
        lambda: server_ms(client, f"/findings/?benchmark={benchmark.pk}&status=fail")
    )


# Short column names of the figures, in the order ``measure`` takes them.
COLUMNS = {
    "posture, uncached": "posture",
    "posture, cached": "posture $",
    "overview, uncached": "overview",
    "overview, cached": "overview $",
    "findings list": "findings",
    "findings list, failing": "findings fail",
}


def report(reference: Figures, rows: list[Figures]) -> None:
    print(
        "\nMedians in ms, and × the triage bench's figure (the overview `/` of the default "
        f"benchmark, {reference.label}, before any other is enabled):"
    )
    print(
        "  posture: get_control_posture, counts uncached; overview: the page, nothing cached "
        "(the first view after a change); $: cached (later views);\n  findings: "
        "/findings/?benchmark=<id>, and with &status=fail; enable: load + sync checks + enabled"
    )
    head = f"  {'benchmark':<27} {'enable':>7} {'ctrls':>5} {'evaluated':>9}"
    print(head + "".join(f" {name:>14}" for name in COLUMNS.values()))
    print(
        f"  {'triage reference':<27} {'':>7} {reference.controls:>5} {reference.evaluated:>9,}"
        + "".join(f" {reference.ms[c]:>7.1f}       " for c in COLUMNS)
    )
    worst = 0.0
    for row in rows:
        cells = []
        for c in COLUMNS:
            ratio = row.ms[c] / reference.ms[c] if reference.ms[c] else float("nan")
            if c.endswith("uncached"):
                worst = max(worst, ratio)
            cells.append(f" {row.ms[c]:>7.1f} ×{ratio:<5.2f}")
        print(
            f"  {row.label:<27} {row.enable_ms:>7.0f} {row.controls:>5} {row.evaluated:>9,}"
            + "".join(cells)
        )
    print(f"\n  highest ratio of an uncached figure to the triage one: ×{worst:.2f}")
    for row in rows:
        if row.note:
            print(f"  {row.label}: {row.note}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--checks", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--reuse", action="store_true", help="keep an estate built before")
    args = parser.parse_args()
    os.environ["CACHE_URL"] = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/14")
    os.environ["CELERY_BROKER_URL"] = os.environ.get(
        "BENCH_BROKER_URL", "redis://127.0.0.1:6379/13"
    )
    # The pages as production serves them (no debug query log), to the test client's host.
    os.environ["DEBUG"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    setup_django(fresh=not args.reuse)

    from django.db import connection
    from django.test import Client

    from cspm.celery import app
    from findings.models import Benchmark, Finding
    from findings.queries import get_default_benchmark
    from findings.services import catalog_files

    if not Finding.objects.exists():
        build_triage_estate(args.resources, args.checks)
    total = Finding.objects.count()
    files = catalog_files()
    default = get_default_benchmark()
    print(f"scale: {total:,} findings; {len(files)} catalog files; default benchmark {default}")

    client = Client()
    assert client.login(username=BENCH_USER, password=PASSWORD), "login failed"

    # The triage bench's overview figure: `/`, the default benchmark, before any other is
    # enabled (as triage_pages.py finds the estate).
    kept = remove_benchmarks(default.pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    reference = Figures(label=f"{default.name} v{default.version}")
    measure(reference, default, "/", client, args.runs)

    by_identity = {(b.slug, b.version): b for b in Benchmark.objects.all()}
    rows: list[Figures] = []
    for path in files:
        identity = catalog_identity(path)
        loaded = identity in by_identity
        if loaded:
            Benchmark.objects.filter(pk=by_identity[identity].pk).update(enabled=False)
        t0 = time.perf_counter()
        benchmark = enable(path)
        enable_ms = (time.perf_counter() - t0) * 1000
        figures = Figures(
            label=f"{benchmark.slug}@{benchmark.version}",
            enable_ms=enable_ms,
            note="already loaded (it holds decisions): enabled again" if loaded else "",
        )
        rows.append(figures)
    app.control.purge()  # recounts queued by the writes: no worker reads this broker
    enabled = {f"{b.slug}@{b.version}": b for b in Benchmark.objects.filter(enabled=True)}
    print(
        f"enabled {len(enabled)} benchmarks from {len(files)} catalog files"
        + (f" ({', '.join(kept)} kept: decisions refer to them)" if kept else "")
    )
    for figures in rows:
        benchmark = enabled[figures.label]
        measure(figures, benchmark, f"/?benchmark={benchmark.pk}", client, args.runs)
    report(reference, rows)
    reproduce("benchmarks.py", "--reuse" if args.reuse else "")


if __name__ == "__main__":
    main()
