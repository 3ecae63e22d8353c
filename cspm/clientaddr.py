"""The address of the client that sent a request, for throttles and logs.

``REMOTE_ADDR`` is the peer of the socket: the client itself, or the last proxy in front of
the app. ``X-Forwarded-For`` is written by whoever sent the request, so it is trusted only when
the operator says how many proxies stand in front (``CSPM_TRUSTED_PROXIES``): each of them
appends the address it received the request from, so the client is the N-th entry from the
right, and anything further left was written by the client and is ignored. With no trusted
proxy the header is ignored entirely: otherwise an attacker would change it at every attempt
to dodge a throttle, or write a victim's address into it to lock the victim out.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def client_address(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = getattr(settings, "CSPM_TRUSTED_PROXIES", 0)
    if proxies <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if not forwarded:
        # Reached the app without passing a proxy that writes the header: the peer it is.
        return remote
    candidate = forwarded[-min(proxies, len(forwarded))]
    return candidate if _valid(candidate) else remote
