"""A whole scan through a real Celery worker process, with Redis and PostgreSQL."""

from __future__ import annotations

import pytest

from findings.models import Finding, Scan
from findings.services import register_account, scans
from simulation.account import seed_story_stack
from tests.plugins.worker import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.servers]


def test_a_scan_runs_on_the_workers_and_lands_every_unit(catalog, aws, celery_worker):
    story = seed_story_stack(aws, bucket_name="story-images")
    account, _ = register_account(
        account_id=story.account_id,
        name="story",
        endpoint_url=aws,
        regions=["eu-west-1", "us-east-1"],
        scan_interval_hours=0,
    )
    scan = scans.start_scan(account)  # committed at once: this test runs outside a transaction
    assert scan.state == Scan.State.QUEUED

    def finished() -> bool:
        scan.refresh_from_db()
        return scan.is_finished

    wait_for(finished, timeout=240)
    assert scan.state == Scan.State.SUCCEEDED, scan.error
    assert scan.regions_done == scan.regions_total == 3  # two regions and the global unit
    assert scan.regions.filter(state="succeeded").count() == scan.regions_total
    assert Finding.objects.filter(
        control_check__controls__ref="5.6",
        resource__arn__endswith=f"instance/{story.instance_id}",
        status="fail",
    ).exists()
    # Each (check, resource) once, whatever the workers' concurrency.
    total = Finding.objects.count()
    assert total == scan.findings_total
    assert Finding.objects.values("control_check", "resource").distinct().count() == total
