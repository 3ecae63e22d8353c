"""The health endpoint: is each part this process needs reachable, reported part by part.

``/healthz`` is answered by a middleware placed before Django's security, host and login
checks: a load balancer probes it over plain HTTP, with the machine's address as host and no
session, and must get the answer, not a redirect to HTTPS, a 400 for an unknown host or a login
page. It names no host, port or message (the probe is unauthenticated); the details are logged.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger(__name__)

HEALTH_PATHS = ("/healthz", "/healthz/")
# A probe that waits on a blackholed Redis must answer before the load balancer gives up.
_REDIS_TIMEOUT = 2.0


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return  # embedded: tasks run in-process, there is no broker to reach
    import redis

    with redis.Redis.from_url(
        url, socket_connect_timeout=_REDIS_TIMEOUT, socket_timeout=_REDIS_TIMEOUT
    ) as client:
        client.ping()


def _cache() -> None:
    # A write and a read back: a cache that answers reads but refuses writes is not healthy.
    # The app's Redis cache hides a server that is down (cspm.cache); its roundtrip does not.
    value = uuid.uuid4().hex
    roundtrip = getattr(cache, "roundtrip", None)
    if roundtrip is not None:
        read = roundtrip("healthz", value, timeout=60)
    else:
        cache.set("healthz", value, timeout=60)
        read = cache.get("healthz")
    if read != value:
        raise RuntimeError("the value written was not read back")


CHECKS: dict[str, Callable[[], None]] = {
    "database": _database,
    "broker": _broker,
    "cache": _cache,
}


# Parts without which the app cannot answer at all: one down answers 503, so a load balancer
# takes the process out. The others (broker: scans cannot start; cache: pages are slower) leave
# every page answering, so the probe says "degraded" with 200: taking every process out of the
# load balancer because Redis is down would turn a slower site into no site.
ESSENTIAL = ("database",)


def health_report() -> tuple[bool, dict[str, str]]:
    """Run every check; ``(all ok, {part: "ok" | "error: <exception class>"})``."""
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # any failure means "this part is down"
            log.warning("health check: %s is unavailable: %s", name, exc)
            results[name] = f"error: {type(exc).__name__}"
            if name == "database":
                # Do not hand a broken connection to the next request of this process.
                connection.close()
        else:
            results[name] = "ok"
    return all(v == "ok" for v in results.values()), results


def health_response() -> JsonResponse:
    """200 ``ok``; 200 ``degraded`` with a non-essential part down; 503 with an essential one.

    ``down`` names the failing parts, ``checks`` says each part's state."""
    healthy, checks = health_report()
    down = [name for name, result in checks.items() if result != "ok"]
    body: dict[str, object] = {"status": "ok" if healthy else "degraded", "checks": checks}
    if down:
        body["down"] = down
    response = JsonResponse(body, status=503 if set(down) & set(ESSENTIAL) else 200)
    response.headers["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    """Answers ``/healthz`` before the HTTPS redirect, the host check and the login check."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info in HEALTH_PATHS and request.method in ("GET", "HEAD"):
            return health_response()
        return self.get_response(request)
