"""Which address a request comes from, with and without trusted proxies (pure logic)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from cspm.clientaddr import client_address


def _request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    "proxies, forwarded, expected",
    [
        (0, "1.2.3.4", "10.0.0.2"),  # no proxy trusted: the header is anyone's
        (1, None, "10.0.0.2"),  # no header: the peer
        (1, "1.2.3.4", "1.2.3.4"),
        (1, "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # the client's own entries are ignored
        (2, "6.6.6.6, 1.2.3.4, 10.0.0.1", "1.2.3.4"),
        (2, "1.2.3.4", "1.2.3.4"),  # fewer entries than proxies: the leftmost
        (1, "not-an-address", "10.0.0.2"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_is_read_from_the_right_of_the_header(settings, proxies, forwarded, expected):
    settings.CSPM_TRUSTED_PROXIES = proxies
    assert client_address(_request("10.0.0.2", forwarded)) == expected
