"""The Celery application.

Workers: ``celery -A cspm worker -Q scans,default``; scheduler: ``celery -A cspm beat``.
Every setting comes from Django's settings (``CELERY_*``), so the embedded default (tasks run
eagerly, in-process) and production (Redis broker, any number of workers) share this file.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cspm.settings")

log = logging.getLogger("cspm.tasks")


app = Celery("cspm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_configure.connect
def _load_settings_or_exit(**_: Any) -> None:
    """Celery reads Django's settings on first use of its configuration: load them first, so
    that a missing or bad variable stops the worker or beat with one line naming it, not a
    50-line traceback."""
    from django.conf import settings

    from cspm.env import SettingError

    try:
        settings.INSTALLED_APPS  # noqa: B018 - loads the settings module
    except SettingError as exc:
        print(f"cspm: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


_started: dict[str, float] = {}


@signals.setup_logging.connect
def _log_through_django(**_: Any) -> None:
    """The worker and beat log through Django's LOGGING (INFO by default, LOG_LEVEL and
    LOG_FORMAT=json to change it), already applied by django.setup(). With a receiver here,
    Celery leaves logging alone instead of setting the root level to WARNING."""


@signals.task_prerun.connect
def _log_task_start(task_id: str, task: Any, **_: Any) -> None:
    _started[task_id] = time.monotonic()
    log.info("%s[%s] started", task.name, task_id)


@signals.task_postrun.connect
def _log_task_end(task_id: str, task: Any, state: str | None = None, **_: Any) -> None:
    started = _started.pop(task_id, None)
    took = f" in {time.monotonic() - started:.2f}s" if started is not None else ""
    log.info("%s[%s] finished: %s%s", task.name, task_id, state, took)


@signals.beat_init.connect
def _run_periodic_jobs_at_start(sender: Any, **_: Any) -> None:
    """Send every periodic job once when beat starts, rather than a full interval later: a
    beat restarted (or moved, losing its schedule file) just before the hourly reminders
    would otherwise skip them. Each job claims its rows, so an extra run does nothing twice."""
    for name, entry in sender.app.conf.beat_schedule.items():
        sender.app.send_task(entry["task"], args=entry.get("args", ()))
        log.info("beat start: sent %s (%s) once", entry["task"], name)
