"""Scheduled scans: each account's interval decides; a running scan is never doubled."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from findings.models import Scan
from findings.services import scans

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def test_due_accounts_are_scanned_once(make_account, django_capture_on_commit_callbacks):
    daily = make_account(scan_interval_hours=24)
    manual = make_account(scan_interval_hours=0)
    disabled = make_account(scan_interval_hours=24, enabled=False)
    with time_machine.travel(NOW - dt.timedelta(hours=25), tick=False):
        old = Scan.objects.create(account=daily, state=Scan.State.SUCCEEDED)
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks() as queued:
        started = scans.start_due_scans()
        again = scans.start_due_scans()
    assert len(started) == 1 and again == []
    scan = Scan.objects.get(pk=started[0])
    assert scan.account == daily and scan.trigger == Scan.Trigger.SCHEDULE and scan != old
    assert len(queued) == 1  # one task dispatched, after commit
    assert not manual.scans.exists() and not disabled.scans.exists()


def test_an_account_scanned_recently_is_not_due(make_account):
    account = make_account(scan_interval_hours=24)
    with time_machine.travel(NOW - dt.timedelta(hours=23), tick=False):
        Scan.objects.create(account=account, state=Scan.State.SUCCEEDED)
    with time_machine.travel(NOW, tick=False):
        assert scans.start_due_scans() == []


def test_the_beat_schedule_runs_the_dispatcher():
    from django.conf import settings

    entries = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "findings.start_due_scans" in entries
