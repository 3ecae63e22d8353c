"""Pytest fixtures for the simulated AWS account (a moto server over real HTTP).

Register with ``pytest_plugins = ["tests.plugins.aws"]``. No Django needed.

* ``moto`` (session): one moto server subprocess, behind its front door
  (``simulation.front``), for the whole run.
* ``moto_server`` (session): its endpoint URL.
* ``aws`` (function): the same endpoint URL, with the server reset before the test so
  every test starts from a fresh simulated account.
* ``aws_front`` (function): the front door itself, to deny regions or services.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulation.account import MotoServer, reset_moto, start_moto_server
from simulation.front import AwsFront


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    """A moto server (behind its front door) running for the whole test session."""
    server = start_moto_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_server(moto: MotoServer) -> str:
    """Endpoint URL of the session's simulated AWS account."""
    return moto.endpoint_url


@pytest.fixture
def aws(moto_server: str) -> Iterator[str]:
    """Endpoint URL of the moto server, reset to an empty account before the test."""
    reset_moto(moto_server)
    yield moto_server


@pytest.fixture
def aws_front(moto: MotoServer, aws: str) -> Iterator[AwsFront]:
    """The simulated account's front door: add regions to ``.denied`` (or signing names to
    ``.denied_services``) to make them fail."""
    assert moto.front is not None
    yield moto.front
    moto.front.denied.clear()
    moto.front.denied_services.clear()
