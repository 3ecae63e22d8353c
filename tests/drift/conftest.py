"""Fixtures for drift tests: the story's account (tests/conftest.py), closed scans, changes."""

from __future__ import annotations

import pytest
from django.utils import timezone

from findings.models import AccountRegion, Scan, ScanChange
from findings.services.ingest import check_severities


@pytest.fixture
def account(story_account):
    return story_account


@pytest.fixture
def closed_scan(make_account):
    """A closed scan of a fresh account, with its units' last run pointing at it: the shape
    a real scan leaves, for tests that write its changes by hand (no servers)."""

    def make(account=None, units=("global", "us-east-1")) -> Scan:
        account = account or make_account()
        now = timezone.now()
        scan = Scan.objects.create(
            account=account,
            state=Scan.State.SUCCEEDED,
            started_at=now,
            finished_at=now,
            regions_total=len(units),
            regions_done=len(units),
        )
        for unit in units:
            AccountRegion.objects.update_or_create(
                account=account, region=unit, defaults={"last_scan": scan, "last_scanned_at": now}
            )
        return scan

    return make


@pytest.fixture
def add_change():
    """Record a change of a finding in a scan, as ingest would."""

    def add(scan, finding, kind="new_failure", accepted=False, severity=None) -> ScanChange:
        if severity is None:
            severity = check_severities([finding.control_check_id]).get(
                finding.control_check_id, ""
            )
        return ScanChange.objects.create(
            scan=scan,
            finding=finding,
            kind=kind,
            accepted=accepted,
            severity=severity,
            at=timezone.now(),
        )

    return add
