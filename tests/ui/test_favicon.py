"""Every page names its icon, and /favicon.ico (asked for by pages that name none, such as
the admin console) answers with it instead of a 404."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_favicon_is_found_from_every_page(login, viewer):
    response = Client().get("/favicon.ico", follow=True)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x00\x00\x01\x00")  # an icon
    page = login(viewer).get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon.ico">' in page
