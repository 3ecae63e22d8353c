"""A denied region or service, as AWS answers them, through the simulated account's front door.

Organisation policies deny whole regions and a role may lack one service's read permission:
neither may stop the account-wide checks, and a denied service changes none of its findings.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from findings import queries
from findings.models import AccountRegion, Finding, Resource, Scan, ScanRegion
from findings.services import register_account, scans
from simulation.account import client

pytestmark = pytest.mark.django_db


@pytest.fixture
def scan_now(django_capture_on_commit_callbacks):
    def run(account) -> Scan:
        with django_capture_on_commit_callbacks(execute=True):
            scan = scans.start_scan(account)
        scan.refresh_from_db()
        return scan

    return run


def _account(aws: str, regions: list[str]):
    account_id = client(aws, "sts").get_caller_identity()["Account"]
    account, _ = register_account(
        account_id=account_id,
        name="denied",
        endpoint_url=aws,
        regions=regions,
        scan_interval_hours=0,
    )
    return account


def test_a_denied_region_does_not_fail_the_global_unit(catalog, aws, aws_front, scan_now):
    account = _account(aws, ["eu-west-1", "us-east-1"])
    aws_front.denied.add("eu-west-1")

    scan = scan_now(account)

    assert scan.state == Scan.State.PARTIAL
    denied = scan.regions.get(region="eu-west-1")
    assert denied.state == ScanRegion.State.FAILED
    # The account-wide checks ran, without the denied region's trail lookup, and say so.
    glob = scan.regions.get(region="global")
    assert glob.state == ScanRegion.State.SUCCEEDED, glob.error
    assert glob.failed_services == {}
    assert "AccessDenied" in glob.skipped_regions["eu-west-1"]
    assert set(
        Finding.objects.filter(resource__scan_unit="global").values_list(
            "control_check__service", flat=True
        )
    ) >= {"iam", "cloudtrail", "monitoring"}
    assert AccountRegion.objects.get(account=account, region="global").last_scan == scan


def test_a_denied_service_leaves_its_findings_as_they_were(
    catalog, aws, aws_front, scan_now, viewer, client
):
    account = _account(aws, ["us-east-1"])
    kms = client_for(aws, "kms")
    key_id = kms.create_key(Description="orders")["KeyMetadata"]["KeyId"]
    first = scan_now(account)
    assert first.state == Scan.State.SUCCEEDED, first.error
    key = Resource.objects.get(resource_type="AWS::KMS::Key", arn__endswith=key_id)
    rotation = Finding.objects.get(resource=key, control_check__check_id="kms_key_rotation_enabled")
    assert rotation.status == "fail"
    first_seen = queries.get_last_seen([rotation])[rotation.pk]

    # Rotation turned on (the check would now pass) and a port opened to the world, then the
    # role loses KMS: the scan must not judge KMS, and must still judge EC2.
    kms.enable_key_rotation(KeyId=key_id)
    ec2 = client_for(aws, "ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    group = ec2.create_security_group(GroupName="ssh-world", Description="ssh", VpcId=vpc["VpcId"])[
        "GroupId"
    ]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    aws_front.denied_services.add("kms")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_code:
        call_command("scan", "--account-id", account.account_id, stdout=out, stderr=err)
    assert exit_code.value.code == 2  # partial
    second = Scan.objects.latest("pk")

    assert second.state == Scan.State.PARTIAL
    assert "us-east-1: kms" in second.error
    unit = second.regions.get(region="us-east-1")
    assert unit.state == ScanRegion.State.SUCCEEDED
    # Both collectors that read KMS fail: key settings, and key policies (which CIS v7.0.0 2.21
    # maps through "KMS key policy is not public").
    assert sorted(unit.failed_services) == ["kms", "kms_policy"]
    assert "AccessDenied" in unit.failed_services["kms"]
    assert "AccessDenied" in unit.failed_services["kms_policy"]
    assert "us-east-1: not evaluated: kms AccessDenied" in err.getvalue()
    # KMS's finding is exactly as it was: same status, not resolved, not seen again.
    rotation.refresh_from_db()
    assert rotation.status == "fail" and rotation.resolved_at is None
    assert rotation.last_scan_id == first.pk
    assert queries.get_last_seen([rotation])[rotation.pk] == first_seen
    assert queries.with_last_seen(Finding.objects.filter(pk=rotation.pk)).get().last_seen == (
        first_seen
    )
    key.refresh_from_db()
    assert key.gone_at is None
    # EC2's findings in the same unit were written as usual.
    opened = Finding.objects.filter(
        resource__arn__endswith=f"security-group/{group}",
        status="fail",
        control_check__service="ec2",
    ).first()
    assert opened is not None
    assert opened.last_scan_id == second.pk
    assert queries.get_last_seen([opened])[opened.pk] > first_seen

    client.force_login(viewer)
    page = client.get(reverse("scan-detail", args=[second.pk])).content.decode()
    assert "not evaluated: kms AccessDenied" in page

    # KMS readable again: the finding is judged (rotation is on now) and follows its unit.
    aws_front.denied_services.clear()
    third = scan_now(account)
    assert third.state == Scan.State.SUCCEEDED, third.error
    rotation.refresh_from_db()
    assert rotation.status == "pass" and rotation.held_seen_at is None


def client_for(aws: str, service: str):
    return client(aws, service, "us-east-1")
