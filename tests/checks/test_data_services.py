"""Pure tests of the RDS (2.3.1-2.3.3) and EFS (2.4.1) checks."""

from __future__ import annotations

from typing import Any

from findings.checks import REGISTRY
from findings.checks.base import Result, Unit
from tests.checks.evidence import checked

UNIT = Unit("123456789012", "eu-west-1")


def run(check_id: str, data: dict[str, Any]) -> dict[str, Result]:
    results = checked(REGISTRY[check_id].run(data, UNIT))
    return {r.resource_arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1]: r for r in results}


def instance(name: str, **overrides: Any) -> dict[str, Any]:
    return {
        "DBInstanceIdentifier": name,
        "DBInstanceArn": f"arn:aws:rds:eu-west-1:123456789012:db:{name}",
        "Engine": "postgres",
        "EngineVersion": "15.4",
        "StorageEncrypted": True,
        "KmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/k",
        "AutoMinorVersionUpgrade": True,
        "PubliclyAccessible": False,
        "Endpoint": {"Address": f"{name}.abc.eu-west-1.rds.amazonaws.com", "Port": 5432},
        **overrides,
    }


def test_rds_checks_pass_for_a_well_configured_instance() -> None:
    data = {"instances": [instance("good")]}
    for check_id in (
        "rds_instance_storage_encrypted",
        "rds_instance_auto_minor_version_upgrade",
        "rds_instance_not_publicly_accessible",
    ):
        assert run(check_id, data)["good"].status == "pass"


def test_rds_storage_not_encrypted() -> None:
    result = run(
        "rds_instance_storage_encrypted",
        {"instances": [instance("plain", StorageEncrypted=False, KmsKeyId=None)]},
    )["plain"]
    assert result.status == "fail"
    assert "unencrypted" in result.summary


def test_rds_minor_version_upgrade_disabled() -> None:
    result = run(
        "rds_instance_auto_minor_version_upgrade",
        {"instances": [instance("pinned", AutoMinorVersionUpgrade=False)]},
    )["pinned"]
    assert result.status == "fail"
    assert "15.4" in result.summary


def test_rds_publicly_accessible() -> None:
    result = run(
        "rds_instance_not_publicly_accessible",
        {"instances": [instance("open", PubliclyAccessible=True)]},
    )["open"]
    assert result.status == "fail"
    assert "open.abc.eu-west-1.rds.amazonaws.com" in result.summary


def test_rds_no_instances_no_results() -> None:
    assert run("rds_instance_storage_encrypted", {"instances": []}) == {}


def test_efs_encryption() -> None:
    data = {
        "file_systems": [
            {
                "arn": "arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-1",
                "FileSystemId": "fs-1",
                "Name": "shared",
                "Encrypted": True,
                "KmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/k",
            },
            {
                "arn": "arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-2",
                "FileSystemId": "fs-2",
                "Encrypted": False,
            },
        ]
    }
    results = run("efs_file_system_encrypted", data)
    assert results["fs-1"].status == "pass"
    assert "'shared'" in results["fs-1"].summary
    assert results["fs-2"].status == "fail"
    assert "not encrypted" in results["fs-2"].summary


def test_rds_evidence_names_what_decided_each_verdict() -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/k"
    subnet_groups = [{"VpcSecurityGroupId": "sg-0a1b", "Status": "active"}]
    data = {
        "instances": [
            instance("orders", StorageEncrypted=True, KmsKeyId=key),
            instance(
                "legacy",
                Engine="mysql",
                EngineVersion="5.7.44",
                StorageEncrypted=False,
                KmsKeyId=None,
                AutoMinorVersionUpgrade=False,
                PubliclyAccessible=True,
                DBSubnetGroupName="public-subnets",
                VpcId="vpc-0abc",
                VpcSecurityGroups=subnet_groups,
            ),
        ]
    }
    storage = run("rds_instance_storage_encrypted", data)
    assert storage["orders"].summary == (
        f"DB instance 'orders' (postgres) has encrypted storage (KMS key {key})."
    )
    assert storage["orders"].details == {"StorageEncrypted": True, "KmsKeyId": key}
    assert storage["legacy"].status == "fail"
    assert storage["legacy"].summary == (
        "DB instance 'legacy' (mysql) stores its data, backups and snapshots unencrypted."
    )
    assert storage["legacy"].details == {"StorageEncrypted": False, "KmsKeyId": None}

    upgrades = run("rds_instance_auto_minor_version_upgrade", data)
    assert upgrades["orders"].summary.endswith("has Auto Minor Version Upgrade enabled.")
    assert upgrades["legacy"].status == "fail"
    assert upgrades["legacy"].details == {
        "AutoMinorVersionUpgrade": False,
        "EngineVersion": "5.7.44",
    }

    exposure = run("rds_instance_not_publicly_accessible", data)
    assert (
        exposure["orders"].summary == "DB instance 'orders' (postgres) is not publicly accessible."
    )
    assert exposure["legacy"].status == "fail"
    assert exposure["legacy"].summary == (
        "DB instance 'legacy' (mysql) is publicly accessible: its endpoint "
        "legacy.abc.eu-west-1.rds.amazonaws.com resolves to a public IP address."
    )
    assert exposure["legacy"].details == {
        "PubliclyAccessible": True,
        "Endpoint": "legacy.abc.eu-west-1.rds.amazonaws.com",
        "DBSubnetGroupName": "public-subnets",
        "VpcId": "vpc-0abc",
        "VpcSecurityGroups": subnet_groups,
    }


def test_rds_an_instance_still_creating_has_no_endpoint_yet() -> None:
    creating = instance("new", Engine=None, PubliclyAccessible=True, Endpoint=None)
    result = run("rds_instance_not_publicly_accessible", {"instances": [creating]})["new"]
    assert result.status == "fail"
    assert result.summary == (
        "DB instance 'new' is publicly accessible: its endpoint resolves to a public IP address."
    )
    assert result.details["Endpoint"] is None
    assert result.details["VpcSecurityGroups"] == []


def test_rds_settings_missing_from_the_description_fail_closed() -> None:
    bare = {
        "DBInstanceIdentifier": "bare",
        "DBInstanceArn": "arn:aws:rds:eu-west-1:123456789012:db:bare",
    }
    data = {"instances": [bare]}
    assert run("rds_instance_storage_encrypted", data)["bare"].status == "fail"
    assert run("rds_instance_auto_minor_version_upgrade", data)["bare"].status == "fail"
    # PubliclyAccessible is false unless set: an instance is private by default.
    assert run("rds_instance_not_publicly_accessible", data)["bare"].status == "pass"


def test_efs_evidence_names_the_file_system_and_its_key() -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/k"
    data = {
        "file_systems": [
            {
                "arn": "arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-1",
                "FileSystemId": "fs-1",
                "Name": "shared",
                "Encrypted": True,
                "KmsKeyId": key,
            },
            {
                "arn": "arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-2",
                "FileSystemId": "fs-2",
                "Encrypted": False,
            },
            {
                "arn": "arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-3",
                "FileSystemId": "fs-3",
            },
        ]
    }
    results = run("efs_file_system_encrypted", data)
    assert results["fs-1"].summary == (
        f"File system fs-1 ('shared') is encrypted at rest with KMS key {key}."
    )
    assert results["fs-1"].details == {"Encrypted": True, "KmsKeyId": key}
    assert results["fs-2"].summary.startswith("File system fs-2 is not encrypted at rest;")
    assert results["fs-2"].details == {"Encrypted": False, "KmsKeyId": None}
    assert results["fs-3"].status == "fail"
    assert run("efs_file_system_encrypted", {}) == {}
