"""The one helper every email goes through: ``emails/<name>-subject.txt``, ``-body.txt`` and
``-body.html``, rendered with the site's address."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def send_templated(
    name: str, to: Sequence[str], context: dict[str, Any], *, connection: Any = None
) -> int:
    """Render ``emails/<name>-subject.txt``, ``-body.txt`` and ``-body.html``; send to ``to``.

    The subject is folded onto one line. Returns how many messages were sent (1); sending
    errors propagate, since only the caller knows what a failure means. ``connection``: an
    email backend connection the caller opened (default: a new one for this message).
    """
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{name}-body.txt", context),
        to=list(to),
        connection=connection,
    )
    message.attach_alternative(render_to_string(f"emails/{name}-body.html", context), "text/html")
    return message.send()
