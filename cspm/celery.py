"""The Celery application.

Workers: ``celery -A cspm worker -Q scans,default``; scheduler: ``celery -A cspm beat``.
Every setting comes from Django's settings (``CELERY_*``), so the embedded default (tasks run
eagerly, in-process) and production (Redis broker, any number of workers) share this file.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cspm.settings")

app = Celery("cspm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
