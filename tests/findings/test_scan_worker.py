"""A whole scan through real Celery worker processes, with Redis and PostgreSQL; and a scan
whose workers are killed mid-unit still closes."""

from __future__ import annotations

import http.client
import os
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from cspm.celery import app
from findings.models import Finding, Scan, ScanRegion
from findings.services import register_account, scans
from simulation.account import seed_story_stack
from tests.plugins.worker import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.servers]


def test_a_scan_runs_on_the_workers_and_lands_every_unit(catalog, aws, celery_worker):
    story = seed_story_stack(aws, bucket_name="story-images")
    account, _ = register_account(
        account_id=story.account_id,
        name="story",
        endpoint_url=aws,
        regions=["eu-west-1", "us-east-1"],
        scan_interval_hours=0,
    )
    scan = scans.start_scan(account)  # committed at once: this test runs outside a transaction
    assert scan.state == Scan.State.QUEUED

    def finished() -> bool:
        scan.refresh_from_db()
        return scan.is_finished

    wait_for(finished, timeout=240)
    assert scan.state == Scan.State.SUCCEEDED, scan.error
    assert scan.regions_done == scan.regions_total == 3  # two regions and the global unit
    assert scan.regions.filter(state="succeeded").count() == scan.regions_total
    assert Finding.objects.filter(
        control_check__controls__ref="5.6",
        resource__arn__endswith=f"instance/{story.instance_id}",
        status="fail",
    ).exists()
    # Each (check, resource) once, whatever the workers' concurrency.
    total = Finding.objects.count()
    assert total == scan.findings_total
    assert Finding.objects.values("control_check", "resource").distinct().count() == total


class Gate:
    """A loopback HTTP front for the simulated account that, while held, lets no AWS call
    through but region discovery: each unit hangs on its first call, as on an endpoint that
    stopped answering. Released, it forwards everything."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.released = threading.Event()
        self.released.set()
        self.waiting = 0
        self._lock = threading.Lock()
        gate = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if b"Action=DescribeRegions" not in body and not gate.released.is_set():
                    with gate._lock:
                        gate.waiting += 1
                    gate.released.wait(timeout=120)
                    with gate._lock:
                        gate.waiting -= 1
                conn = http.client.HTTPConnection(
                    gate.upstream.hostname, gate.upstream.port, timeout=60
                )
                conn.request(self.command, self.path, body=body, headers=dict(self.headers))
                response = conn.getresponse()
                data = response.read()
                conn.close()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in {"transfer-encoding", "content-length", "connection"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                return  # the client of a held call was killed: nobody to answer

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gate(aws: str) -> Iterator[Gate]:
    front = Gate(aws)
    yield front
    front.stop()


def _running_units(hostname: str) -> dict[int, str]:
    """pool process id -> unit, for the scan units that worker is running now."""
    active = app.control.inspect(destination=[hostname], timeout=1).active() or {}
    return {
        task["worker_pid"]: task["args"][1]
        for task in active.get(hostname, [])
        if task["name"] == "findings.scan_unit"
    }


def test_a_unit_whose_worker_is_killed_runs_again_and_the_scan_closes(
    catalog, gate, celery_workers
):
    account, _ = register_account(
        account_id="123456789012",
        name="hung",
        endpoint_url=gate.url,
        regions=["us-east-1"],
        scan_interval_hours=0,
    )
    first = celery_workers.start()
    host = celery_workers.hostname(first)
    gate.released.clear()
    scan = scans.start_scan(account)

    # Both units (us-east-1 and global) hang mid-way, each in a pool process of the worker.
    killed: dict[int, str] = {}

    def both_hung() -> bool:
        killed.clear()
        killed.update(_running_units(host))  # an inspect reply may come back empty: ask again
        return len(killed) == 2 and gate.waiting >= 2

    wait_for(both_hung, timeout=90)
    assert sorted(killed.values()) == ["global", "us-east-1"]
    assert scan.regions.filter(state=ScanRegion.State.RUNNING).count() == 2
    for pid in killed:
        os.kill(pid, signal.SIGKILL)  # out of memory, say
    # The worker puts each unit back on the queue; fresh pool processes run them again.
    wait_for(
        lambda: (
            sorted(_running_units(host).values()) == ["global", "us-east-1"]
            and not set(_running_units(host)) & set(killed)
        ),
        timeout=60,
    )

    # Now the whole worker dies with both units unacknowledged, and the endpoint recovers.
    celery_workers.kill_whole(first)
    gate.released.set()
    # Another worker gets them once the visibility timeout (2 s here) has passed.
    celery_workers.start(CSPM_BROKER_VISIBILITY_TIMEOUT="2")

    def closed() -> bool:
        scan.refresh_from_db()
        return scan.is_finished

    wait_for(closed, timeout=120)
    assert scan.state == Scan.State.SUCCEEDED, scan.error
    assert scan.regions_done == scan.regions_total == 2
    assert set(scan.regions.values_list("state", flat=True)) == {ScanRegion.State.SUCCEEDED}
