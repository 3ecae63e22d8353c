"""WSGI entry point: ``gunicorn cspm.wsgi``."""

import os
import sys

from django.core.wsgi import get_wsgi_application

from cspm.env import SettingError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cspm.settings")

try:
    application = get_wsgi_application()
except SettingError as exc:
    # One line naming the variable, not a traceback. Exit status 4 is gunicorn's "App failed to
    # load": its master stops instead of starting worker after worker that cannot boot.
    print(f"cspm: {exc}", file=sys.stderr)
    raise SystemExit(4) from None
