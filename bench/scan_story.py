"""Full scan of the story's simulated account across every region it reports.

    .venv/bin/python bench/scan_story.py [--workers 2]

Starts a moto server on loopback (behind the project's front door), seeds the story's web stack,
and scans it: first in this process unit after unit (the embedded path), then, with --workers N,
through N Celery worker processes on Redis (the production path), start to finished Scan.
Prints wall times and where the time goes (per collector, per phase).
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import time

from common import ROOT, reproduce, setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=0, help="also scan through N workers")
    args = parser.parse_args()
    setup_django()

    import boto3

    from findings.models import Scan
    from findings.scanner import run_unit
    from findings.services import register_account, scans
    from simulation.account import seed_story_stack, start_moto_server

    with start_moto_server() as server:
        story = seed_story_stack(server.endpoint_url, bucket_name="story-images")
        account, _ = register_account(
            account_id=story.account_id,
            name="story (bench)",
            endpoint_url=server.endpoint_url,
            scan_interval_hours=0,
        )
        regions = sorted(story.default_vpcs)
        print(f"simulated account: {len(regions)} regions + global")

        # Where the time goes: each unit collected and evaluated, per collector.
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
        per_collector: dict[str, float] = collections.defaultdict(float)
        calls = 0
        t0 = time.perf_counter()
        for unit in [*regions, "global"]:
            outcome = run_unit(session, story.account_id, unit, regions, server.endpoint_url)
            calls += outcome.api_calls
            for name, seconds in outcome.timings.items():
                per_collector[name] += seconds
        collect_seconds = time.perf_counter() - t0
        print(
            f"collect + evaluate, all units in one thread: {collect_seconds:.1f} s, "
            f"{calls} API calls"
        )
        top = sorted(per_collector.items(), key=lambda kv: -kv[1])
        print(
            "  per collector (s, summed over units): " + ", ".join(f"{k} {v:.1f}" for k, v in top)
        )

        scan = scans.start_scan(account, trigger=Scan.Trigger.COMMAND, dispatch=False)
        t0 = time.perf_counter()
        scan = scans.run_scan_inline(scan.pk)
        inline = time.perf_counter() - t0
        print(
            f"embedded path (one process, unit after unit): {inline:.1f} s "
            f"-> {scan.state}, {scan.findings_total} findings, {scan.findings_failed} failing"
        )

        if args.workers:
            redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
            env = {**os.environ, "CELERY_BROKER_URL": redis_url}
            worker = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "cspm",
                    "worker",
                    "-Q",
                    "scans,default",
                    "--concurrency",
                    str(args.workers),
                    "--loglevel",
                    "WARNING",
                    "--without-gossip",
                    "--without-mingle",
                ],
                cwd=ROOT,
                env=env,
            )
            try:
                from cspm.celery import app

                app.conf.update(broker_url=redis_url, task_always_eager=False)
                deadline = time.monotonic() + 60
                while not app.control.ping(timeout=1) and time.monotonic() < deadline:
                    pass
                # Warm the workers' clients once, as a long-running deployment would be.
                warm = scans.start_scan(account)
                _wait(warm)
                scan = scans.start_scan(account)
                t0 = time.perf_counter()
                _wait(scan)
                print(
                    f"{args.workers} Celery workers, start to finished Scan: "
                    f"{time.perf_counter() - t0:.1f} s -> {scan.state}"
                )
            finally:
                worker.terminate()
                worker.wait(timeout=30)
    reproduce("scan_story.py", f"--workers {args.workers}" if args.workers else "")


def _wait(scan) -> None:
    while True:
        scan.refresh_from_db()
        if scan.is_finished:
            return
        time.sleep(0.1)


if __name__ == "__main__":
    main()
