"""Shared set-up for the benchmarks: a dedicated PostgreSQL database, migrated and loaded.

Benchmarks never run in CI. Each prints its figures and the command that reproduces them.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/cspm_bench"


def setup_django(database_url: str | None = None, fresh: bool = False) -> None:
    """Point Django at the benchmark database (created if missing, or anew when ``fresh``),
    migrate, load the catalog."""
    url = database_url or os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cspm.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    if url.startswith("postgres"):
        import psycopg

        name = url.rsplit("/", 1)[-1]
        admin = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            if fresh:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_catalog", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def reproduce(script: str, args: str = "") -> None:
    print(f"\nReproduce: .venv/bin/python bench/{script} {args}".rstrip())


def wait_for(condition: Callable[[], object], seconds: float, what: str) -> float:
    """Poll ``condition`` until it is true, at most ``seconds``; the seconds it took."""
    t0 = time.monotonic()
    while not condition():
        if time.monotonic() - t0 > seconds:
            raise RuntimeError(f"{what}: not within {seconds:g} s")
        time.sleep(0.02)
    return time.monotonic() - t0


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    """A real ``celery worker`` process (queue default, 1 pool process) with ``env`` added to
    this process's environment; returns once it answers a ping. Stop it with ``stop_worker``."""
    from cspm.celery import app

    hostname = f"bench-{os.getpid()}@localhost"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cspm",
            "worker",
            "-Q",
            "default",
            "--concurrency",
            "1",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            hostname,
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(
            lambda: worker.poll() is not None or app.control.ping([hostname], timeout=1),
            60,
            "the Celery worker's start",
        )
    except RuntimeError:
        worker.kill()
        raise
    if worker.poll() is not None:
        raise RuntimeError(f"the Celery worker stopped:\n{log.read_text()}")
    return worker


def stop_worker(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
