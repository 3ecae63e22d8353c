"""Counting failures (wrong passwords) per key in a window, in the shared cache.

Fixed windows counted with the cache's atomic increment: in production the cache is Redis, so
every web process and machine adds to the same count and no race lets extra attempts through.
"""

from __future__ import annotations

import hashlib
import re
import time

from django.core.cache import cache

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE_RE = re.compile(r"^([0-9]+)/(s|sec|second|m|min|minute|h|hour|d|day)$")


def parse_rate(rate: str) -> tuple[int, int]:
    """``"10/hour"`` → ``(10, 3600)``: the number allowed and the window in seconds."""
    match = RATE_RE.match(rate)
    if match is None:
        raise ValueError(f"{rate!r} is not a rate such as 10/hour.")
    return int(match.group(1)), _PERIODS[match.group(2)[0]]


class FailureCounter:
    """At most ``number`` failures per key in each window of ``period`` seconds."""

    def __init__(self, scope: str, rate: str) -> None:
        self.scope = scope
        self.number, self.period = parse_rate(rate)

    def _key(self, ident: str, now: float) -> tuple[str, int]:
        window = int(now // self.period)
        # Hashed: a username may be long or hold characters a cache key should not.
        digest = hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return f"failures:{self.scope}:{digest}:{window}", (window + 1) * self.period

    def wait(self, ident: str) -> int:
        """Seconds until ``ident`` may try again (0: it may now)."""
        now = time.time()
        key, ends = self._key(ident, now)
        if (cache.get(key) or 0) >= self.number:
            return max(1, int(ends - now))
        return 0

    def record(self, ident: str) -> None:
        now = time.time()
        key, ends = self._key(ident, now)
        # add() then incr(): both atomic in Redis; the key outlives its window by a little.
        cache.add(key, 0, timeout=int(ends - now) + 1)
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls: start the window again
            cache.add(key, 1, timeout=int(ends - now) + 1)

    def reset(self, ident: str) -> None:
        cache.delete(self._key(ident, time.time())[0])
