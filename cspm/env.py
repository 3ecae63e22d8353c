"""Typed reads of environment variables that fail loudly on bad values.

A typo in production settings should stop the process at start-up with a message naming the
variable, not surface later as a half-working deployment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingError(ImproperlyConfigured):
    """A missing or malformed setting. ``manage.py``, the WSGI entry point and the Celery app
    print its message as one line and stop, instead of a traceback ending in it."""


class Env:
    """Reads settings from a mapping (``os.environ`` by default)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def is_set(self, name: str) -> bool:
        return self.environ.get(name, "") != ""

    def str(self, name: str, default: str | None = None) -> str:
        value = self.environ.get(name, "")
        if value == "":
            if default is None:
                raise SettingError(f"{name} must be set.")
            return default
        return value

    def bool(self, name: str, default: bool) -> bool:
        raw = self.environ.get(name)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise SettingError(
            f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off."
        )

    def int(self, name: str, default: int, minimum: int | None = None) -> int:
        raw = self.environ.get(name, "")
        if raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingError(f"{name}={raw!r} is not a whole number.") from None
        if minimum is not None and value < minimum:
            raise SettingError(f"{name}={value} must be at least {minimum}.")
        return value

    def list(self, name: str, default: list[str] | None = None) -> list[str]:
        raw = self.environ.get(name, "")
        if raw.strip() == "":
            return list(default or [])
        return [item.strip() for item in raw.split(",") if item.strip()]

    def int_list(self, name: str, default: list[int]) -> list[int]:
        items = self.list(name)
        if not items:
            return list(default)
        try:
            values = [int(item) for item in items]
        except ValueError:
            raise SettingError(
                f"{name}={self.environ[name]!r} must be a comma-separated list of whole numbers."
            ) from None
        if any(value < 0 for value in values):
            raise SettingError(f"{name} must not contain negative numbers.")
        return values

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.environ.get(name, "") or default
        if value not in choices:
            raise SettingError(f"{name}={value!r} must be one of {', '.join(choices)}.")
        return value
