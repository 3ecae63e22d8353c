"""Scan of a simulated account with many resources: 1,000 buckets, 2,000 instances, 3 regions.

    .venv/bin/python bench/scan_scale.py [--buckets 1000] [--instances 2000]

Prints resources per second and API calls per resource, per unit and in total. The S3 collector
needs a few calls per bucket (policy, versioning, public access block, logging, encryption,
tags: S3 has no list call that answers them); every EC2 resource comes from list calls.
"""

from __future__ import annotations

import argparse
import time

from common import reproduce, setup_django

REGIONS = ["eu-west-1", "us-east-1", "us-west-2"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--buckets", type=int, default=1000)
    parser.add_argument("--instances", type=int, default=2000)
    args = parser.parse_args()
    setup_django()

    import boto3

    from findings.models import Scan
    from findings.scanner import run_unit
    from findings.services import register_account, scans
    from simulation.account import seed_scale, start_moto_server

    with start_moto_server() as server:
        t0 = time.perf_counter()
        seed_scale(server.endpoint_url, args.buckets, args.instances, REGIONS)
        print(
            f"seeded {args.buckets} buckets and {args.instances} instances in "
            f"{len(REGIONS)} regions in {time.perf_counter() - t0:.1f} s"
        )
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
        total_resources = total_calls = 0
        total_seconds = 0.0
        for unit in [*REGIONS, "global"]:
            outcome = run_unit(session, "123456789012", unit, REGIONS, server.endpoint_url)
            n = len(outcome.resources)
            total_resources += n
            total_calls += outcome.api_calls
            total_seconds += outcome.seconds
            print(
                f"  {unit:<10} {n:>5} resources, {outcome.api_calls:>5} calls "
                f"({outcome.api_calls / max(n, 1):.2f}/resource), {outcome.seconds:.1f} s, "
                f"{n / outcome.seconds:,.0f} resources/s; by collector: {outcome.timings}"
            )
        print(
            f"collect + evaluate: {total_resources} resources, {total_calls} API calls = "
            f"{total_calls / total_resources:.2f} calls/resource, "
            f"{total_resources / total_seconds:,.0f} resources/s"
        )

        account, _ = register_account(
            account_id="123456789012",
            name="scale (bench)",
            endpoint_url=server.endpoint_url,
            regions=REGIONS,
            scan_interval_hours=0,
        )
        scan = scans.start_scan(account, trigger=Scan.Trigger.COMMAND, dispatch=False)
        t0 = time.perf_counter()
        scan = scans.run_scan_inline(scan.pk)
        seconds = time.perf_counter() - t0
        print(
            f"whole scan with ingest (one process): {seconds:.1f} s, {scan.state}, "
            f"{scan.resources_seen} resources = {scan.resources_seen / seconds:,.0f} "
            f"resources/s, {scan.findings_total} findings"
        )
    reproduce("scan_scale.py", f"--buckets {args.buckets} --instances {args.instances}")


if __name__ == "__main__":
    main()
