"""A broker that is down, then back: a loopback port in front of the test's Redis.

While down, the port is bound but not listening, so a connection is refused at once (nothing
else can take the port meanwhile); once opened, it forwards every connection to Redis. The
test process's Celery app publishes through it, with a short connection timeout.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest


class BrokerDoor:
    def __init__(self, upstream_url: str) -> None:
        upstream = urlsplit(upstream_url)
        self.upstream = (upstream.hostname or "127.0.0.1", upstream.port or 6379)
        self.db = (upstream.path or "/0").lstrip("/") or "0"
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/{self.db}"
        self._open = False
        self._conns: list[socket.socket] = []

    def open(self) -> None:
        """The broker is back: accept connections and forward them to Redis."""
        self.sock.listen(16)
        self._open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._open = False
        for conn in [self.sock, *self._conns]:
            with contextlib.suppress(OSError):
                conn.close()

    def _accept(self) -> None:
        while self._open:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self._conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for conn in (source, sink):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def broker_down(redis_url: str) -> Iterator[BrokerDoor]:
    """The test process's Celery app publishes to a broker that is down (``.open()`` brings
    it back); its connection attempts give up after a second."""
    import redis

    from cspm.celery import app
    from tests.plugins.worker import _drop_pools

    door = BrokerDoor(redis_url)
    redis.Redis.from_url(redis_url).flushdb()
    keys = ("broker_url", "task_always_eager", "broker_connection_timeout")
    saved = {k: app.conf[k] for k in keys}
    app.conf.update(broker_url=door.url, task_always_eager=False, broker_connection_timeout=1)
    _drop_pools(app)
    try:
        yield door
    finally:
        app.conf.update(**saved)
        _drop_pools(app)
        door.close()
        redis.Redis.from_url(redis_url).flushdb()
