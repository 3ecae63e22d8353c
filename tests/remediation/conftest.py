"""The real ``terraform`` for the remediation tests (see ``tf.py``): one ``init`` per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.remediation.tf import Terraform, start_terraform


@pytest.fixture(scope="session")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Terraform]:
    # A missing terraform or provider mirror fails the tests that need them, with the
    # install instructions: no silent skip.
    yield start_terraform(tmp_path_factory.mktemp("terraform"))


@pytest.fixture(scope="module")
def tf_dir(terraform: Terraform, tmp_path_factory: pytest.TempPathFactory):
    """One working directory per test module."""
    return terraform.workdir(tmp_path_factory.mktemp("tf"))


@pytest.fixture
def simulation():
    """The simulated account's module, imported in one place (a demo part in its own package)."""
    from simulation import account as simulation

    return simulation
