"""Ingest throughput into PostgreSQL: one million new check results, then a re-scan with 1% changed.

    .venv/bin/python bench/ingest.py [--resources 100000] [--checks 10]

Prints: new results per second for the first ingest, and seconds for the re-scan.
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
    setup_django()

    from django.db import connection, transaction
    from django.utils import timezone

    from findings.checks.base import ResourceRef, Result, Unit
    from findings.models import Check, CloudAccount, Control, Finding, Resource, Scan
    from findings.scanner import UnitOutcome
    from findings.services.ingest import ingest_unit

    account, _ = CloudAccount.objects.get_or_create(
        account_id="999900000001", defaults={"name": "bench"}
    )
    Finding.objects.filter(account=account).delete()
    Resource.objects.filter(account=account).delete()
    control = Control.objects.get(ref="5.6")
    check_ids = []
    for i in range(args.checks):
        check, _ = Check.objects.get_or_create(
            check_id=f"bench_check_{i}",
            defaults={"title": "bench", "service": "bench", "resource_type": "AWS::EC2::Instance"},
        )
        check.controls.add(control)
        check_ids.append(check.check_id)

    unit = Unit(account.account_id, "eu-west-1")
    resources = {}
    for i in range(args.resources):
        arn = f"arn:aws:ec2:eu-west-1:{account.account_id}:instance/i-{i:017x}"
        resources[arn] = ResourceRef(
            arn,
            "AWS::EC2::Instance",
            "eu-west-1",
            name=f"i-{i:017x}",
            tags={"Environment": "prod" if i % 2 else "dev"},
            configuration={
                "InstanceType": "t3.micro",
                "MetadataOptions": {"HttpTokens": "optional"},
            },
        )

    def results(flip: set[int]) -> list[Result]:
        out = []
        for r, arn in enumerate(resources):
            for c, check_id in enumerate(check_ids):
                fail = (r + c) % 3 == 0
                if (r * len(check_ids) + c) in flip:
                    fail = not fail
                out.append(
                    Result(
                        check_id,
                        arn,
                        "fail" if fail else "pass",
                        "HttpTokens is optional: IMDSv1 is still allowed"
                        if fail
                        else "IMDSv2 is required",
                        {"MetadataOptions": {"HttpTokens": "optional" if fail else "required"}},
                    )
                )
        return out

    total = args.resources * args.checks
    first = UnitOutcome(unit, resources, results(set()), 0, 0.0)
    scan1 = Scan.objects.create(account=account, state="running")
    t0 = time.perf_counter()
    with transaction.atomic():
        stats = ingest_unit(scan1, first, timezone.now())
    new_seconds = time.perf_counter() - t0
    assert stats.findings_new == total, (stats.findings_new, total)

    step = max(1, int(1 / args.changed))
    flip = set(range(0, total, step))
    second = UnitOutcome(unit, resources, results(flip), 0, 0.0)
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
