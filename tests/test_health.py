"""/healthz: database, broker and cache reported each, for a load balancer's plain-HTTP probe."""

from __future__ import annotations

import socket

import pytest
import redis

pytestmark = pytest.mark.django_db


def _dead_port() -> int:
    """A loopback port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _dead_redis_url() -> str:
    return f"redis://127.0.0.1:{_dead_port()}/0"


def _redis_cache(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "cspm.cache.TolerantRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "cspm-health-test",
        }
    }


@pytest.fixture
def production_like(settings, redis_url):
    """The checks a production process runs: Redis broker and cache, HTTPS enforced, one host."""
    redis.Redis.from_url(redis_url).ping()  # the test's own Redis must be up
    settings.CELERY_BROKER_URL = redis_url
    settings.CACHES = _redis_cache(redis_url)
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["cspm.example.com"]
    return settings


def test_it_answers_200_with_each_part_ok(client, production_like):
    response = client.get("/healthz", HTTP_HOST="cspm.example.com", secure=True)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "cache": "ok"},
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_a_load_balancer_probe_gets_the_answer_over_plain_http_on_any_host(client, production_like):
    # The machine's address as host, plain HTTP, no session: no 301 to HTTPS, no 400 for the
    # host, no login page.
    response = client.get("/healthz", HTTP_HOST="10.0.3.7:8000")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    # Everything else still gets those answers.
    assert client.get("/", HTTP_HOST="10.0.3.7:8000").status_code == 400
    assert client.get("/", HTTP_HOST="cspm.example.com").status_code == 301


def test_redis_down_answers_200_degraded_naming_the_broker_and_the_cache(client, production_like):
    # Pages keep answering without Redis (the cache is optional, scans wait): a load balancer
    # must not take every process out of service, so 200, with "degraded" and what is down.
    dead = _dead_redis_url()
    production_like.CELERY_BROKER_URL = dead
    production_like.CACHES = _redis_cache(dead)
    response = client.get("/healthz", HTTP_HOST="10.0.3.7")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["down"] == ["broker", "cache"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error: ")
    assert body["checks"]["cache"] == "error: ConnectionError"
    assert "127.0.0.1" not in response.content.decode()  # the probe is unauthenticated


def test_only_the_cache_is_reported_when_only_the_cache_is_down(client, production_like):
    production_like.CACHES = _redis_cache(_dead_redis_url())
    response = client.get("/healthz", HTTP_HOST="10.0.3.7")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded" and body["down"] == ["cache"]
    checks = body["checks"]
    assert checks["broker"] == "ok" and checks["database"] == "ok"
    assert checks["cache"] == "error: ConnectionError"


@pytest.mark.postgres
def test_the_database_down_answers_503(transactional_db, client, production_like):
    """Nothing can be served without the database: the probe answers 503."""
    from django.db import connection

    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(_dead_port()))
    try:
        response = client.get("/healthz", HTTP_HOST="10.0.3.7")
    finally:
        connection.close()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded" and body["down"] == ["database"]
    assert body["checks"]["cache"] == "ok" and body["checks"]["broker"] == "ok"
