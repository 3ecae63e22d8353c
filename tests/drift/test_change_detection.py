"""What a scan records as changed, against the previous successful run of each unit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from acceptances import services
from acceptances.models import RiskAcceptance
from findings.models import Finding, Scan, ScanChange, ScanRegion
from findings.queries import get_scan_changes
from simulation.account import _delete_default_vpcs, client

pytestmark = pytest.mark.django_db


def kinds(scan) -> set[tuple[str, str, str]]:
    return {(c.kind, c.check_id, c.resource_label) for c in get_scan_changes(scan)}


def imdsv2(aws, story, tokens: str) -> None:
    client(aws, "ec2").modify_instance_metadata_options(
        InstanceId=story.instance_id, HttpTokens=tokens, HttpEndpoint="enabled"
    )


def test_the_first_run_of_each_unit_is_a_baseline_and_records_no_changes(account, scan_now):
    first = scan_now(account)
    assert set(first.regions.values_list("region", "baseline")) == {
        ("global", True),
        ("us-east-1", True),
    }
    assert Finding.objects.filter(status="fail").exists()
    assert not ScanChange.objects.exists()
    assert first.change_counts["baseline_units"] == ["global", "us-east-1"]

    # A region added later is a baseline on its own; the units scanned before are not.
    account.regions = ["eu-west-1", "us-east-1"]
    account.save(update_fields=["regions"])
    second = scan_now(account)
    assert dict(second.regions.values_list("region", "baseline")) == {
        "eu-west-1": True,
        "global": False,
        "us-east-1": False,
    }
    assert second.change_counts["baseline_units"] == ["eu-west-1"]
    assert not second.changes.exists()  # eu-west-1's default VPC fails 5.1: baseline, not news


def test_a_finding_that_passed_and_fails_again_is_newly_failing(account, story, aws, scan_now):
    scan_now(account)
    imdsv2(aws, story, "required")
    fixed = scan_now(account)
    imdsv2(aws, story, "optional")
    broken = scan_now(account)
    assert kinds(fixed) == {("fixed", "ec2_instance_imdsv2_required", "web-server")}
    assert kinds(broken) == {("new_failure", "ec2_instance_imdsv2_required", "web-server")}
    # The same finding both times: a status change, not a new row.
    assert fixed.changes.get().finding_id == broken.changes.get().finding_id


def test_a_removed_bucket_records_its_open_failures_as_gone(account, aws, scan_now):
    s3 = client(aws, "s3")
    s3.create_bucket(Bucket="scratch")
    scan_now(account)
    failing = set(
        Finding.objects.filter(resource__name="scratch", status="fail").values_list("pk", flat=True)
    )
    assert failing
    s3.delete_bucket(Bucket="scratch")
    second = scan_now(account)
    gone = second.changes.filter(kind=ScanChange.Kind.GONE)
    # Only its open failures: its passing findings changed nothing anyone tracks.
    assert set(gone.values_list("finding_id", flat=True)) == failing
    assert set(second.changes.values_list("kind", flat=True)) == {"gone"}
    assert second.change_counts["gone"] == len(failing)


def test_failed_units_record_no_changes_and_the_next_success_catches_up(
    account, story, aws, aws_front, scan_now
):
    account.regions = ["eu-west-1", "us-east-1"]
    account.save(update_fields=["regions"])
    scan_now(account)
    open_before = set(Finding.objects.filter(status="fail").values_list("pk", flat=True))
    _delete_default_vpcs(aws, "eu-west-1")  # eu-west-1 unit
    client(aws, "s3").create_bucket(Bucket="story-uploads")  # global unit
    imdsv2(aws, story, "required")  # us-east-1 unit
    # Denying eu-west-1 fails its unit only: the global unit leaves the region out of its
    # account-wide lookups and records it.
    aws_front.denied.add("eu-west-1")
    partial = scan_now(account, expect=Scan.State.PARTIAL)
    assert dict(partial.regions.values_list("region", "state")) == {
        "eu-west-1": ScanRegion.State.FAILED,
        "global": ScanRegion.State.SUCCEEDED,
        "us-east-1": ScanRegion.State.SUCCEEDED,
    }
    assert "eu-west-1" in partial.regions.get(region="global").skipped_regions
    # The units that succeeded recorded their changes; the failed one none.
    assert {c.resource_label for c in get_scan_changes(partial, kinds=["new_failure"])} == {
        "story-uploads"
    }
    assert {(k, c, label) for k, c, label in kinds(partial) if k != "new_failure"} == {
        ("fixed", "ec2_instance_imdsv2_required", "web-server")
    }
    aws_front.denied.clear()
    caught_up = scan_now(account)
    # "Since the previous successful run of the unit": the scan that saw it records it.
    gone = caught_up.changes.filter(kind=ScanChange.Kind.GONE)
    removed = Finding.objects.filter(pk__in=open_before, resource__gone_at__isnull=False)
    assert removed.filter(region="eu-west-1").exists()  # e.g. the default network ACL (5.1)
    assert set(gone.values_list("finding_id", flat=True)) == set(
        removed.values_list("pk", flat=True)
    )
    assert not get_scan_changes(caught_up, kinds=["new_failure"])
    assert not caught_up.changes.filter(kind=ScanChange.Kind.FIXED).exists()


def test_an_acceptance_the_scan_made_stale_is_among_its_changes(
    account, story, aws, scan_now, analyst, catalog
):
    scan_now(account)
    instance = Finding.objects.get(
        control_check__check_id="ec2_instance_imdsv2_required", resource__name="web-server"
    )
    acceptance = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="5.6"),
        resource=instance.resource,
        owner=analyst,
        reason="risk_owned",
        justification="Until the OS upgrade lands.",
        # 5.6 is of high severity: the shipped risk appetite wants an end within 90 days.
        expires_at=timezone.now() + dt.timedelta(days=60),
    )
    imdsv2(aws, story, "required")
    second = scan_now(account)
    stale = second.changes.get(kind=ScanChange.Kind.STALE_ACCEPTANCE)
    assert stale.acceptance == acceptance and stale.finding is None
    assert second.change_counts["stale_acceptance"] == 1
    [row] = get_scan_changes(second, kinds=["stale_acceptance"])
    assert row.acceptance_id == acceptance.pk and row.controls[0].ref == "5.6"
    assert kinds(second) >= {("fixed", "ec2_instance_imdsv2_required", "web-server")}
    third = scan_now(account)  # still stale: flagged, and recorded, once
    assert not third.changes.exists()
    assert RiskAcceptance.objects.get(pk=acceptance.pk).stale_since is not None


def test_a_new_failure_an_acceptance_already_covers_is_recorded_as_accepted(
    account, aws, scan_now, approver, analyst, catalog
):
    scan_now(account)
    zone = services.save_zone(actor=approver, name="everything", rules={})
    services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        zone=zone,
        owner=analyst,
        reason="risk_owned",
        justification="MFA Delete needs the root user.",
    )
    client(aws, "s3").create_bucket(Bucket="story-uploads")
    second = scan_now(account)
    accepted = {c.check_id for c in get_scan_changes(second) if c.accepted}
    assert accepted == {"s3_bucket_mfa_delete_enabled"}
    assert second.change_counts["new_failure"] == 3 and second.change_counts["accepted"] == 1
