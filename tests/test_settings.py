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
    "SITE_URL": "https://cspm.example.com",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "manage.py", *args], **env)


def _run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "DEBUG"}
    return subprocess.run(
        command,
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
        ({"EMAIL_HOST": ""}, "EMAIL_HOST must be set when CSPM_MODE=production."),
        ({"SITE_URL": ""}, "SITE_URL must be set."),
        ({"SITE_URL": "cspm.example.com"}, "SITE_URL='cspm.example.com' must start with"),
        ({"LOG_LEVEL": "chatty"}, "LOG_LEVEL='CHATTY' must be one of"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT='xml' must be one of plain, json"),
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
def test_production_refuses_missing_or_bad_values_in_one_line(change, message):
    result = _manage("check", **{**PRODUCTION, **change})
    assert result.returncode != 0
    # One line naming the variable, not a traceback ending in it.
    assert result.stderr.startswith("cspm: ") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr


def test_the_worker_and_beat_refuse_a_missing_variable_in_one_line():
    env = {**PRODUCTION, "EMAIL_HOST": ""}
    for command in ("worker", "beat"):
        result = _run([sys.executable, "-m", "celery", "-A", "cspm", command], **env)
        assert result.returncode != 0
        assert result.stderr == "cspm: EMAIL_HOST must be set when CSPM_MODE=production.\n"


def test_gunicorn_stops_with_one_line_naming_the_variable():
    env = {**PRODUCTION, "SITE_URL": ""}
    result = _run(
        [sys.executable, "-m", "gunicorn", "cspm.wsgi", "--bind", "127.0.0.1:0", "--workers", "1"],
        **env,
    )
    # gunicorn's master stops ("App failed to load") instead of respawning workers.
    assert result.returncode != 0
    assert "cspm: SITE_URL must be set.\n" in result.stderr
    assert "Traceback" not in result.stderr


def test_hsts_beyond_this_host_is_opt_in():
    script = (
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD)"
    )
    default = _manage("shell", "-v", "0", "-c", script, **PRODUCTION)
    assert default.stdout.split() == ["3600", "False", "False"], default.stderr
    opted_in = {
        **PRODUCTION,
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
        "SECURE_HSTS_PRELOAD": "1",
    }
    chosen = _manage("shell", "-v", "0", "-c", script, **opted_in)
    assert chosen.stdout.split() == ["31536000", "True", "True"], chosen.stderr
    # Either way the deployment check is clean.
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **opted_in)
    assert result.returncode == 0, result.stderr


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


def test_a_session_signed_with_the_previous_key_survives_a_rotation():
    old = PRODUCTION["SECRET_KEY"]
    new = "N3wK3yN3wK3yN3wK3yN3wK3yN3wK3yN3wK3yN3wK3yN3wK3yN3wK3yN3wK3y"
    sign = "from django.core import signing; print(signing.dumps('alice'))"
    token = _manage("shell", "-v", "0", "-c", sign, **PRODUCTION).stdout.strip()
    read = f"from django.core import signing; print(signing.loads({token!r}))"
    rotated = {**PRODUCTION, "SECRET_KEY": new, "SECRET_KEY_FALLBACKS": old}
    assert _manage("shell", "-v", "0", "-c", read, **rotated).stdout.strip() == "alice"
    without = _manage("shell", "-v", "0", "-c", read, **{**PRODUCTION, "SECRET_KEY": new})
    assert "BadSignature" in without.stderr
