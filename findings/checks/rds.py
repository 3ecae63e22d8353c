"""CIS AWS Foundations v2.0.0 checks on RDS DB instances (2.3.1-2.3.3).

Read from the ``rds`` collector (``describe_db_instances``). Decisions:

* 2.3.1 reads ``StorageEncrypted`` (encryption at rest of the storage, automated backups, read
  replicas and snapshots). For an Aurora instance the flag is the cluster's.
* 2.3.2 reads ``AutoMinorVersionUpgrade``.
* 2.3.3 reads ``PubliclyAccessible``: when true the instance's endpoint resolves to a public
  address. The benchmark's audit goes on to look for a route to an internet gateway from the
  instance's subnets; a publicly accessible instance in a private subnet is still one route
  change away from the internet, so the flag alone decides here and the evidence names the
  subnet group and security groups to review.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check


def _instances(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(data.get("instances", []))


def _label(instance: Mapping[str, Any]) -> str:
    engine = instance.get("Engine")
    return f"DB instance '{instance.get('DBInstanceIdentifier')}'" + (
        f" ({engine})" if engine else ""
    )


@check(
    "rds_instance_storage_encrypted",
    controls=["2.3.1"],
    service="rds",
    resource_type="AWS::RDS::DBInstance",
    title="RDS instance storage is encrypted at rest",
)
def rds_instance_storage_encrypted(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for instance in _instances(data):
        encrypted = bool(instance.get("StorageEncrypted"))
        key = instance.get("KmsKeyId")
        yield spec.result(
            instance["DBInstanceArn"],
            encrypted,
            f"{_label(instance)} has encrypted storage" + (f" (KMS key {key})." if key else ".")
            if encrypted
            else f"{_label(instance)} stores its data, backups and snapshots unencrypted.",
            {"StorageEncrypted": encrypted, "KmsKeyId": key},
        )


@check(
    "rds_instance_auto_minor_version_upgrade",
    controls=["2.3.2"],
    service="rds",
    resource_type="AWS::RDS::DBInstance",
    title="RDS instance applies minor engine upgrades automatically",
)
def rds_instance_auto_minor_version_upgrade(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for instance in _instances(data):
        enabled = bool(instance.get("AutoMinorVersionUpgrade"))
        version = instance.get("EngineVersion")
        yield spec.result(
            instance["DBInstanceArn"],
            enabled,
            f"{_label(instance)} has Auto Minor Version Upgrade "
            + ("enabled." if enabled else f"disabled; it stays on {version} until upgraded."),
            {"AutoMinorVersionUpgrade": enabled, "EngineVersion": version},
        )


@check(
    "rds_instance_not_publicly_accessible",
    controls=["2.3.3"],
    service="rds",
    resource_type="AWS::RDS::DBInstance",
    title="RDS instance is not publicly accessible",
)
def rds_instance_not_publicly_accessible(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for instance in _instances(data):
        public = bool(instance.get("PubliclyAccessible"))
        endpoint = (instance.get("Endpoint") or {}).get("Address")
        details = {
            "PubliclyAccessible": public,
            "Endpoint": endpoint,
            "DBSubnetGroupName": instance.get("DBSubnetGroupName"),
            "VpcId": instance.get("VpcId"),
            "VpcSecurityGroups": instance.get("VpcSecurityGroups") or [],
        }
        yield spec.result(
            instance["DBInstanceArn"],
            not public,
            f"{_label(instance)} is publicly accessible: its endpoint "
            + (f"{endpoint} " if endpoint else "")
            + "resolves to a public IP address."
            if public
            else f"{_label(instance)} is not publicly accessible.",
            details,
        )
