"""Fixtures of the API tests: clients acting as each persona, and a small estate to read."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from acceptances import services as acceptance_services
from cspm import services as token_services


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle counts live in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api() -> Callable[..., APIClient]:
    """``api(user)``: a client logged in as ``user`` (by session); ``api()``: anonymous."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def token_client() -> Callable[..., APIClient]:
    """``token_client(user)``: a client sending a fresh API token of ``user``."""

    def make(user, keyword: str = "Bearer") -> APIClient:
        _, raw = token_services.create_api_token(actor=user, user=user, name="tests")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"{keyword} {raw}")
        return client

    return make


@pytest.fixture
def estate(db, catalog, make_account, make_finding, approver, analyst):
    """An account with failing and passing findings, a zone and an acceptance."""
    account = make_account()
    failing = make_finding(account=account, control_ref="2.1.2", tags={"Env": "prod"})
    passing = make_finding(account=account, control_ref="2.1.2", status="pass")
    other = make_finding(account=account, control_ref="2.1.1", tags={"Env": "dev"})
    zone = acceptance_services.save_zone(actor=approver, name="prod", rules={"tags": ["Env=prod"]})
    acceptance = acceptance_services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        owner=analyst,
        reason="risk_owned",
        justification="Versioning covers mistakes.",
        resource=failing.resource,
    )
    return {
        "account": account,
        "failing": failing,
        "passing": passing,
        "other": other,
        "zone": zone,
        "acceptance": acceptance,
        "benchmark": catalog,
    }
