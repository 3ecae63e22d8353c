"""The simulated AWS account: seeding reproduces the story's findings, remediation fixes them.

Everything is checked through boto3 against a moto server over HTTP.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import botocore.session
import pytest
from botocore.exceptions import ClientError

from simulation.account import (
    MotoServerError,
    StoryStack,
    client,
    remediate_story_stack,
    reset_moto,
    seed_scale,
    seed_story_stack,
    session_for,
    start_moto_server,
)

_T = TypeVar("_T")
_ANYWHERE = {"0.0.0.0/0", "::/0"}


def _per_region(fn: Callable[[str], _T], regions: list[str]) -> dict[str, _T]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(regions, pool.map(fn, regions), strict=True))


def _world_reaches(entries: list[dict[str, Any]], port: int) -> bool:
    """Whether TCP traffic from anywhere (0.0.0.0/0 or ::/0) gets in to ``port``.

    Ingress rules are evaluated as AWS does: by rule number, the first match decides.
    """
    ingress = sorted((e for e in entries if not e["Egress"]), key=lambda e: e["RuleNumber"])
    for key, anywhere in (("CidrBlock", "0.0.0.0/0"), ("Ipv6CidrBlock", "::/0")):
        for entry in ingress:
            if entry.get(key) != anywhere:
                continue
            protocol = str(entry["Protocol"])
            ports = entry.get("PortRange", {})
            if protocol == "-1" or (
                protocol == "6" and ports.get("From", 0) <= port <= ports.get("To", 65535)
            ):
                if entry["RuleAction"] == "allow":
                    return True
                break
    return False


def _bucket_statements(endpoint: str, bucket: str) -> list[dict[str, Any]]:
    policy = json.loads(client(endpoint, "s3").get_bucket_policy(Bucket=bucket)["Policy"])
    statements = policy["Statement"]
    return [statements] if isinstance(statements, dict) else list(statements)


def _denies_http(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition", {}).get("Bool", {})
    return statement["Effect"] == "Deny" and str(condition.get("aws:SecureTransport")) == "false"


def _instance(endpoint: str, stack: StoryStack) -> dict[str, Any]:
    ec2 = client(endpoint, "ec2", stack.region)
    reservations = ec2.describe_instances(InstanceIds=[stack.instance_id])["Reservations"]
    instance: dict[str, Any] = reservations[0]["Instances"][0]
    return instance


def _account_pab(endpoint: str, stack: StoryStack) -> dict[str, bool] | None:
    s3control = client(endpoint, "s3control", stack.region)
    try:
        response = s3control.get_public_access_block(AccountId=stack.account_id)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "NoSuchPublicAccessBlockConfiguration"
        return None
    config: dict[str, bool] = response["PublicAccessBlockConfiguration"]
    return config


def _region_names(endpoint: str) -> list[str]:
    """The regions of the story account's partition (``aws``): moto also reports aws-cn's
    and aws-us-gov's, which are not that account's."""
    regions = client(endpoint, "ec2").describe_regions()["Regions"]
    partitions = botocore.session.get_session()
    return [
        region["RegionName"]
        for region in regions
        if partitions.get_partition_for_region(region["RegionName"]) == "aws"
    ]


def _tags(items: list[dict[str, str]]) -> dict[str, str]:
    return {item["Key"]: item["Value"] for item in items}


def _default_vpc_leftovers(endpoint: str, stack: StoryStack) -> dict[str, dict[str, list[Any]]]:
    """Per region, whatever of the seeded default VPC is still there (empty when clean)."""

    def leftovers(region: str) -> dict[str, list[Any]]:
        ec2 = client(endpoint, "ec2", region)
        in_vpc = [{"Name": "vpc-id", "Values": [stack.default_vpcs[region]]}]
        found = {
            "default vpcs": ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])[
                "Vpcs"
            ],
            "vpc": ec2.describe_vpcs(Filters=in_vpc)["Vpcs"],
            "subnets": ec2.describe_subnets(Filters=in_vpc)["Subnets"],
            "network acls": ec2.describe_network_acls(Filters=in_vpc)["NetworkAcls"],
            "security groups": ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"],
            "route tables": ec2.describe_route_tables(Filters=in_vpc)["RouteTables"],
            "internet gateways": [
                igw
                for igw in ec2.describe_internet_gateways()["InternetGateways"]
                if region != stack.region or igw["InternetGatewayId"] != stack.internet_gateway_id
            ],
        }
        return {kind: items for kind, items in found.items() if items}

    return {
        region: left
        for region, left in _per_region(leftovers, _region_names(endpoint)).items()
        if left
    }


@pytest.fixture
def stack(aws: str) -> StoryStack:
    return seed_story_stack(aws, bucket_name="story-images-test")


def test_seed_reproduces_the_scan_findings(aws: str, stack: StoryStack) -> None:
    ec2 = client(aws, "ec2", stack.region)
    s3 = client(aws, "s3", stack.region)

    # The web stack as Terraform built it.
    vpc = ec2.describe_vpcs(VpcIds=[stack.vpc_id])["Vpcs"][0]
    assert vpc["CidrBlock"] == "10.0.0.0/16"
    assert _tags(vpc["Tags"]) == {
        "Name": "story-web-vpc",
        "Project": "story",
        "Environment": "prod",
    }
    acl = ec2.describe_network_acls(NetworkAclIds=[stack.network_acl_id])["NetworkAcls"][0]
    assert acl["VpcId"] == stack.vpc_id and acl["IsDefault"]
    assert stack.subnet_id in {assoc["SubnetId"] for assoc in acl["Associations"]}
    group = ec2.describe_security_groups(GroupIds=[stack.security_group_id])["SecurityGroups"][0]
    opened = {
        (rule["FromPort"], r["CidrIp"]) for rule in group["IpPermissions"] for r in rule["IpRanges"]
    }
    assert opened == {(80, "0.0.0.0/0"), (443, "0.0.0.0/0"), (22, stack.admin_cidr)}
    instance = _instance(aws, stack)
    assert instance["InstanceType"] == "t3.micro"
    assert instance["SubnetId"] == stack.subnet_id
    assert _tags(instance["Tags"]) == {
        "Name": "web-server",
        "Project": "story",
        "Environment": "prod",
    }
    assert stack.bucket_name == "story-images-test"
    assert _tags(s3.get_bucket_tagging(Bucket=stack.bucket_name)["TagSet"]) == {
        "Project": "story",
        "Environment": "prod",
    }

    # 5.1: the web VPC's default network ACL allows everything from anywhere.
    assert any(
        entry["RuleAction"] == "allow"
        and entry["Protocol"] == "-1"
        and not entry["Egress"]
        and entry.get("CidrBlock") == "0.0.0.0/0"
        for entry in acl["Entries"]
    )
    assert _world_reaches(acl["Entries"], 22)
    assert _world_reaches(acl["Entries"], 3389)
    # 5.6: IMDSv1 still allowed.
    assert instance["MetadataOptions"]["HttpTokens"] == "optional"
    assert instance["MetadataOptions"]["HttpEndpoint"] == "enabled"
    # 2.1.1: only the CloudFront statement, no deny of plain HTTP.
    statements = _bucket_statements(aws, stack.bucket_name)
    assert [s["Principal"] for s in statements] == [{"Service": "cloudfront.amazonaws.com"}]
    assert statements[0]["Condition"]["StringEquals"]["AWS:SourceArn"] == stack.distribution_arn
    assert not any(_denies_http(s) for s in statements)
    # 2.1.2: no versioning, so no MFA Delete.
    versioning = s3.get_bucket_versioning(Bucket=stack.bucket_name)
    assert versioning.get("Status") != "Enabled"
    assert versioning.get("MFADelete") != "Enabled"
    # 2.1.4: Block Public Access on the bucket, none on the account.
    bucket_pab = s3.get_public_access_block(Bucket=stack.bucket_name)
    assert all(bucket_pab["PublicAccessBlockConfiguration"].values())
    assert len(bucket_pab["PublicAccessBlockConfiguration"]) == 4
    assert _account_pab(aws, stack) is None


def test_seed_leaves_a_default_vpc_in_every_region(aws: str, stack: StoryStack) -> None:
    regions = _region_names(aws)
    assert sorted(stack.default_vpcs) == sorted(regions)

    def inspect(region: str) -> tuple[list[str], list[dict[str, Any]], list[str], int]:
        ec2 = client(aws, "ec2", region)
        default = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])
        in_vpc = [{"Name": "vpc-id", "Values": [stack.default_vpcs[region]]}]
        acls = ec2.describe_network_acls(Filters=in_vpc)["NetworkAcls"]
        groups = ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]
        igws = ec2.describe_internet_gateways(
            Filters=[{"Name": "attachment.vpc-id", "Values": [stack.default_vpcs[region]]}]
        )["InternetGateways"]
        return (
            [vpc["VpcId"] for vpc in default["Vpcs"]],
            [acl for acl in acls if acl["IsDefault"]],
            [group["GroupName"] for group in groups],
            len(igws),
        )

    for region, (vpcs, default_acls, groups, igws) in _per_region(inspect, regions).items():
        assert vpcs == [stack.default_vpcs[region]], region
        assert len(default_acls) == 1, region
        assert _world_reaches(default_acls[0]["Entries"], 22), region
        assert "default" in groups, region
        assert igws == 1, region


def test_remediation_fixes_the_findings(aws: str, stack: StoryStack) -> None:
    # One test for all of it: a remediation takes seconds (it empties 38 regions).
    remediate_story_stack(aws, stack)
    ec2 = client(aws, "ec2", stack.region)
    s3 = client(aws, "s3", stack.region)

    # 2.1.1: HTTP denied, CloudFront still allowed.
    statements = _bucket_statements(aws, stack.bucket_name)
    assert [s["Principal"] for s in statements if s["Effect"] == "Allow"] == [
        {"Service": "cloudfront.amazonaws.com"}
    ]
    (deny,) = [s for s in statements if _denies_http(s)]
    assert deny["Action"] == "s3:*"
    assert sorted(deny["Resource"]) == [
        f"arn:aws:s3:::{stack.bucket_name}",
        f"arn:aws:s3:::{stack.bucket_name}/*",
    ]
    # 2.1.2: versioning on; MFA Delete still off (accepted risk).
    versioning = s3.get_bucket_versioning(Bucket=stack.bucket_name)
    assert versioning["Status"] == "Enabled"
    assert versioning.get("MFADelete") != "Enabled"
    # 2.1.4: account-level Block Public Access, bucket-level kept.
    account_pab = _account_pab(aws, stack)
    assert account_pab is not None and len(account_pab) == 4 and all(account_pab.values())
    bucket_pab = s3.get_public_access_block(Bucket=stack.bucket_name)
    assert all(bucket_pab["PublicAccessBlockConfiguration"].values())
    # 5.1: SSH only from the admin address; web and return traffic from anywhere.
    acl = ec2.describe_network_acls(NetworkAclIds=[stack.network_acl_id])["NetworkAcls"][0]
    assert not _world_reaches(acl["Entries"], 22)
    assert not _world_reaches(acl["Entries"], 3389)
    assert _world_reaches(acl["Entries"], 443)
    assert _world_reaches(acl["Entries"], 40000)
    ingress = {
        (
            e["RuleNumber"],
            e["RuleAction"],
            e["CidrBlock"],
            e["PortRange"]["From"],
            e["PortRange"]["To"],
        )
        for e in acl["Entries"]
        if not e["Egress"] and e["RuleNumber"] != 32767
    }
    assert ingress == {
        (90, "deny", "0.0.0.0/0", 3389, 3389),
        (100, "allow", stack.admin_cidr, 22, 22),
        (110, "allow", "0.0.0.0/0", 80, 80),
        (120, "allow", "0.0.0.0/0", 443, 443),
        (130, "allow", "0.0.0.0/0", 1024, 65535),
    }
    # No allow-all ingress left; egress untouched.
    assert not any(
        e["Protocol"] == "-1" and e["RuleAction"] == "allow" and not e["Egress"]
        for e in acl["Entries"]
    )
    assert any(
        e["Protocol"] == "-1" and e["RuleAction"] == "allow" and e["Egress"] for e in acl["Entries"]
    )
    assert stack.subnet_id in {assoc["SubnetId"] for assoc in acl["Associations"]}
    # 5.6: IMDSv2 required; the other options are kept, as on AWS.
    options = _instance(aws, stack)["MetadataOptions"]
    assert options["HttpTokens"] == "required"
    assert options["HttpEndpoint"] == "enabled"
    # The web stack itself is untouched.
    assert ec2.describe_vpcs(VpcIds=[stack.vpc_id])["Vpcs"]
    # 5.1: no default VPC left in any region, nor any orphan of one (network ACL,
    # security group, route table, subnet, internet gateway).
    assert _default_vpc_leftovers(aws, stack) == {}

    # Running the remediation again changes nothing.
    remediate_story_stack(aws, stack)
    assert sum(_denies_http(s) for s in _bucket_statements(aws, stack.bucket_name)) == 1
    again = ec2.describe_network_acls(NetworkAclIds=[stack.network_acl_id])["NetworkAcls"][0]
    assert sorted(again["Entries"], key=str) == sorted(acl["Entries"], key=str)


def test_seed_scale_creates_buckets_and_instances(aws: str) -> None:
    regions = ["us-east-1", "eu-west-1"]
    seeded = seed_scale(aws, buckets=5, instances=7, regions=regions, batch_size=3)
    names = {bucket["Name"] for bucket in client(aws, "s3").list_buckets()["Buckets"]}
    assert set(seeded.bucket_names) <= names and len(seeded.bucket_names) == 5
    assert {region: len(ids) for region, ids in seeded.instance_ids.items()} == {
        "us-east-1": 4,
        "eu-west-1": 3,
    }
    for region in regions:
        reservations = client(aws, "ec2", region).describe_instances(
            InstanceIds=seeded.instance_ids[region]
        )["Reservations"]
        assert sum(len(r["Instances"]) for r in reservations) == len(seeded.instance_ids[region])


def test_session_for_makes_clients_for_the_server(aws: str) -> None:
    session = session_for(aws, "eu-west-1")
    s3 = session.client("s3")
    s3.create_bucket(
        Bucket="session-check", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["session-check"]
    assert session.client("sts").get_caller_identity()["Account"] == "123456789012"
    reset_moto(aws)
    assert s3.list_buckets()["Buckets"] == []


def test_start_moto_server_reports_a_port_in_use() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(MotoServerError, match=r"(?i)address already in use"):
            start_moto_server(port=port, timeout=10)
