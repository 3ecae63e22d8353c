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
