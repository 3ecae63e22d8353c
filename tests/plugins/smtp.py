"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives, for email tests.

Register with ``pytest_plugins = ["tests.plugins.smtp"]``.

* ``smtp_server`` (function): points Django's SMTP backend at the server (no TLS, no login) and
  yields the server, emptied: ``.messages`` (each parsed with the ``email`` package),
  ``.to(address)``, ``.clear()`` and ``.reject(address)`` to refuse a recipient with a 550.

One server runs for the whole session; it starts with the first test that asks for it.
"""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as delivered: the SMTP envelope and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return self._part("plain")

    @property
    def html(self) -> str:
        return self._part("html")

    def _part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        if body is None or body.get_content_subtype() != subtype:
            raise AssertionError(f"the message has no text/{subtype} part")
        return body.get_content()


class SmtpServer:
    """Collects what the SMTP server receives; the handler hooks run in the server's thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[ReceivedMessage] = []
        self._rejected: set[str] = set()
        self.host = HOST
        self.port = 0

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._lock:
            return list(self._messages)

    def to(self, address: str) -> list[ReceivedMessage]:
        """Messages delivered to ``address`` (by envelope)."""
        return [m for m in self.messages if address in m.rcpt_tos]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._rejected.clear()

    def reject(self, *addresses: str) -> None:
        """Refuse these recipients (550), as a server does for an unknown mailbox."""
        with self._lock:
            self._rejected.update(addresses)

    def accept(self, *addresses: str) -> None:
        with self._lock:
            self._rejected.difference_update(addresses)

    # aiosmtpd handler hooks.

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        with self._lock:
            if address in self._rejected:
                return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        received = ReceivedMessage(envelope.mail_from, tuple(envelope.rcpt_tos), message)
        with self._lock:
            self._messages.append(received)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def _smtp_session() -> Iterator[SmtpServer]:
    # aiosmtpd logs every SMTP command at INFO: keep test output for what went wrong.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    server = SmtpServer()
    # Controller needs a fixed port (it connects to it to check it is up): take a free one,
    # and try again should another process grab it in between.
    for attempt in range(5):
        server.port = _free_port()
        controller = Controller(server, hostname=HOST, port=server.port, ready_timeout=10)
        try:
            controller.start()
        except OSError:
            if attempt == 4:
                raise
            continue
        break
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(_smtp_session: SmtpServer, settings) -> Iterator[SmtpServer]:
    """The session's SMTP server, emptied, with Django sending to it over real SMTP."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = _smtp_session.host
    settings.EMAIL_PORT = _smtp_session.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    _smtp_session.clear()
    yield _smtp_session
    _smtp_session.clear()
