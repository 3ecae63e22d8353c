"""Ingest throughput into PostgreSQL: one million new check results, then a re-scan with 1% changed.

    .venv/bin/python bench/ingest.py [--resources 100000] [--checks 10]

Prints: new results per second for the first ingest, and seconds for the re-scan, with the
time per phase (resources, load, compare, write, history, zones and coverage).
"""

from __future__ import annotations

import argparse
import time

from common import reproduce, setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--checks", type=int, default=10)
    parser.add_argument("--changed", type=float, default=0.01)
    args = parser.parse_args()
    setup_django(fresh=True)

    from data import resources_and_checks, results
    from django.db import connection, transaction
    from django.utils import timezone

    from findings.models import Scan
    from findings.scanner import UnitOutcome
    from findings.services.ingest import ingest_unit

    account, check_ids, refs, unit = resources_and_checks(
        "999900000001", args.resources, args.checks
    )
    total = args.resources * args.checks
    first = UnitOutcome(unit, refs, results(refs, check_ids), 0, 0.0)
    scan1 = Scan.objects.create(account=account, state="running")
    t0 = time.perf_counter()
    with transaction.atomic():
        stats = ingest_unit(scan1, first, timezone.now())
    new_seconds = time.perf_counter() - t0
    assert stats.findings_new == total, (stats.findings_new, total)

    # Scans are hours apart: autovacuum has vacuumed and analyzed the new rows by the next one
    # (without it, the first read after a bulk load also pays for setting hint bits).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE findings_finding, findings_resource")
    step = max(1, int(1 / args.changed))
    flip = frozenset(range(0, total, step))
    second = UnitOutcome(unit, refs, results(refs, check_ids, flip), 0, 0.0)
    scan2 = Scan.objects.create(account=account, state="running")
    t0 = time.perf_counter()
    with transaction.atomic():
        stats2 = ingest_unit(scan2, second, timezone.now())
    rescan_seconds = time.perf_counter() - t0
    assert stats2.findings_changed == len(flip), (stats2.findings_changed, len(flip))

    print(
        f"database: {connection.vendor}, {args.resources:,} resources x {args.checks} checks "
        f"= {total:,} results in one unit"
    )
    print(f"first ingest (all new): {new_seconds:.2f} s = {total / new_seconds:,.0f} results/s")
    print(f"  phases (s): {stats.timings}")
    print(
        f"re-scan with {len(flip):,} changed ({args.changed:.0%}): {rescan_seconds:.2f} s "
        f"({stats2.findings_resolved:,} resolved, {stats2.findings_reopened:,} reopened)"
    )
    print(f"  phases (s): {stats2.timings}")
    reproduce("ingest.py", f"--resources {args.resources} --checks {args.checks}")


if __name__ == "__main__":
    main()
