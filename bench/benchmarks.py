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

Per benchmark, median of ``--runs`` (three times as many for the cached figures), in this
process (the Django test client, logged in as the bench admin; server time from the app's
``Server-Timing`` header):

- the posture query (``get_control_posture``) with its counts uncached, then cached;
- the overview page ``/?benchmark=<id>`` with nothing cached (the first view after a change,
  which counts), then cached (any later view);
- the Findings page filtered by the benchmark, and by the benchmark and failing status (the
  triage bench's: ``/findings/``, every benchmark's findings, and failing).

Beside each, the same figure of the triage bench's overview (``/``, the default benchmark, as
``triage_pages.py`` times it, with every catalog loaded as it has them), measured here on the
same estate in the same turns (run 1 of each, then run 2..., each turn starting with another
benchmark: a shared machine's load falls on all alike), and the ratio. Nothing is asserted:
the figures are printed. The catalog tables are not analysed after enabling: the views right
after a benchmark is enabled are the ones timed.

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


@dataclass
class Target:
    figures: Figures
    benchmark: object
    overview: str  # the overview's path
    findings: str  # the Findings page's path (a query string follows)


def measure(targets: list[Target], client, runs: int) -> None:
    """Median figures of each target, taken in turns: run 1 of every benchmark, then run 2...,
    so that the load of a shared machine falls on all alike."""
    from django.core.cache import cache

    from findings.queries import PostureScope, get_control_posture, summarize_posture

    def posture(target: Target) -> float:
        return timed(lambda: get_control_posture(target.benchmark, scope=PostureScope()))

    def overview(target: Target) -> float:
        return server_ms(client, target.overview)

    def findings(target: Target) -> float:
        return server_ms(client, target.findings)

    def failing(target: Target) -> float:
        joint = "&" if "?" in target.findings else "?"
        return server_ms(client, f"{target.findings}{joint}status=fail")

    for target in targets:
        rows = get_control_posture(target.benchmark, scope=PostureScope())
        target.figures.controls = len(rows)
        target.figures.evaluated = summarize_posture(rows).evaluated
    kinds = [
        ("posture, uncached", posture, True),
        ("posture, cached", posture, False),
        ("overview, uncached", overview, True),
        ("overview, cached", overview, False),
        ("findings list", findings, False),
        ("findings list, failing", failing, False),
    ]
    for name, action, uncached in kinds:
        samples: dict[int, list[float]] = {i: [] for i in range(len(targets))}
        if not uncached:
            for target in targets:
                action(target)  # counts and the rendered table cached
        # Cached figures are short and noisier on a shared machine: three times the runs.
        for run in range(runs if uncached else 3 * runs):
            # Each turn starts with another benchmark: none always pays for coming first.
            turn = list(range(len(targets)))
            turn = turn[run % len(turn) :] + turn[: run % len(turn)]
            for i in turn:
                target = targets[i]
                if uncached:
                    cache.clear()  # counts and the rendered table: the first view after a change
                samples[i].append(action(target))
        for i, target in enumerate(targets):
            target.figures.ms[name] = median(samples[i])


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
        f"benchmark, {reference.label}):"
    )
    print(
        "  posture: get_control_posture, counts uncached; overview: the page, nothing cached "
        "(the first view after a change); $: cached (later views);\n  findings: "
        "/findings/?benchmark=<id> (the triage bench's: /findings/), and with status=fail; "
        "enable: load + sync checks + enabled"
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

    kept = remove_benchmarks(default.pk)
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
    # The triage bench's overview figure: `/`, the default benchmark, every catalog loaded (as
    # triage_pages.py finds its estate), taken in the same turns as each benchmark's.
    reference = Figures(label=f"{default.name} v{default.version}")
    targets = [Target(reference, default, "/", "/findings/")]
    for figures in rows:
        pk = enabled[figures.label].pk
        targets.append(
            Target(
                figures, enabled[figures.label], f"/?benchmark={pk}", f"/findings/?benchmark={pk}"
            )
        )
    measure(targets, client, args.runs)
    report(reference, rows)
    scale = f"--resources {args.resources} --checks {args.checks} --runs {args.runs}"
    reproduce("benchmarks.py", scale + (" --reuse" if args.reuse else ""))


if __name__ == "__main__":
    main()
