"""The shared cache, optional for correctness: a Redis cache that carries on when Redis is down.

Everything kept in the cache can be computed again (posture counts, rendered lists, a closed
scan's changes) or only slows an attacker down (login and API throttle counts). Django's Redis
backend raises on a server it cannot reach, which would turn every page into a 500 while the
database is fine; this backend answers as an empty cache instead: reads miss, writes are
dropped, counters count nothing (throttles fail open). The error is logged once per request,
and once a request has found the cache down it stops asking for the rest of that request, so a
blackholed server costs one connect timeout per request, not one per cache call.

``/healthz`` still sees the truth: it uses ``roundtrip``, which raises.
"""

from __future__ import annotations

import contextvars
import functools
import logging
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from django.core.signals import request_started

log = logging.getLogger(__name__)

# Per request: None outside a request (a task, a command: every failure is logged), else
# whether the cache already failed in this request.
_request_found_down: contextvars.ContextVar[bool | None] = contextvars.ContextVar(
    "cspm_cache_found_down", default=None
)


def _start_request(**kwargs: Any) -> None:
    _request_found_down.set(False)


request_started.connect(_start_request, dispatch_uid="cspm.cache.start_request")


def _tolerant(fallback: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run the cache call; when Redis fails, log (once per request) and answer ``fallback``."""

    def decorate(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(self: TolerantRedisCache, *args: Any, **kwargs: Any) -> Any:
            import redis

            found_down = _request_found_down.get()
            if found_down:
                return fallback(*args, **kwargs)
            try:
                return method(self, *args, **kwargs)
            except redis.RedisError as exc:
                if found_down is False:
                    _request_found_down.set(True)
                log.error(
                    "cache unavailable, carrying on without it (%s: %s)",
                    type(exc).__name__,
                    exc,
                )
                return fallback(*args, **kwargs)

        return call

    return decorate


def _none(*args: Any, **kwargs: Any) -> None:
    return None


def _false(*args: Any, **kwargs: Any) -> bool:
    return False


def _default(key: str, default: Any = None, version: int | None = None) -> Any:
    return default


def _empty(*args: Any, **kwargs: Any) -> dict:
    return {}


def _incremented(key: str, delta: int = 1, version: int | None = None) -> int:
    return delta


def _all_keys_failed(data: dict, *args: Any, **kwargs: Any) -> list:
    return list(data)


class TolerantRedisCache(RedisCache):
    """Django's Redis cache, answering as an empty cache while Redis cannot be reached."""

    add = _tolerant(_false)(RedisCache.add)
    get = _tolerant(_default)(RedisCache.get)
    set = _tolerant(_none)(RedisCache.set)
    touch = _tolerant(_false)(RedisCache.touch)
    delete = _tolerant(_false)(RedisCache.delete)
    get_many = _tolerant(_empty)(RedisCache.get_many)
    has_key = _tolerant(_false)(RedisCache.has_key)
    incr = _tolerant(_incremented)(RedisCache.incr)
    set_many = _tolerant(_all_keys_failed)(RedisCache.set_many)
    delete_many = _tolerant(_none)(RedisCache.delete_many)
    clear = _tolerant(_false)(RedisCache.clear)

    def roundtrip(self, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT) -> Any:
        """Write ``value`` and read it back, raising when Redis fails (for the health check)."""
        RedisCache.set(self, key, value, timeout)
        return RedisCache.get(self, key)
