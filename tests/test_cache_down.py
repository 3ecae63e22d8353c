"""The cache is optional for correctness: with its Redis down (a loopback port where nothing
listens), pages, the API and logging in still answer, counting without it, and each request
logs the error once."""

from __future__ import annotations

import logging
import socket

import pytest
from django.test import Client

from acceptances import services
from cspm import services as token_services

pytestmark = pytest.mark.django_db


def _dead_redis_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def cache_down(settings):
    """The cache as production configures it (cspm.settings), on a Redis that is down."""
    settings.CACHES = {
        "default": {
            "BACKEND": "cspm.cache.TolerantRedisCache",
            "LOCATION": _dead_redis_url(),
            "KEY_PREFIX": "cspm",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    return settings


def _cache_errors(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "cspm.cache" and r.levelno >= logging.ERROR]


def test_pages_and_the_api_answer_with_the_cache_down(
    cache_down, caplog, catalog, make_account, make_finding, analyst, approver
):
    account = make_account()
    failing = make_finding(account=account, control_ref="2.1.2")
    make_finding(account=account, control_ref="2.1.2", status="pass")
    acceptance = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        owner=analyst,
        reason="risk_owned",
        justification="Images are public by design.",
        resource=failing.resource,
    )
    client = Client()
    # Logging in: sessions are in the database, the login throttle fails open.
    response = client.post(
        "/login/", {"username": analyst.username, "password": "correct horse battery"}
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session
    control = acceptance.control
    # Each page, and whether it reads cached counts (the others must simply not care).
    pages = [
        ("/", True),
        (f"/controls/{control.pk}/", True),
        (f"/controls/{control.pk}/?status=all", True),
        ("/acceptances/", False),
        (f"/acceptances/{acceptance.pk}/", False),
        ("/api/v1/posture/", True),
        ("/api/v1/findings/", False),
    ]
    for page, uses_cache in pages:
        caplog.clear()
        response = client.get(page)
        assert response.status_code == 200, page
        # The error is in the log, once for the request however many cache calls it made.
        assert len(_cache_errors(caplog)) == (1 if uses_cache else 0), page
    # The counting was done without the cache: the accepted and the passing finding are there.
    totals = client.get("/api/v1/posture/").json()["totals"]
    assert (totals["accepted"], totals["passing"]) == (1, 1), totals

    # The API with a token and its throttles (counted in the cache): answered, not refused.
    _, raw = token_services.create_api_token(actor=approver, user=approver, name="ci")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/findings/").status_code == 200
    assert (
        api.post(
            f"/api/v1/acceptances/{acceptance.pk}/revoke/", {}, content_type="application/json"
        ).status_code
        == 200
    )
    assert Client(HTTP_AUTHORIZATION="Bearer nope").get("/api/v1/findings/").status_code == 401


def test_a_wrong_password_is_still_refused_with_the_cache_down(cache_down, analyst):
    client = Client()
    response = client.post("/login/", {"username": analyst.username, "password": "wrong"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_production_settings_use_the_tolerant_cache():
    """As configured from the environment (CACHE_URL), a dead cache reads as a miss."""
    from tests.test_settings import PRODUCTION, _manage

    result = _manage(
        "shell",
        "-c",
        "from django.core.cache import cache; print(cache.get('anything', 'missed'))",
        **{**PRODUCTION, "CACHE_URL": _dead_redis_url()},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "missed"
    assert "cache unavailable" in result.stderr
