"""Settings for the CSPM risk-treatment manager, read from the environment.

Two modes, same code:

* ``CSPM_MODE=embedded`` (the default, nothing else needed): SQLite in ``var/``, Celery tasks run
  in-process, email printed to the console. For a newcomer's laptop and for the demo.
* ``CSPM_MODE=production``: ``SECRET_KEY``, ``DATABASE_URL`` (PostgreSQL), ``CELERY_BROKER_URL``
  (Redis), ``ALLOWED_HOSTS``, ``SITE_URL`` and ``EMAIL_HOST`` are required; ``DEBUG`` is off;
  cookies are secure and HTTPS is enforced. ``python manage.py check --deploy`` is clean in
  this mode.

Any variable may be set in either mode (tests run "embedded" against PostgreSQL and Redis by
setting ``DATABASE_URL`` and ``CELERY_BROKER_URL``). Bad values stop start-up with a message
naming the variable (one line: see ``cspm.env.SettingError``).
"""

from __future__ import annotations

import re
from pathlib import Path

import dj_database_url

from cspm.env import Env, SettingError

env = Env()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("CSPM_VAR_DIR", str(BASE_DIR / "var")))

MODE = env.choice("CSPM_MODE", ("embedded", "production"), "embedded")
PRODUCTION = MODE == "production"

# --- Core -----------------------------------------------------------------------------------
if PRODUCTION:
    from django.core.checks.security import base as _deploy_checks

    SECRET_KEY = env.str("SECRET_KEY")
    # The rule of `check --deploy` (security.W009), enforced: 50 characters, 5 distinct ones
    # at least ("a" * 50 passes a length check alone), and not one of Django's generated keys.
    if (
        len(SECRET_KEY) < _deploy_checks.SECRET_KEY_MIN_LENGTH
        or len(set(SECRET_KEY)) < _deploy_checks.SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or SECRET_KEY.startswith(_deploy_checks.SECRET_KEY_INSECURE_PREFIX)
    ):
        raise SettingError(
            "SECRET_KEY must be at least 50 random characters in production "
            "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
        )
else:
    SECRET_KEY = env.str("SECRET_KEY", "django-insecure-embedded-only-never-use-in-production")

# Previous keys, still accepted for sessions and signed links while they age out: rotating
# SECRET_KEY this way logs no one out.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS")

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise SettingError("DEBUG must be off when CSPM_MODE=production.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise SettingError("ALLOWED_HOSTS must be set when CSPM_MODE=production.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS")

# Absolute base URL used in emails (links to renew an acceptance, to a finding). Required in
# production: a default would send every recipient to 127.0.0.1.
SITE_URL = env.str("SITE_URL", None if PRODUCTION else "http://127.0.0.1:8000").rstrip("/")
if not SITE_URL.startswith(("http://", "https://")):
    raise SettingError(f"SITE_URL={SITE_URL!r} must start with https:// (or http://).")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "django_htmx",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc assets, served locally: no CDN
    "cspm",
    "findings",
    "acceptances",
]

MIDDLEWARE = [
    "cspm.middleware.ServerTimingMiddleware",
    # /healthz for load balancers: before the HTTPS redirect, the host check and the login.
    "cspm.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "cspm.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every view requires login unless marked @login_not_required (the login page).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "cspm.urls"
WSGI_APPLICATION = "cspm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cspm.context_processors.approval",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
if env.is_set("DATABASE_URL"):
    try:
        _db = dj_database_url.parse(
            env.str("DATABASE_URL"), conn_max_age=60, conn_health_checks=True
        )
    except ValueError as exc:
        raise SettingError(f"DATABASE_URL is not a valid database URL: {exc}") from None
    if PRODUCTION and _db["ENGINE"] != "django.db.backends.postgresql":
        raise SettingError("DATABASE_URL must point at PostgreSQL in production.")
elif PRODUCTION:
    raise SettingError("DATABASE_URL must be set when CSPM_MODE=production.")
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(VAR_DIR / "cspm.sqlite3"),
        # Scans write from worker threads while the UI reads: wait for the lock, do not fail.
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FORMS_URLFIELD_ASSUME_HTTPS = True  # the Django 6 default, opted into now

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- I18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
# Where collectstatic writes (and WhiteNoise serves from in production): outside the code
# directory by default, so that a new release is a clean checkout.
STATIC_ROOT = Path(env.str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Embedded: serve straight from the app folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Email ----------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "CSPM <cspm@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if env.is_set("EMAIL_HOST"):
    # Django's SMTP backend, with a clear error when STARTTLS is expected but not offered.
    EMAIL_BACKEND = "cspm.mail.EmailBackend"
    EMAIL_HOST = env.str("EMAIL_HOST")
    EMAIL_PORT = env.int("EMAIL_PORT", 587, minimum=1)
    # Port 587 (submission) means STARTTLS, 465 means TLS from the first byte; either can be
    # set explicitly.
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=EMAIL_PORT == 587)
    EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=EMAIL_PORT == 465)
    if EMAIL_USE_TLS and EMAIL_USE_SSL:
        raise SettingError("EMAIL_USE_TLS and EMAIL_USE_SSL are mutually exclusive.")
    EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", 30, minimum=1)
elif PRODUCTION:
    raise SettingError("EMAIL_HOST must be set when CSPM_MODE=production.")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Celery ---------------------------------------------------------------------------------
if env.is_set("CELERY_BROKER_URL"):
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
    if not CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        raise SettingError("CELERY_BROKER_URL must be a redis:// or rediss:// URL.")
    CELERY_TASK_ALWAYS_EAGER = False
elif PRODUCTION:
    raise SettingError("CELERY_BROKER_URL must be set when CSPM_MODE=production.")
else:
    # Embedded: no broker; tasks run in the calling process, exceptions propagate.
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "findings.scan_account": {"queue": "scans"},
    "findings.scan_unit": {"queue": "scans"},
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# One task at a time per worker process: scans are long and uneven, prefetching would let one
# worker sit on queued regions while another idles.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A scan task is acknowledged only once it has run (acks_late, findings/tasks.py). If its whole
# worker dies (SIGKILL, a lost machine), Redis holds the unacknowledged message and gives it to
# another worker once it has been out this long. It must exceed the longest run of a task
# (a scan unit's hard time limit, CSPM_SCAN_UNIT_TIME_LIMIT + 100 s) or a live task is run
# twice (harmless: every step is idempotent, but wasted). Redis's own default is an hour.
CSPM_BROKER_VISIBILITY_TIMEOUT = env.int("CSPM_BROKER_VISIBILITY_TIMEOUT", 3600, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CSPM_BROKER_VISIBILITY_TIMEOUT,
    # Workers sweep for such messages every interval (kombu's default is a sweep every 100 s
    # whatever the timeout): a tenth of the timeout, between 1 s and a minute.
    "unacked_restore_interval": max(1, min(60, CSPM_BROKER_VISIBILITY_TIMEOUT // 10)),
    "unacked_restore_throttle": 1,
}
# Beat's record of when each job last ran: outside the code directory (CSPM_VAR_DIR, or
# CELERY_BEAT_SCHEDULE_FILE), so that a deploy replacing the code does not lose it.
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILE", str(VAR_DIR / "celerybeat-schedule")
)
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Each account's own interval decides; this only looks for what is due.
    "start-due-scans": {"task": "findings.start_due_scans", "schedule": 300.0},
    # Fails the units and scans that made no progress for CSPM_SCAN_STALL_SECONDS.
    "close-stalled-scans": {"task": "findings.close_stalled_scans", "schedule": 300.0},
    # An acceptance stops covering its findings within 5 minutes of its expiry.
    "expire-acceptances": {"task": "acceptances.expire_acceptances", "schedule": 300.0},
    # Reminders are claimed per (acceptance, threshold, expiry): hourly runs never repeat one.
    "send-expiry-reminders": {"task": "acceptances.send_expiry_reminders", "schedule": 3600.0},
    # Owners awaited for a day, then every CSPM_SIGNOFF_REMINDER_DAYS; claimed per acceptance.
    "send-signoff-reminders": {"task": "acceptances.send_signoff_reminders", "schedule": 3600.0},
    "deliver-outbox": {"task": "acceptances.deliver_outbox", "schedule": 300.0},
}

# --- Cache ----------------------------------------------------------------------------------
# Posture counts over a million findings are cached under a key that changes with the data
# (findings.queries.posture_fingerprint), and API throttles count there; in production every
# process shares them in Redis, so the limits hold across processes and machines. Nothing there
# is needed for correctness: with Redis down, cspm.cache.TolerantRedisCache answers as an empty
# cache (counts computed again, throttles open) and logs the error, instead of a 500.
if env.is_set("CACHE_URL") or env.is_set("CELERY_BROKER_URL"):
    _cache_url = env.str("CACHE_URL", env.str("CELERY_BROKER_URL", ""))
    if not _cache_url.startswith(("redis://", "rediss://")):
        raise SettingError("CACHE_URL must be a redis:// or rediss:// URL.")
    CACHES = {
        "default": {
            "BACKEND": "cspm.cache.TolerantRedisCache",
            "LOCATION": _cache_url,
            "KEY_PREFIX": "cspm",
            # A blackholed server must cost a request seconds, not the OS's minutes.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Embedded mode only (eager tasks): run a scan started from a page in a background thread, so
# the page answers at once and shows progress live. The demo turns it on; tests keep it off so
# that a scan has finished when start_scan's transaction commits.
CSPM_BACKGROUND_TASKS = env.bool("CSPM_BACKGROUND_TASKS", default=False)

# --- Product settings -----------------------------------------------------------------------
# A scan unit (one region, or the global services) that runs longer than this is stopped and
# recorded as failed (Celery's soft time limit; the hard limit, 100 s later, ends its process).
CSPM_SCAN_UNIT_TIME_LIMIT = env.int("CSPM_SCAN_UNIT_TIME_LIMIT", 1800, minimum=60)
# The watchdog (findings.close_stalled_scans, every 5 minutes) fails a unit with no result this
# long after it first started, and a scan none of whose units started or finished for this
# long, or that was never planned; the scan then closes. Longer than a killed unit's way back
# (the visibility timeout) plus a whole run of it (the unit's hard time limit), so that a
# redelivered unit can finish before the watchdog gives up on it.
CSPM_SCAN_STALL_SECONDS = env.int(
    "CSPM_SCAN_STALL_SECONDS",
    max(7200, CSPM_BROKER_VISIBILITY_TIMEOUT + CSPM_SCAN_UNIT_TIME_LIMIT + 100 + 600),
    minimum=60,
)
# Days before expiry at which owners are reminded.
CSPM_REMINDER_DAYS = env.int_list("CSPM_REMINDER_DAYS", [30, 7, 1])
# The benchmark pages, exports and alerts show when none is chosen: "<slug>" for the newest
# version of that benchmark, or "<slug>@<version>" for one version. Findings belong to checks:
# every loaded benchmark reads the same scans, and the Terraform fixes are the checks' (named
# by the shown benchmark's numbers). Shipped: the newest CIS AWS Foundations version loaded.
CSPM_DEFAULT_BENCHMARK = env.str("CSPM_DEFAULT_BENCHMARK", "cis-aws-foundations")
if not re.fullmatch(r"[a-z0-9-]+(@[0-9A-Za-z.\-]+)?", CSPM_DEFAULT_BENCHMARK):
    raise SettingError(
        f"CSPM_DEFAULT_BENCHMARK={CSPM_DEFAULT_BENCHMARK!r}: a benchmark slug, optionally with "
        "@version (e.g. cis-aws-foundations@2.0.0)."
    )
# Owners are reminded of acceptances awaiting their sign-off a day after it was asked for, then
# again every this many days until they sign off (or the acceptance ends).
CSPM_SIGNOFF_REMINDER_DAYS = env.int("CSPM_SIGNOFF_REMINDER_DAYS", 7, minimum=1)
# When on, a new acceptance starts as "proposed" until an approver other than its creator
# approves it (four-eyes rule).
CSPM_REQUIRE_APPROVAL = env.bool("CSPM_REQUIRE_APPROVAL", default=False)
# Exception hygiene (the /hygiene/ page): an acceptance flagged for re-review is overdue once
# the flag is older than this many days; an acceptance in force whose last decision (creation,
# approval, edit, extension, renewal, sign-off, re-review) is older than the second figure is
# due for its periodic review.
CSPM_REVIEW_OVERDUE_DAYS = env.int("CSPM_REVIEW_OVERDUE_DAYS", 14, minimum=1)
CSPM_PERIODIC_REVIEW_DAYS = env.int("CSPM_PERIODIC_REVIEW_DAYS", 365, minimum=1)
# The residual-risk bands: the highest likelihood × impact score (1 to 25) of each rating, as
# four rising numbers for low, medium, high and critical (the last one 25).
_bands = env.int_list("CSPM_RISK_BANDS", [4, 9, 16, 25])
if len(_bands) != 4 or _bands[0] < 1 or _bands[-1] != 25 or _bands != sorted(set(_bands)):
    raise SettingError(
        f"CSPM_RISK_BANDS={_bands}: four rising numbers, the top score of low, medium, high "
        "and critical, the last one 25."
    )
CSPM_RISK_BANDS = dict(zip(("low", "medium", "high", "critical"), _bands, strict=True))
# Re-review on material change: a zone-scoped acceptance is flagged "needs re-review" when its
# zone grew by more than this percentage of its size at the decision AND by at least this many
# resources (both: small zones do not flag on one new resource, big ones not on a handful).
CSPM_REVIEW_ZONE_GROWTH = tuple(env.int_list("CSPM_REVIEW_ZONE_GROWTH", [20, 5]))
if len(CSPM_REVIEW_ZONE_GROWTH) != 2 or min(CSPM_REVIEW_ZONE_GROWTH) < 0:
    raise SettingError(
        f"CSPM_REVIEW_ZONE_GROWTH={list(CSPM_REVIEW_ZONE_GROWTH)}: two numbers, the percentage "
        "and the number of resources a zone must grow by to flag its acceptances for re-review."
    )
# Most ids one Terraform download takes per field (finding ids, resource ids): a selection to
# review and apply, not the whole estate in one request.
CSPM_TERRAFORM_MAX_IDS = env.int("CSPM_TERRAFORM_MAX_IDS", 500, minimum=1)

# --- REST framework -------------------------------------------------------------------------
# Throttle rates: "<number>/<second|minute|hour|day>".
_RATE_RE = r"^[0-9]+/(s|sec|second|m|min|minute|h|hour|d|day)$"


def _rate(name: str, default: str) -> str:
    import re

    value = env.str(name, default)
    if not re.match(_RATE_RE, value):
        raise SettingError(f"{name}={value!r} is not a rate such as 120/minute.")
    return value


REST_FRAMEWORK = {
    # A token header first, so that unauthenticated requests answer 401 with WWW-Authenticate;
    # the browser's session next (with its CSRF check on writes).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cspm.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["cspm.api.permissions.RolePermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "cspm.api.pagination.PagePagination",
    "PAGE_SIZE": 50,
    # JSON in; JSON out (and the browsable API for a logged-in browser).
    "DEFAULT_PARSER_CLASSES": ["cspm.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["cspm.api.throttling.WriteThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        # Unsafe requests per user.
        "writes": _rate("CSPM_API_WRITE_RATE", "120/minute"),
        # Failed token authentications per client address.
        "auth_failure": _rate("CSPM_API_AUTH_FAILURE_RATE", "20/minute"),
    },
    "EXCEPTION_HANDLER": "cspm.api.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "cspm.api.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# --- Client addresses and login throttling ---------------------------------------------------
# How many proxies (load balancers) stand in front of the app and append to X-Forwarded-For. 0
# (the default): the header is ignored and the socket's peer is the client, since anyone can
# write the header. Set it to the number of your proxies, no more: the client is read that many
# entries from the right, and what a client wrote further left is ignored.
CSPM_TRUSTED_PROXIES = env.int("CSPM_TRUSTED_PROXIES", 0, minimum=0)
# Wrong passwords at the browser's and the admin console's login, counted per username typed
# and per client address; past either limit every attempt is refused until the window ends.
CSPM_LOGIN_FAILURE_RATE_PER_USERNAME = _rate("CSPM_LOGIN_FAILURE_RATE_PER_USERNAME", "10/hour")
CSPM_LOGIN_FAILURE_RATE_PER_ADDRESS = _rate("CSPM_LOGIN_FAILURE_RATE_PER_ADDRESS", "30/hour")

# --- Content-Security-Policy -------------------------------------------------------------------
# Every page: scripts, styles, images and fonts from the app only, no inline script or style
# (templates keep theirs in static/), no plugins, no framing, forms post to the app only.
# Images may be data: URLs (the API docs' icons are).
CSPM_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

SPECTACULAR_SETTINGS = {
    "TITLE": "CSPM risk-treatment manager API",
    "DESCRIPTION": (
        "Findings of CIS AWS Foundations scans, zones and risk acceptances (ISO 31000). "
        "Authenticate with a personal API token (`Authorization: Bearer cspm_...`) or the "
        "browser session."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs pages need a login (session or token), like every other page.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "AcceptanceStateEnum": "acceptances.models.RiskAcceptance.State",
        "ScanStateEnum": "findings.models.Scan.State",
        "ScanRegionStateEnum": "findings.models.ScanRegion.State",
        "SeverityEnum": "findings.models.Severity",
        "ReasonEnum": "acceptances.models.Reason",
        "TreatmentEnum": "acceptances.models.Treatment",
    },
}

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# Sessions live in the database, never in the cache: with Redis down people stay logged in and
# can log in (the cache is optional, see cspm.cache).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # HSTS: browsers refuse plain HTTP to this host for SECURE_HSTS_SECONDS. A first deploy
    # starts at one hour (raise it to a year once HTTPS works). Covering every subdomain, and
    # asking to be built into browsers (preload: hard to undo, takes months), reach beyond
    # this app: both are the operator's explicit choice, so the deploy check's reminders about
    # them are silenced while they are off.
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 3600, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SILENCED_SYSTEM_CHECKS = [
        *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
        *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
    ]
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logs -----------------------------------------------------------------------------------
# To stderr, one line per record: plain text, or one JSON object per line (LOG_FORMAT=json) for
# a log collector. The worker and beat use this too (cspm.celery._log_through_django).
LOG_LEVEL = env.str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR"):
    raise SettingError(f"LOG_LEVEL={LOG_LEVEL!r} must be one of DEBUG, INFO, WARNING, ERROR.")
LOG_FORMAT = env.choice("LOG_FORMAT", ("plain", "json"), "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "cspm.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        # cspm.celery logs each task's start and end (with its id and duration): Celery's own
        # "succeeded" line would repeat the end. Failures are still logged here, with traceback.
        "celery.app.trace": {"level": "WARNING"},
    },
}
