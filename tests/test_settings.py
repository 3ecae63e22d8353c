"""Settings come from the environment and fail loudly on bad values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from cspm.env import Env

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "CSPM_MODE": "production",
    "SECRET_KEY": "x7Gq2pVt9LmZr4Kw8NsB1yHc6JdF3aXe5QuR0oTi7WvYb2MnS4lP9kDg",
    "DATABASE_URL": "postgres://cspm:secret@db.internal:5432/cspm",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "ALLOWED_HOSTS": "cspm.example.com",
    "EMAIL_HOST": "smtp.example.com",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "DEBUG"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "change,message",
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short"}, "at least 50 random characters"),
        ({"SECRET_KEY": "ab" * 40}, "at least 50 random characters"),  # 2 distinct characters
        ({"SECRET_KEY": "django-insecure-" + "x7Gq2pVt9LmZr4Kw" * 4}, "at least 50 random"),
        ({"DATABASE_URL": ""}, "DATABASE_URL must be set"),
        ({"DATABASE_URL": "sqlite:///x.db"}, "must point at PostgreSQL"),
        ({"CELERY_BROKER_URL": "amqp://x"}, "must be a redis://"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must be set"),
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"DEBUG": "1"}, "DEBUG must be off"),
        ({"CSPM_MODE": "staging"}, "CSPM_MODE='staging' must be one of embedded, production"),
    ],
)
def test_production_refuses_missing_or_bad_values(change, message):
    result = _manage("check", **{**PRODUCTION, **change})
    assert result.returncode != 0
    assert message in result.stderr


def test_the_embedded_default_needs_nothing(tmp_path):
    result = _manage("check", CSPM_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr


def test_env_parses_typed_values():
    env = Env({"N": "5", "L": "a, b,,c", "B": "yes", "R": "30,7,1", "BAD": "x"})
    assert env.int("N", 1) == 5 and env.int("MISSING", 3) == 3
    assert env.list("L") == ["a", "b", "c"]
    assert env.bool("B", False) is True
    assert env.int_list("R", []) == [30, 7, 1]
    with pytest.raises(ImproperlyConfigured, match="BAD='x' is not a whole number"):
        env.int("BAD", 1)
    with pytest.raises(ImproperlyConfigured, match="at least 2"):
        Env({"N": "1"}).int("N", 1, minimum=2)
    with pytest.raises(ImproperlyConfigured, match="comma-separated list of whole numbers"):
        Env({"R": "30,soon"}).int_list("R", [])
