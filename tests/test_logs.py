"""Logs: INFO by default, a line per task start and end with its id, JSON as an option."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugins.worker import wait_for

ROOT = Path(__file__).resolve().parent.parent


def _log_from_a_process(**env: str) -> str:
    script = (
        "import logging; "
        "logging.getLogger('findings.services').info('scan closed', extra={'scan': 42})"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", script],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("LOG_")}, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_info_is_logged_by_default_as_plain_text(tmp_path):
    line = _log_from_a_process(CSPM_VAR_DIR=str(tmp_path)).strip()
    assert line.endswith("INFO findings.services: scan closed")


def test_log_format_json_writes_one_object_per_line(tmp_path):
    lines = _log_from_a_process(CSPM_VAR_DIR=str(tmp_path), LOG_FORMAT="json").splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "INFO" and entry["logger"] == "findings.services"
    assert entry["message"] == "scan closed" and entry["scan"] == 42
    assert entry["time"].endswith("+00:00")


@pytest.mark.postgres
def test_the_worker_logs_each_task_start_and_end_with_its_id(celery_worker, tmp_path):
    from acceptances import tasks

    task_id = tasks.expire_acceptances.delay().id
    log = tmp_path / "worker-1.log"  # the first worker the fixture started
    finished = f"acceptances.expire_acceptances[{task_id}] finished: SUCCESS in "
    wait_for(lambda: finished in log.read_text(), timeout=60)
    text = log.read_text()
    assert f"INFO cspm.tasks: acceptances.expire_acceptances[{task_id}] started" in text
    assert text.count(task_id) == 3  # received (Celery's line), started, finished
