"""Accounts are reached by assuming a role with an external id; no secret is ever stored."""

from __future__ import annotations

import pytest
from django.db import connection

from findings.aws import CollectionError
from findings.aws.session import enabled_regions, session_for
from findings.models import Scan
from findings.services import register_account, scans
from simulation.account import seed_story_stack

pytestmark = pytest.mark.django_db

ROLE = "arn:aws:iam::123456789012:role/cspm-audit"


@pytest.fixture
def role_account(catalog, aws):
    seed_story_stack(aws, bucket_name="story-images")
    account, _ = register_account(
        account_id="123456789012",
        name="story",
        role_arn=ROLE,
        external_id="a-long-random-external-id",
        endpoint_url=aws,
        regions=["us-east-1"],
        scan_interval_hours=0,
    )
    return account


def test_the_scanner_assumes_the_role_and_scans_with_its_temporary_credentials(
    role_account, django_capture_on_commit_callbacks
):
    session = session_for(role_account)
    credentials = session.get_credentials()
    assert credentials.token, "assumed-role credentials carry a session token"
    assert enabled_regions(role_account, session) == ["us-east-1"]
    with django_capture_on_commit_callbacks(execute=True):
        scan = scans.start_scan(role_account)
    scan.refresh_from_db()
    assert scan.state == Scan.State.SUCCEEDED, scan.error
    # Nothing of the temporary credentials reaches the database.
    with connection.cursor() as cursor:
        for table in ("findings_cloudaccount", "findings_scan", "findings_scanregion"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            dump = repr(cursor.fetchall())
            assert credentials.access_key not in dump and credentials.secret_key not in dump


def test_a_role_that_cannot_be_assumed_fails_the_scan_with_the_reason(
    role_account, aws_front, django_capture_on_commit_callbacks
):
    aws_front.denied.add("us-east-1")  # STS answers AccessDenied
    with pytest.raises(CollectionError, match="AssumeRole"):
        session_for(role_account)
    with django_capture_on_commit_callbacks(execute=True):
        scan = scans.start_scan(role_account)
    scan.refresh_from_db()
    assert scan.state == Scan.State.FAILED
    assert "AssumeRole" in scan.error and "AccessDenied" in scan.error


def test_a_region_the_account_does_not_report_is_refused(role_account):
    role_account.regions = ["us-east-1", "xx-nowhere-9"]
    with pytest.raises(CollectionError, match="xx-nowhere-9"):
        enabled_regions(role_account, session_for(role_account))
