"""Triage pages at scale: the posture overview, a control page, and the Findings and Resources
pages (search, sort, filters) over one million findings.

    .venv/bin/python bench/triage_pages.py [--resources 100000] [--checks 10] [--users 20]
                                           [--seconds 20] [--reuse]

Builds (or with --reuse, keeps) an estate of resources × checks findings across 4 accounts ×
4 regions on PostgreSQL, a zone and acceptances, then serves the app with gunicorn on loopback
(Redis as the shared cache, as in production) and measures each page's server time (the app's
own Server-Timing header) and the client's latency: first one user at a time, then ``--users``
concurrent users for ``--seconds``.

Also the first overview after a change (an acceptance edited through the services), ``--changes``
times each: without a Celery worker, the first view recounts the posture itself (the cold
recount); with a real worker process, the recount queued on commit runs in the background, the
bench waits until its counts are cached and then times the view a user opening the page sees.

Redis: ``BENCH_CACHE_URL`` (the shared cache, flushed; default db 14) and ``BENCH_BROKER_URL``
(Celery's broker, purged; default db 13).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import ROOT, median, p95, reproduce, setup_django, start_worker, stop_worker, wait_for
from data import PASSWORD, build_triage_estate


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def busiest_control():
    """The control with the most findings: the heaviest control page."""
    from django.db.models import Count

    from findings.models import Control

    return Control.objects.annotate(n=Count("checks__findings")).order_by("-n").first()


class Client:
    def __init__(self, base: str) -> None:
        import requests

        self.base = base
        self.session = requests.Session()
        page = self.session.get(f"{base}/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = self.session.post(
            f"{base}/login/",
            data={"username": "bench-admin", "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/login/"},
        )
        assert response.url.rstrip("/") == base, "login failed"

    def get(self, path: str) -> tuple[float, float]:
        """(server ms, client ms) of one GET."""
        t0 = time.perf_counter()
        response = self.session.get(self.base + path)
        client_ms = (time.perf_counter() - t0) * 1000
        response.raise_for_status()
        server_ms = float(re.search(r"dur=([0-9.]+)", response.headers["Server-Timing"]).group(1))
        return server_ms, client_ms


def serve(port: int, workers: int, threads: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable)),
            "-m",
            "gunicorn",
            "cspm.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread" if threads > 1 else "sync",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    import requests

    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
            return process
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def figures(label: str, samples: list[tuple[float, float]]) -> None:
    server = [s for s, _ in samples]
    client = [c for _, c in samples]
    print(
        f"  {label:<44} n={len(samples):>5}  server median {median(server):7.1f} ms"
        f"  p95 {p95(server):7.1f} ms   client median {median(client):7.1f} ms"
        f"  p95 {p95(client):7.1f} ms"
    )


def change(acceptance, admin) -> None:
    """One write that moves the posture fingerprint and queues a recount on commit."""
    from acceptances import services

    services.update_acceptance(acceptance, actor=admin, justification=f"bench {time.time()}")


def first_views_with_worker(
    client: Client, acceptance, admin, changes: int
) -> tuple[list[tuple[float, float]], list[float]]:
    """With a real worker: per change, the seconds until the recount's counts are cached, and
    the first overview view after that."""
    from django.core.cache import cache

    from cspm.celery import app
    from findings.queries import PostureScope, get_default_benchmark, posture_cache_key
    from findings.services.posture import RECOUNT_PENDING_KEY

    app.control.purge()  # recounts queued while no worker ran
    cache.delete(RECOUNT_PENDING_KEY)  # ... and the mark that one waits, or none would queue
    benchmark = get_default_benchmark()
    views: list[tuple[float, float]] = []
    waits: list[float] = []
    worker = start_worker({}, Path(tempfile.mkdtemp(prefix="bench-worker-")) / "worker.log")
    try:
        for _ in range(changes):
            change(acceptance, admin)
            key = posture_cache_key(benchmark, PostureScope())
            waits.append(wait_for(lambda key=key: cache.get(key) is not None, 300, "the recount"))
            views.append(client.get("/"))
    finally:
        stop_worker(worker)
    return views, waits


def load(base: str, pages: dict[str, str], users: int, seconds: int, think: float) -> None:
    """``users`` sessions, each looping over the pages for ``seconds``, pausing ``think``."""
    pause = f", {think:g} s between pages" if think else ", no pause between pages"
    print(f"\n{users} concurrent users for {seconds} s{pause}:")
    results: dict[str, list[tuple[float, float]]] = {label: [] for label in pages}
    clients = [Client(base) for _ in range(users)]
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def user(index: int) -> None:
        me = clients[index]
        labels = list(pages)
        i = index
        while time.monotonic() < stop:
            label = labels[i % len(labels)]
            sample = me.get(pages[label])
            with lock:
                results[label].append(sample)
            i += 1
            if think:
                time.sleep(think)

    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for label, samples in results.items():
        figures(label, samples)
    every = [sample for samples in results.values() for sample in samples]
    figures("all pages", every)
    print(f"  throughput: {len(every) / seconds:.0f} pages/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--checks", type=int, default=10)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--think",
        default="0,1",
        help="seconds each user pauses between pages, one load phase per value (0: flat out)",
    )
    parser.add_argument(
        "--changes", type=int, default=10, help="changes timed, without and with a worker"
    )
    parser.add_argument("--reuse", action="store_true", help="keep an estate built before")
    args = parser.parse_args()
    # The bench, gunicorn and the worker share the cache and the broker, as in production.
    os.environ["CACHE_URL"] = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/14")
    os.environ["CELERY_BROKER_URL"] = os.environ.get(
        "BENCH_BROKER_URL", "redis://127.0.0.1:6379/13"
    )
    setup_django(fresh=not args.reuse)

    from django.contrib.auth.models import User

    from acceptances.models import RiskAcceptance, Zone
    from findings.models import Finding

    if not Finding.objects.exists():
        build_triage_estate(args.resources, args.checks)
    total = Finding.objects.count()
    control = busiest_control()
    zone_id = Zone.objects.get(name="shards 0-2").pk
    # A distinctive word of the busiest control's title (a search a reader would type).
    title_word = max(control.title.split(), key=len).strip(".,'\"()")
    print(
        f"scale: {total:,} findings; control page {control.ref} "
        f"({Finding.objects.filter(control_check__controls=control).count():,} findings)"
    )
    import redis

    redis.Redis.from_url(os.environ["CACHE_URL"]).flushdb()

    port = free_port()
    server = serve(port, args.workers, args.threads)
    base = f"http://127.0.0.1:{port}"
    pages = {
        "overview": "/",
        "overview, zone filter": f"/?zone={zone_id}",
        f"control {control.ref} (failing, page 1)": f"/controls/{control.pk}/",
        f"control {control.ref} (zone filter)": (
            f"/controls/{control.pk}/?zone={zone_id}&status=all"
        ),
        "findings (page 1)": "/findings/",
        "findings, search a name": "/findings/?q=web-1-eu-west-1-42",
        "findings, search a tag": "/findings/?q=Shard%3D3&status=fail",
        f"findings, search '{title_word}'": f"/findings/?q={title_word}",
        "findings, sorted by resource": "/findings/?sort=resource",
        "findings, sorted by first seen desc": "/findings/?sort=-first_seen",
        "findings, zone filter": f"/findings/?zone={zone_id}&status=fail",
        "resources (page 1)": "/resources/",
        "resources, failing, by name": "/resources/?status=fail&sort=name",
    }
    try:
        client = Client(base)
        admin = User.objects.get(username="bench-admin")
        acceptance = RiskAcceptance.objects.filter(state="active").first()
        # No worker: the recount queued on commit waits in the broker; the first view counts.
        cold: list[tuple[float, float]] = []
        for _ in range(args.changes):
            change(acceptance, admin)
            cold.append(client.get("/"))
        warm, waits = first_views_with_worker(client, acceptance, admin, args.changes)
        print("\nOne user at a time:")
        figures("overview, 1st view after a change, no worker", cold)
        figures("overview, 1st view after worker's recount", warm)
        print(
            f"  {'recount in the worker (commit to cached)':<44} n={len(waits):>5}"
            f"  median {median(waits) * 1000:7.1f} ms  p95 {p95(waits) * 1000:7.1f} ms"
        )
        for label, path in pages.items():
            client.get(path)  # warm
            figures(label, [client.get(path) for _ in range(30)])

        for think in [float(t) for t in args.think.split(",")]:
            load(base, pages, args.users, args.seconds, think)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    reproduce("triage_pages.py", "--reuse" if args.reuse else "")


if __name__ == "__main__":
    main()
