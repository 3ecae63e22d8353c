"""Without the tests' pin (tests/conftest.py::_story_benchmark), the product shows the newest CIS
AWS Foundations version loaded; the story's v2.0.0 stays one pick away."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from findings.models import Benchmark, Control
from findings.queries import get_default_benchmark

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent


def _shipped_default() -> str:
    """``CSPM_DEFAULT_BENCHMARK`` as ``cspm/settings.py`` sets it when the environment does not."""
    env = {k: v for k, v in os.environ.items() if k != "CSPM_DEFAULT_BENCHMARK"}
    result = subprocess.run(
        [sys.executable, "-c", "import cspm.settings as s; print(s.CSPM_DEFAULT_BENCHMARK)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_without_the_pin_the_newest_loaded_cis_is_the_default(settings, catalog, client, viewer):
    shipped = _shipped_default()
    assert shipped == "cis-aws-foundations"
    settings.CSPM_DEFAULT_BENCHMARK = shipped
    loaded = Benchmark.objects.filter(slug="cis-aws-foundations")
    newest = max(loaded, key=lambda b: Control.sort_key(b.version))
    assert newest.version != "2.0.0" and loaded.count() >= 3
    assert get_default_benchmark() == newest

    client.force_login(viewer)
    assert client.get(reverse("home")).context["benchmark"] == newest
    # A user picks another version, the story's included.
    assert client.get(reverse("home"), {"benchmark": catalog.pk}).context["benchmark"] == catalog
    # The API's posture defaults to it too.
    body = client.get("/api/v1/posture/").json()
    assert body["benchmark"]["version"] == newest.version
