"""Fixtures for drift tests: the story's simulated account, registered, and a scan helper."""

from __future__ import annotations

import pytest

from findings.models import Scan
from findings.services import register_account, scans
from findings.simulation import seed_story_stack


@pytest.fixture
def story(aws):
    return seed_story_stack(aws, bucket_name="story-images")


@pytest.fixture
def account(catalog, story, aws):
    # One region keeps each scan quick; the global unit (IAM, S3 buckets) runs too.
    account, _ = register_account(
        account_id=story.account_id,
        name="story",
        endpoint_url=aws,
        regions=["us-east-1"],
        scan_interval_hours=0,
    )
    return account


@pytest.fixture
def scan_now(django_capture_on_commit_callbacks):
    """Run a whole scan as the workers would (eager tasks), commit callbacks included: the
    drift alert task that a closing scan queues runs too."""

    def run(account) -> Scan:
        with django_capture_on_commit_callbacks(execute=True):
            scan = scans.start_scan(account)
        scan.refresh_from_db()
        assert scan.state == Scan.State.SUCCEEDED, scan.error
        return scan

    return run
