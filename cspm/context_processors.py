"""What every page's template may ask about the deployment."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def approval(request: HttpRequest) -> dict[str, bool]:
    """With the four-eyes rule on, the pages say "propose" where they would say "accept": an
    acceptance starts as a proposal until an approver approves it."""
    return {"require_approval": settings.CSPM_REQUIRE_APPROVAL}
