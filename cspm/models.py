"""Project-level data: personal API tokens for scripts and pipelines.

Models hold data and pure derived logic only; every write goes through ``cspm.services``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from django.conf import settings
from django.db import models

TOKEN_PREFIX = "cspm"  # noqa: S105 - the visible marker of a token, not a secret


def token_digest(raw: str) -> str:
    """SHA-256 of the whole token.

    A token carries 256 random bits, so a plain (unsalted, fast) digest is enough: there is no
    dictionary to try. A password hasher would only add a slow hash to every API request.
    """
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class ApiToken(models.Model):
    """A user's personal API token, shown once at creation and stored as a digest only.

    The token reads ``cspm_<prefix>_<secret>``: the prefix finds the row (and lets people tell
    their tokens apart), the digest of the whole token proves it.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'CI pipeline'.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField("SHA-256 digest", max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Updated at most once a minute (see cspm.services.touch_api_token), not on every request.
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({TOKEN_PREFIX}_{self.prefix}_…)"

    @property
    def display(self) -> str:
        return f"{TOKEN_PREFIX}_{self.prefix}_…"

    def is_usable(self, now: dt.datetime) -> bool:
        return (
            self.revoked_at is None
            and (self.expires_at is None or self.expires_at > now)
            and self.user.is_active
        )

    def matches(self, raw: str) -> bool:
        return hmac.compare_digest(self.digest, token_digest(raw))
