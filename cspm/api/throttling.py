"""Throttles: failed authentications per client address, and writes per user.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (settings, from the environment)
and are read at each request, so a changed setting applies without a restart of the class.
Counts live in the Django cache: per process in the embedded mode, shared when a shared cache
is configured.
"""

from __future__ import annotations

from rest_framework import exceptions, throttling
from rest_framework.request import Request
from rest_framework.settings import api_settings

from cspm.clientaddr import client_address


class _SettingsRate:
    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request: Request) -> str:
        # DRF's own reading trusts any X-Forwarded-For unless NUM_PROXIES is set: a client
        # could dodge the throttle, or lock another address out, by writing the header.
        return client_address(request)


class WriteThrottle(_SettingsRate, throttling.UserRateThrottle):
    """Unsafe methods (POST, PUT, PATCH, DELETE) per user; reads are not throttled."""

    scope = "writes"

    def allow_request(self, request: Request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)


class AuthFailureThrottle(_SettingsRate, throttling.SimpleRateThrottle):
    """Failed token authentications per client address.

    Only failures count, and only failures are refused: a pipeline with a good token is never
    slowed down or locked out by someone else's bad attempts from the same address.
    """

    scope = "auth_failure"

    def get_cache_key(self, request: Request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def _load(self, request: Request) -> str | None:
        if self.rate is None:
            return None
        self.key = self.get_cache_key(request, None)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        return self.key

    def check_not_blocked(self, request: Request) -> None:
        if self._load(request) and len(self.history) >= self.num_requests:
            raise exceptions.Throttled(self.wait())

    def record_failure(self, request: Request) -> None:
        if self._load(request):
            self.history.insert(0, self.now)
            self.cache.set(self.key, self.history, self.duration)
