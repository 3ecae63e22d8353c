"""A real Celery worker process, on Redis, against the test's PostgreSQL database.

Tests using ``celery_worker`` need committed data (``transactional_db``): the worker is another
process with its own connection.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

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


class CeleryWorkers:
    """Start real ``celery worker`` processes (2 pool processes each, queues scans and
    default) and route the test process's tasks to them; kill one as an operator would."""

    def __init__(self, redis_url: str, database_url: str, tmp_path: Path) -> None:
        self.redis_url = redis_url
        self.database_url = database_url
        self.tmp_path = tmp_path
        self.started: list[tuple[subprocess.Popen, str, IO[str]]] = []

    def start(self, **env: str) -> subprocess.Popen:
        """One more worker, with ``env`` added to its environment; returns once it answers."""
        from cspm.celery import app

        number = len(self.started) + 1
        hostname = f"test-{os.getpid()}-{number}@localhost"
        log = open(self.tmp_path / f"worker-{number}.log", "w")  # noqa: SIM115 - closed in stop
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
                hostname,
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": self.database_url,
                "CELERY_BROKER_URL": self.redis_url,
                "CSPM_VAR_DIR": str(self.tmp_path),
                **env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group: kill_whole() ends the worker and its pool at once.
            start_new_session=True,
        )
        self.started.append((worker, hostname, log))
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[hostname], timeout=1):
            if worker.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError(
                    "the Celery worker did not start:\n"
                    + (self.tmp_path / f"worker-{number}.log").read_text()
                )
        return worker

    def hostname(self, worker: subprocess.Popen) -> str:
        return next(name for proc, name, _ in self.started if proc is worker)

    def kill_whole(self, worker: subprocess.Popen) -> None:
        """SIGKILL the worker and its pool processes, as a lost machine or container would."""
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=20)

    def stop_all(self) -> None:
        for worker, _, log in self.started:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait()
            log.close()


@pytest.fixture
def celery_workers(transactional_db, redis_url: str, tmp_path: Path) -> Iterator[CeleryWorkers]:
    """A factory of real worker processes (``.start()``), stopped after the test."""
    import redis
    from django.db import connection

    from cspm.celery import app

    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs the shared PostgreSQL database")
    redis.Redis.from_url(redis_url).flushdb()
    workers = CeleryWorkers(redis_url, _database_url(connection.settings_dict), tmp_path)
    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=redis_url, task_always_eager=False)
    _drop_pools(app)
    try:
        yield workers
    finally:
        workers.stop_all()
        app.conf.update(**saved)
        _drop_pools(app)


@pytest.fixture
def celery_worker(celery_workers: CeleryWorkers) -> subprocess.Popen:
    """Start ``celery worker`` (2 processes, queues scans and default); route tasks to it."""
    return celery_workers.start()


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
