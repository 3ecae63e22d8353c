"""Pytest fixtures for the simulated AWS account (a moto server over real HTTP).

Register with ``pytest_plugins = ["tests.plugins.aws"]``. No Django needed.

* ``moto_server`` (session): starts one moto server subprocess for the whole run and
  yields its endpoint URL; stops it at the end.
* ``aws`` (function): the same endpoint URL, with the server reset before the test so
  every test starts from a fresh simulated account.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from findings.simulation import reset_moto, start_moto_server


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """Endpoint URL of a moto server running for the whole test session."""
    server = start_moto_server()
    try:
        yield server.endpoint_url
    finally:
        server.stop()


@pytest.fixture
def aws(moto_server: str) -> Iterator[str]:
    """Endpoint URL of the moto server, reset to an empty account before the test."""
    reset_moto(moto_server)
    yield moto_server
