"""A real Celery worker process, on Redis, against the test's PostgreSQL database.

Tests using ``celery_worker`` need committed data (``transactional_db``): the worker is another
process with its own connection.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _database_url(settings_dict: dict) -> str:
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture(scope="session")
def redis_url() -> str:
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def celery_worker(transactional_db, redis_url: str, tmp_path: Path) -> Iterator[subprocess.Popen]:
    """Start ``celery worker`` (2 processes, queues scans and default); route tasks to it."""
    import redis
    from django.db import connection

    from cspm.celery import app

    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs the shared PostgreSQL database")
    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "CELERY_BROKER_URL": redis_url,
        "CSPM_VAR_DIR": str(tmp_path),
    }
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed below
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
            "2",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=redis_url, task_always_eager=False)
    _drop_pools(app)
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=1):
            if worker.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError(
                    "the Celery worker did not start:\n" + (tmp_path / "worker.log").read_text()
                )
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
        app.conf.update(**saved)
        _drop_pools(app)


def _drop_pools(app) -> None:
    """Forget connections and producers made for the previous broker (memory:// when eager)."""
    from kombu import pools

    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    # kombu keeps one pool per broker URL process-wide and would hand the closed one back to
    # the next test that starts a worker on the same URL.
    pools.reset()


def wait_for(predicate, timeout: float = 120, interval: float = 0.25) -> None:
    """Poll until ``predicate()`` is true, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
        time.sleep(interval)
