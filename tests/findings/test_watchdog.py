"""The watchdog: a unit or scan with no progress for CSPM_SCAN_STALL_SECONDS is failed, says
why, and its scan closes; a new scan request never gets a dead scan back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from findings.models import Scan, ScanRegion
from findings.services import scans

pytestmark = pytest.mark.django_db

BOUND = dt.timedelta(seconds=settings.CSPM_SCAN_STALL_SECONDS)


def _running_scan(account, at: dt.datetime, units: dict[str, tuple[str, dt.datetime | None]]):
    """A running scan planned at ``at``; ``units``: region -> (state, started or finished at)."""
    scan = Scan.objects.create(
        account=account,
        state=Scan.State.RUNNING,
        started_at=at,
        regions_total=len(units),
        regions_done=sum(state in ("succeeded", "failed") for state, _ in units.values()),
    )
    Scan.objects.filter(pk=scan.pk).update(created_at=at)
    for region, (state, when) in units.items():
        done = state in ("succeeded", "failed")
        ScanRegion.objects.create(
            scan=scan,
            region=region,
            state=state,
            started_at=when,
            finished_at=when if done else None,
        )
    return scan


def test_the_watchdog_fails_what_made_no_progress_and_closes_the_scans(make_account):
    start = timezone.now()
    now = start + BOUND + dt.timedelta(minutes=1)  # time has passed: no sleep, ``now`` says so
    # Its worker was killed for good in us-east-1; eu-west-1's task was lost with it.
    dead = _running_scan(
        make_account(),
        start,
        {
            "global": ("succeeded", start),
            "us-east-1": ("running", start),
            "eu-west-1": ("pending", None),
        },
    )
    # Never planned: no worker took its planning task.
    never = Scan.objects.create(account=make_account())
    Scan.objects.filter(pk=never.pk).update(created_at=start)
    # Still moving (a unit finished ten minutes ago), but us-east-1 has hung since the start.
    moving = _running_scan(
        make_account(),
        start,
        {
            "global": ("succeeded", now - dt.timedelta(minutes=10)),
            "us-east-1": ("running", start),
            "eu-west-1": ("running", now - dt.timedelta(minutes=10)),
            "eu-north-1": ("pending", None),
        },
    )

    closed = scans.close_stalled_scans(now)

    assert sorted(closed) == sorted([dead.pk, never.pk])
    dead.refresh_from_db()
    assert dead.state == Scan.State.PARTIAL and dead.finished_at == now
    assert dead.error.startswith("No progress for ")
    assert "closed by the watchdog" in dead.error and "eu-west-1, us-east-1" in dead.error
    units = {row.region: row for row in dead.regions.all()}
    assert units["global"].state == ScanRegion.State.SUCCEEDED
    assert units["us-east-1"].state == units["eu-west-1"].state == ScanRegion.State.FAILED
    assert units["us-east-1"].error.startswith("No result ")
    assert "worker was lost" in units["us-east-1"].error
    assert units["eu-west-1"].error.startswith("Never ran: the scan made no progress")
    assert dead.regions_done == dead.regions_total == 3

    never.refresh_from_db()
    assert never.state == Scan.State.FAILED and never.error.startswith("Never started")

    moving.refresh_from_db()
    assert moving.state == Scan.State.RUNNING  # its other units still run
    states = dict(moving.regions.values_list("region", "state"))
    assert states == {
        "global": "succeeded",
        "us-east-1": "failed",
        "eu-west-1": "running",
        "eu-north-1": "pending",
    }
    # A second run finds nothing more to do.
    assert scans.close_stalled_scans(now) == []


def test_a_new_scan_request_never_gets_a_dead_scan_back(make_account):
    account = make_account()
    long_ago = timezone.now() - BOUND - dt.timedelta(minutes=1)
    dead = _running_scan(account, long_ago, {"us-east-1": ("running", long_ago)})
    live = scans.start_scan(account, dispatch=False)
    assert live != dead and live.state == Scan.State.QUEUED
    dead.refresh_from_db()
    assert dead.state == Scan.State.FAILED and "closed by the watchdog" in dead.error
    # A scan that is merely busy is still the one answered.
    assert scans.start_scan(account, dispatch=False) == live


def test_beat_runs_the_watchdog_and_so_does_its_command(make_account):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "findings.close_stalled_scans" in tasks
    account = make_account(name="stuck")
    stuck = Scan.objects.create(account=account)
    Scan.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - BOUND * 2)
    call_command("close_stalled_scans")
    stuck.refresh_from_db()
    assert stuck.state == Scan.State.FAILED and "Never started" in stuck.error
