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

Written ahead of the later benchmarks' catalogs (no control maps them yet):

* ``rds_instance_multi_az`` reads the instance's ``MultiAZ``: a standby in a second
  Availability Zone takes over when the primary's zone fails. An instance that is a member of a
  cluster (Aurora, or a Multi-AZ DB cluster) is left to the cluster check: its own flag is
  always false there, the cluster's decides.
* ``rds_cluster_multi_az`` reads the cluster's ``MultiAZ`` (``rds_cluster`` collector): for
  Aurora it is true when the cluster has instances in more than one zone (a reader to fail over
  to); a Multi-AZ DB cluster is true by construction.
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


@check(
    "rds_instance_multi_az",
    controls=(),
    service="rds",
    resource_type="AWS::RDS::DBInstance",
    title="RDS instance is deployed in multiple Availability Zones",
)
def rds_instance_multi_az(data: Mapping[str, Any], unit: Unit, spec: CheckSpec) -> Iterable[Result]:
    for instance in _instances(data):
        if instance.get("DBClusterIdentifier"):
            continue  # the cluster's Multi-AZ decides (rds_cluster_multi_az)
        multi_az = bool(instance.get("MultiAZ"))
        zone = instance.get("AvailabilityZone")
        standby = instance.get("SecondaryAvailabilityZone")
        if multi_az:
            summary = f"{_label(instance)} is Multi-AZ" + (
                f": primary in {zone}, standby in {standby}." if zone and standby else "."
            )
        else:
            summary = (
                f"{_label(instance)} is a Single-AZ deployment"
                + (f" in {zone}" if zone else "")
                + ": no standby takes over if that zone fails."
            )
        yield spec.result(
            instance["DBInstanceArn"],
            multi_az,
            summary,
            {"MultiAZ": multi_az, "AvailabilityZone": zone, "SecondaryAvailabilityZone": standby},
        )


@check(
    "rds_cluster_multi_az",
    controls=(),
    service="rds_cluster",
    resource_type="AWS::RDS::DBCluster",
    title="RDS DB cluster is deployed in multiple Availability Zones",
)
def rds_cluster_multi_az(data: Mapping[str, Any], unit: Unit, spec: CheckSpec) -> Iterable[Result]:
    for cluster in data.get("clusters", []):
        multi_az = bool(cluster.get("MultiAZ"))
        members = list(cluster.get("DBClusterMembers") or [])
        engine = cluster.get("Engine")
        label = f"DB cluster '{cluster.get('DBClusterIdentifier')}'" + (
            f" ({engine})" if engine else ""
        )
        count = len(members)
        instances = f"{count} instance" + ("" if count == 1 else "s")
        if multi_az:
            summary = f"{label} is Multi-AZ: its {instances} span more than one Availability Zone."
        elif not members:
            summary = f"{label} has no DB instance, so nothing runs in a second Availability Zone."
        else:
            summary = (
                f"{label} is not Multi-AZ: its {instances} run in a single Availability Zone, "
                "with no reader in another zone to fail over to."
            )
        yield spec.result(
            cluster["DBClusterArn"],
            multi_az,
            summary,
            {
                "MultiAZ": multi_az,
                "AvailabilityZones": cluster.get("AvailabilityZones") or [],
                "DBClusterMembers": members,
                "EngineMode": cluster.get("EngineMode"),
            },
        )
