"""ARNs, console links and region lists follow the account's partition (aws, aws-cn, aws-us-gov)."""

from __future__ import annotations

import botocore.session
import pytest
from django.core.exceptions import ValidationError

from findings.aws.session import AccountAccess
from findings.models import CloudAccount, Resource, Scan
from findings.remediation import remedy_for
from findings.remediation.model import Target
from findings.toolbox import (
    Unit,
    bucket_arn,
    console_url,
    ec2_arn,
    home_region,
    partition_of,
)
from simulation.account import client

PARTITIONS = [
    ("eu-west-1", "aws", "console.aws.amazon.com"),
    ("cn-north-1", "aws-cn", "console.amazonaws.cn"),
    ("us-gov-west-1", "aws-us-gov", "console.amazonaws-us-gov.com"),
]


@pytest.mark.parametrize(("region", "partition", "console"), PARTITIONS)
def test_arns_and_console_links_are_in_the_regions_partition(region, partition, console):
    assert partition_of(region) == partition
    unit = Unit(account_id="123456789012", region=region, partition=partition_of(region))
    assert (
        ec2_arn(unit, "instance", "i-1")
        == f"arn:{partition}:ec2:{region}:123456789012:instance/i-1"
    )
    assert bucket_arn(unit, "logs") == f"arn:{partition}:s3:::logs"
    assert unit.account_arn == f"arn:{partition}:iam::123456789012:root"
    assert unit.regional_settings_arn("kms").startswith(f"arn:{partition}:kms:{region}:")
    glob = Unit(account_id="123456789012", region="global", partition=partition)
    assert glob.api_region == home_region(partition)
    assert partition_of(glob.api_region) == partition
    assert console_url(partition) == f"https://{console}/"


def test_every_region_botocore_knows_is_in_the_partition_botocore_says():
    session = botocore.session.get_session()
    for partition in session.get_available_partitions():
        for service in ("ec2", "s3", "iam", "sts", "cloudtrail"):
            for region in session.get_available_regions(service, partition_name=partition):
                assert partition_of(region) == partition, region


@pytest.mark.parametrize(("region", "partition", "console"), PARTITIONS)
def test_fixes_use_the_resources_partition(region, partition, console):
    bucket = Target(
        account_id="123456789012",
        region=region,
        resource_type="AWS::S3::Bucket",
        arn=f"arn:{partition}:s3:::images",
        name="images",
        configuration={"policy": None},
    )
    fix = remedy_for("s3_bucket_secure_transport", bucket)
    assert f"arn:{partition}:s3:::images/*" in fix.terraform()
    assert "arn:aws:" not in fix.terraform() or partition == "aws"
    account = Target(
        account_id="123456789012",
        region="global",
        resource_type="AWS::::Account",
        arn=f"arn:{partition}:iam::123456789012:root",
    )
    support = remedy_for("iam_support_role_exists", account)
    assert f"arn:{partition}:iam::aws:policy/AWSSupportAccess" in support.terraform()
    root = remedy_for("iam_root_no_access_key", account)
    assert f"https://{console}/" in " ".join(root.console)
    data_events = remedy_for("cloudtrail_s3_write_data_events_logged", account)
    assert f'"arn:{partition}:s3"' in data_events.terraform()
    user = Target(
        account_id="123456789012",
        region="global",
        resource_type="AWS::IAM::User",
        arn=f"arn:{partition}:iam::123456789012:user/alice",
        name="alice",
    )
    mfa = remedy_for("iam_user_console_mfa_enabled", user)
    assert f"arn:{partition}:iam::123456789012:mfa/alice" in " ".join(mfa.cli)


def test_the_account_partition_comes_from_its_role_or_regions():
    assert AccountAccess("123456789012").partition == "aws"
    assert AccountAccess("123456789012", regions=("cn-northwest-1",)).partition == "aws-cn"
    role = "arn:aws-us-gov:iam::123456789012:role/cspm-audit"
    assert AccountAccess("123456789012", role_arn=role).partition == "aws-us-gov"


@pytest.mark.django_db
def test_an_account_cannot_mix_partitions():
    account = CloudAccount(
        account_id="123456789012",
        name="mixed",
        regions=["eu-west-1", "cn-north-1"],
    )
    with pytest.raises(ValidationError) as error:
        account.full_clean()
    assert "one AWS partition" in str(error.value.message_dict["regions"])
    account.regions = ["cn-north-1"]
    account.role_arn = "arn:aws:iam::123456789012:role/cspm-audit"
    with pytest.raises(ValidationError):
        account.full_clean()
    account.role_arn = "arn:aws-cn:iam::123456789012:role/cspm-audit"
    account.full_clean()


@pytest.mark.django_db
def test_a_scan_of_a_china_account_writes_aws_cn_arns(
    catalog, aws, django_capture_on_commit_callbacks
):
    from findings.services import register_account, scans

    ec2 = client(aws, "ec2", "cn-north-1")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc["VpcId"])
    s3 = client(aws, "s3", "cn-north-1")
    s3.create_bucket(
        Bucket="cn-images", CreateBucketConfiguration={"LocationConstraint": "cn-north-1"}
    )
    account_id = client(aws, "sts", "cn-north-1").get_caller_identity()["Account"]
    account, _ = register_account(
        account_id=account_id,
        name="china",
        endpoint_url=aws,
        role_arn=f"arn:aws-cn:iam::{account_id}:role/cspm-audit",
        scan_interval_hours=0,
    )

    with django_capture_on_commit_callbacks(execute=True):
        scan = scans.start_scan(account)
    scan.refresh_from_db()

    assert scan.state == Scan.State.SUCCEEDED, scan.error
    # Only the partition's regions are scanned, though the emulator reports every partition's.
    units = set(scan.regions.values_list("region", flat=True))
    assert units == {"cn-north-1", "cn-northwest-1", "global"}
    arns = list(Resource.objects.filter(account=account).values_list("arn", flat=True))
    assert "arn:aws-cn:s3:::cn-images" in arns
    assert any(a.startswith("arn:aws-cn:ec2:cn-north-1:") and "security-group/" in a for a in arns)
    assert f"arn:aws-cn:iam::{account_id}:root" in arns
    assert [a for a in arns if not a.startswith("arn:aws-cn:")] == []


def test_a_global_fix_alone_gets_a_provider_in_its_partition():
    from findings.remediation import terraform_directory

    account = Target(
        account_id="123456789012",
        region="global",
        resource_type="AWS::::Account",
        arn="arn:aws-cn:iam::123456789012:root",
    )
    text = terraform_directory([remedy_for("iam_support_role_exists", account)])
    assert 'region = "cn-north-1"' in text
