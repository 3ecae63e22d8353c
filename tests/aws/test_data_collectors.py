"""The rds (2.3.1-2.3.3) and efs (2.4.1) collectors against the moto server, end to end."""

from __future__ import annotations

import json
from typing import Any

import boto3

from findings.aws import COLLECTORS, CollectContext
from findings.checks.base import Unit, checks_for
from simulation.account import client

ACCOUNT = "123456789012"
REGION = "eu-west-1"


def collect(endpoint: str, service: str) -> tuple[Any, dict[str, dict[str, str]], CollectContext]:
    unit = Unit(ACCOUNT, REGION)
    ctx = CollectContext(
        session=boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing"),
        unit=unit,
        regions=[REGION],
        endpoint_url=endpoint,
    )
    collected = COLLECTORS[service].function(ctx)
    json.dumps(collected.data)
    arns = {ref.arn for ref in collected.resources}
    verdicts: dict[str, dict[str, str]] = {}
    for spec in checks_for(service):
        results = spec.run(collected.data, unit)
        assert {r.resource_arn for r in results} <= arns
        verdicts[spec.check_id] = {
            r.resource_arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1]: r.status for r in results
        }
    return collected, verdicts, ctx


def _db(endpoint: str, name: str, **params: Any) -> None:
    client(endpoint, "rds", REGION).create_db_instance(
        DBInstanceIdentifier=name,
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        AllocatedStorage=20,
        MasterUsername="admin_user",
        MasterUserPassword="not-a-real-secret-1",
        Tags=[{"Key": "Team", "Value": "data"}],
        **params,
    )


def test_rds_instances(aws: str) -> None:
    _db(
        aws,
        "good",
        StorageEncrypted=True,
        AutoMinorVersionUpgrade=True,
        PubliclyAccessible=False,
        MultiAZ=True,
    )
    _db(aws, "bad", StorageEncrypted=False, AutoMinorVersionUpgrade=False, PubliclyAccessible=True)

    collected, verdicts, ctx = collect(aws, "rds")

    assert verdicts == {
        "rds_instance_storage_encrypted": {"good": "pass", "bad": "fail"},
        "rds_instance_auto_minor_version_upgrade": {"good": "pass", "bad": "fail"},
        "rds_instance_not_publicly_accessible": {"good": "pass", "bad": "fail"},
        # No control maps it yet; it reads the same DescribeDBInstances answer.
        "rds_instance_multi_az": {"good": "pass", "bad": "fail"},
    }
    good = next(r for r in collected.resources if r.name == "good")
    assert good.resource_type == "AWS::RDS::DBInstance"
    assert good.arn == f"arn:aws:rds:{REGION}:{ACCOUNT}:db:good"
    assert good.tags == {"Team": "data"}
    assert ctx.api_calls == 1


def test_efs_file_systems(aws: str) -> None:
    efs = client(aws, "efs", REGION)
    encrypted = efs.create_file_system(
        CreationToken="enc", Encrypted=True, Tags=[{"Key": "Name", "Value": "shared"}]
    )["FileSystemId"]
    plain = efs.create_file_system(CreationToken="plain", Encrypted=False)["FileSystemId"]

    collected, verdicts, ctx = collect(aws, "efs")

    assert verdicts == {"efs_file_system_encrypted": {encrypted: "pass", plain: "fail"}}
    named = next(r for r in collected.resources if r.name == "shared")
    assert named.resource_type == "AWS::EFS::FileSystem"
    assert named.arn.startswith(f"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:file-system/")
    assert ctx.api_calls == 1


def test_empty_region(aws: str) -> None:
    for service in ("rds", "efs"):
        collected, verdicts, _ = collect(aws, service)
        assert collected.resources == []
        assert all(found == {} for found in verdicts.values())
