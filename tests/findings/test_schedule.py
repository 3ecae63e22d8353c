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


def _scan_at(account, state: str, ago: dt.timedelta) -> Scan:
    with time_machine.travel(NOW - ago, tick=False):
        return Scan.objects.create(account=account, state=state, trigger=Scan.Trigger.SCHEDULE)


def _started() -> set[int]:
    """Ids of the accounts that start_due_scans starts a scan of, now."""
    with time_machine.travel(NOW, tick=False):
        return {Scan.objects.get(pk=pk).account_id for pk in scans.start_due_scans()}


def test_a_failed_scan_is_retried_after_15_minutes_not_a_day(make_account):
    soon = make_account(scan_interval_hours=24)
    _scan_at(soon, Scan.State.SUCCEEDED, dt.timedelta(hours=30))
    _scan_at(soon, Scan.State.FAILED, dt.timedelta(minutes=10))
    later = make_account(scan_interval_hours=24)
    _scan_at(later, Scan.State.FAILED, dt.timedelta(minutes=16))
    assert _started() == {later.pk}


def test_retries_back_off_with_each_failure_in_a_row(make_account):
    # Three failures in a row: the next try waits 15 × 2² = 60 minutes after the last one.
    account = make_account(scan_interval_hours=24)
    for minutes in (200, 150, 50):
        _scan_at(account, Scan.State.FAILED, dt.timedelta(minutes=minutes))
    other = make_account(scan_interval_hours=24)
    for minutes in (200, 150, 61):
        _scan_at(other, Scan.State.FAILED, dt.timedelta(minutes=minutes))
    assert _started() == {other.pk}


def test_a_retry_never_waits_longer_than_the_interval(make_account):
    hourly = make_account(scan_interval_hours=1)
    for hours in range(12, 0, -1):  # twelve failures in a row, the last 61 minutes ago
        _scan_at(hourly, Scan.State.FAILED, dt.timedelta(hours=hours, minutes=1))
    assert _started() == {hourly.pk}


def test_succeeded_and_partial_scans_wait_the_full_interval(make_account):
    for state in (Scan.State.SUCCEEDED, Scan.State.PARTIAL):
        account = make_account(scan_interval_hours=24)
        _scan_at(account, Scan.State.FAILED, dt.timedelta(hours=2))
        _scan_at(account, state, dt.timedelta(hours=1))
    assert _started() == set()
