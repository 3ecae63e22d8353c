"""The broker unreachable when a scan is started: the API and the scans page answer 503 with a
clear message, beat carries on, no scan is left that would never run, and scans start again
as soon as the broker is back. A real port where nothing listens, then real Redis behind it."""

from __future__ import annotations

import pytest
import redis
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from findings.models import Scan
from findings.services import scans

pytestmark = [pytest.mark.postgres, pytest.mark.servers]

URL = "/api/v1/scans/"


def test_a_scan_started_while_the_broker_is_down_answers_503_and_blocks_nothing(
    committed_db, broker_down, redis_url, analyst, make_account
):
    scheduled = make_account(name="nightly", scan_interval_hours=24)
    account = make_account(name="prod", scan_interval_hours=0)
    api = APIClient()
    api.force_login(analyst)
    page = Client()
    page.force_login(analyst)

    # Beat: the due account's scan fails with the reason, and the job itself carries on.
    assert scans.start_due_scans() == []
    nightly = Scan.objects.get(account=scheduled)
    assert nightly.state == Scan.State.FAILED
    assert nightly.error.startswith("Not queued: the task broker is unreachable")

    response = api.post(URL, {"account": account.pk}, format="json")
    assert response.status_code == 503
    assert "broker is unreachable" in response.json()["detail"]
    assert str(broker_down.port) not in response.json()["detail"]  # its address is for the log
    response = page.post(reverse("scan-start"), {"account": account.pk})
    assert response.status_code == 503
    assert "broker is unreachable" in response.content.decode()

    # Nothing was left queued to block the next request: each attempt is a failed scan.
    assert set(Scan.objects.values_list("state", flat=True)) == {"failed"}
    assert Scan.objects.filter(account=account).count() == 2

    broker_down.open()  # the broker is back, at the same address
    response = api.post(URL, {"account": account.pk}, format="json")
    assert response.status_code == 202 and response.json()["state"] == "queued"
    response = page.post(reverse("scan-start"), {"account": scheduled.pk})
    assert response.status_code == 302
    assert Scan.objects.filter(state=Scan.State.QUEUED).count() == 2
    # Both planning tasks wait on the scans queue for a worker.
    assert redis.Redis.from_url(redis_url).llen("scans") == 2
