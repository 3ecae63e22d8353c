"""A whole scan of the story's simulated account, with boto3 talking HTTP to a moto server."""

from __future__ import annotations

import pytest
from django.db.models import F

from findings import queries
from findings.models import Finding, Resource, Scan, ScanRegion
from findings.services import register_account, scans
from simulation.account import remediate_story_stack

pytestmark = pytest.mark.django_db


# Most tests scan three regions to stay quick; the first scans every region the account reports.
REGIONS = ["eu-north-1", "eu-west-1", "us-east-1"]


@pytest.fixture
def account(catalog, story, aws):
    account, _ = register_account(
        account_id=story.account_id,
        name="story",
        endpoint_url=aws,
        regions=REGIONS,
        scan_interval_hours=0,
    )
    return account


@pytest.fixture
def every_region_account(catalog, story, aws):
    account, _ = register_account(
        account_id=story.account_id, name="story", endpoint_url=aws, scan_interval_hours=0
    )
    return account


@pytest.fixture
def scan_now(django_capture_on_commit_callbacks):
    def run(account) -> Scan:
        with django_capture_on_commit_callbacks(execute=True):
            scan = scans.start_scan(account)
        scan.refresh_from_db()
        return scan

    return run


def verdicts(ref: str) -> dict[tuple[str, str], str]:
    """(resource type, resource id) -> status of every finding evidencing v2.0.0 control ``ref``
    (other loaded CIS versions reuse some refs for other recommendations)."""
    rows = Finding.objects.filter(
        control_check__controls__benchmark__version="2.0.0",
        control_check__controls__ref=ref,
        resource__gone_at__isnull=True,
    ).values_list("resource__resource_type", "resource__arn", "status", "resolved_at")
    result: dict[tuple[str, str], str] = {}
    for rtype, arn, status, resolved_at in rows:
        key = (rtype, arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1])
        # The control fails on a resource when any of its checks fails there.
        current = "fail" if status == "fail" and resolved_at is None else "pass"
        if result.get(key) != "fail":
            result[key] = current
    return result


def test_the_story_scan_reports_what_the_team_found(every_region_account, story, scan_now):
    scan = scan_now(every_region_account)
    assert scan.state == Scan.State.SUCCEEDED, scan.error
    regions = len(story.default_vpcs)
    assert scan.regions_total == regions + 1 == scan.regions_done
    assert scan.findings_total > 0 and scan.findings_failed > 0

    assert verdicts("2.1.1")[("AWS::S3::Bucket", "story-images")] == "fail"
    assert verdicts("2.1.2")[("AWS::S3::Bucket", "story-images")] == "fail"
    bpa = verdicts("2.1.4")
    assert bpa[("AWS::S3::Bucket", "story-images")] == "pass"
    assert bpa[("AWS::::Account", "root")] == "fail"
    nacl = verdicts("5.1")
    assert nacl[("AWS::EC2::NetworkAcl", story.network_acl_id)] == "fail"
    default_nacls = Resource.objects.filter(
        resource_type="AWS::EC2::NetworkAcl", configuration__VpcId__in=story.default_vpcs.values()
    )
    assert default_nacls.count() == regions  # one default VPC, with its ACL, in every region
    for acl in default_nacls:
        assert nacl[("AWS::EC2::NetworkAcl", acl.arn.rsplit("/", 1)[-1])] == "fail", acl.region
    assert verdicts("5.6")[("AWS::EC2::Instance", story.instance_id)] == "fail"

    benchmark = queries.get_default_benchmark()
    posture = {row.control.ref: row for row in queries.get_control_posture(benchmark)}
    # 2.1.2 is a manual recommendation: its check's failure is counted, but a person decides
    # the control, so its status reads "manual", never "fail".
    assert posture["2.1.2"].failing == 1 and posture["2.1.2"].status == "manual"
    assert posture["2.1.1"].status == "fail"


def test_the_remediated_stack_passes_except_mfa_delete(account, story, scan_now, aws):
    first = scan_now(account)
    assert first.state == Scan.State.SUCCEEDED, first.error
    remediate_story_stack(aws, story)
    second = scan_now(account)
    assert second.state == Scan.State.SUCCEEDED, second.error

    assert verdicts("2.1.1")[("AWS::S3::Bucket", "story-images")] == "pass"
    assert verdicts("2.1.2")[("AWS::S3::Bucket", "story-images")] == "fail"  # versioning ≠ MFA
    assert verdicts("2.1.4")[("AWS::::Account", "root")] == "pass"
    assert verdicts("5.1")[("AWS::EC2::NetworkAcl", story.network_acl_id)] == "pass"
    assert verdicts("5.6")[("AWS::EC2::Instance", story.instance_id)] == "pass"
    # The default VPCs were deleted: their resources are gone and their findings resolved.
    gone = Resource.objects.filter(configuration__VpcId__in=story.default_vpcs.values())
    assert gone.exists() and not gone.filter(gone_at__isnull=True).exists()
    assert not Finding.objects.filter(
        resource__in=gone, status="fail", resolved_at__isnull=True
    ).exists()
    fixed = Finding.objects.get(
        control_check__check_id="ec2_instance_imdsv2_required",
        resource__arn__endswith=f"instance/{story.instance_id}",
    )
    assert fixed.first_seen < fixed.resolved_at
    assert [e.kind for e in fixed.events.order_by("at", "pk")] == ["resolved"]


def test_rescanning_unchanged_writes_nothing_new(account, scan_now):
    scan_now(account)
    before = dict(Finding.objects.values_list("pk", "evidence_digest"))
    statuses = dict(Finding.objects.values_list("pk", "status"))
    second = scan_now(account)
    assert second.state == Scan.State.SUCCEEDED
    assert dict(Finding.objects.values_list("pk", "evidence_digest")) == before
    assert dict(Finding.objects.values_list("pk", "status")) == statuses
    # Unchanged findings keep pointing at the scan that last changed them.
    assert not Finding.objects.filter(last_scan=second).exists()


def test_a_denied_region_leaves_the_scan_partial_and_its_findings_untouched(
    account, story, aws_front, scan_now, aws
):
    scan_now(account)
    west = dict(Finding.objects.filter(region="eu-west-1").values_list("pk", "status"))
    assert west, "the first scan evaluated eu-west-1"
    remediate_story_stack(aws, story)  # deletes every default VPC, eu-west-1's included
    aws_front.denied.add("eu-west-1")
    scan = scan_now(account)
    assert scan.state == Scan.State.PARTIAL
    failed = scan.regions.get(region="eu-west-1")
    assert failed.state == ScanRegion.State.FAILED
    assert "UnauthorizedOperation" in failed.error or "AccessDenied" in failed.error
    assert "eu-west-1" in scan.error
    # eu-west-1 was not evaluated: nothing there is resolved or marked gone.
    assert dict(Finding.objects.filter(region="eu-west-1").values_list("pk", "status")) == west
    assert not Finding.objects.filter(region="eu-west-1", resolved_at__isnull=False).exists()
    assert not Resource.objects.filter(region="eu-west-1", gone_at__isnull=False).exists()
    # Elsewhere the deleted default VPCs are gone.
    assert Resource.objects.filter(region="eu-north-1", gone_at__isnull=False).exists()


def test_a_retried_unit_creates_no_duplicate(account, scan_now):
    scan = scan_now(account)
    count = Finding.objects.count()
    # A duplicate delivery after the unit finished does nothing.
    assert scans.run_scan_unit(scan.pk, "us-east-1").state == "already finished"
    # A redelivery of a unit whose first run died before it recorded anything runs it again.
    ScanRegion.objects.filter(scan=scan, region="us-east-1").update(state=ScanRegion.State.RUNNING)
    Scan.objects.filter(pk=scan.pk).update(
        state=Scan.State.RUNNING, regions_done=F("regions_done") - 1, finished_at=None
    )
    assert scans.run_scan_unit(scan.pk, "us-east-1").state == "succeeded"
    scan.refresh_from_db()
    assert scan.state == Scan.State.SUCCEEDED and scan.regions_done == scan.regions_total
    assert Finding.objects.count() == count
    assert Finding.objects.values("control_check", "resource").distinct().count() == count


def test_starting_twice_returns_the_running_scan(account):
    first = scans.start_scan(account)
    assert scans.start_scan(account) == first
    assert Scan.objects.count() == 1
