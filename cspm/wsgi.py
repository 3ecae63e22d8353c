"""WSGI entry point: ``gunicorn cspm.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cspm.settings")

application = get_wsgi_application()
