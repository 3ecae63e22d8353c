"""RDS: the region's DB instances (CIS 2.3.1-2.3.3, and Multi-AZ) and DB clusters (Multi-AZ).

Scope REGIONAL. One paginated call, ``describe_db_instances``, answers all the instance checks
(``StorageEncrypted``, ``AutoMinorVersionUpgrade``, ``PubliclyAccessible``, ``MultiAZ``) and
carries the tags (``TagList``), so no per-instance call is made.

The clusters are a collector of their own, ``rds_cluster`` (one paginated
``describe_db_clusters``): no control maps its check yet, so a scan does not pay for the call
until a benchmark does, and the ``rds`` collector's calls stay as they were.

``data``: ``{"instances": [{"DBInstanceIdentifier": ..., "DBInstanceArn": ..., ...}]}`` with the
keys below (dates as ISO strings).
"""

from __future__ import annotations

from typing import Any

from findings.aws.base import REGIONAL, CollectContext, Collected, collector
from findings.toolbox import ResourceRef, json_safe

INSTANCE_KEYS = (
    "DBInstanceIdentifier",
    "DBInstanceArn",
    "DBInstanceClass",
    "Engine",
    "EngineVersion",
    "DBInstanceStatus",
    "DBClusterIdentifier",
    "StorageEncrypted",
    "KmsKeyId",
    "AutoMinorVersionUpgrade",
    "PubliclyAccessible",
    "MultiAZ",
    "AvailabilityZone",
    "SecondaryAvailabilityZone",
    "ReadReplicaSourceDBInstanceIdentifier",
    "Endpoint",
    "DBSubnetGroupName",
    "VpcSecurityGroups",
    "InstanceCreateTime",
)


def _instance(item: dict[str, Any]) -> dict[str, Any]:
    instance = {k: json_safe(item[k]) for k in INSTANCE_KEYS if k in item}
    if "DBSubnetGroup" in item:
        instance["DBSubnetGroupName"] = item["DBSubnetGroup"].get("DBSubnetGroupName")
        instance["VpcId"] = item["DBSubnetGroup"].get("VpcId")
    instance["Tags"] = {str(t["Key"]): str(t.get("Value", "")) for t in item.get("TagList") or []}
    return instance


@collector("rds", scope=REGIONAL)
def collect_rds(ctx: CollectContext) -> Collected:
    rds = ctx.client("rds")
    instances = [
        _instance(item) for item in ctx.paginate(rds, "describe_db_instances", "DBInstances")
    ]
    resources = [
        ResourceRef(
            arn=instance["DBInstanceArn"],
            resource_type="AWS::RDS::DBInstance",
            region=ctx.unit.region,
            name=instance["DBInstanceIdentifier"],
            tags=instance["Tags"],
            configuration={k: v for k, v in instance.items() if k != "Tags"},
        )
        for instance in instances
    ]
    return Collected(resources=resources, data={"instances": instances})


#: Engines ``describe_db_clusters`` also lists that are other services (Neptune, DocumentDB),
#: with their own benchmarks' controls.
OTHER_SERVICE_ENGINES = frozenset({"neptune", "docdb"})

CLUSTER_KEYS = (
    "DBClusterIdentifier",
    "DBClusterArn",
    "Engine",
    "EngineVersion",
    "EngineMode",
    "Status",
    "MultiAZ",
    "AvailabilityZones",
    "DBClusterInstanceClass",
    "StorageEncrypted",
    "ClusterCreateTime",
)


def _cluster(item: dict[str, Any]) -> dict[str, Any]:
    cluster = {k: json_safe(item[k]) for k in CLUSTER_KEYS if k in item}
    cluster["DBClusterMembers"] = [
        {
            "DBInstanceIdentifier": member.get("DBInstanceIdentifier"),
            "IsClusterWriter": bool(member.get("IsClusterWriter")),
        }
        for member in item.get("DBClusterMembers") or []
    ]
    cluster["Tags"] = {str(t["Key"]): str(t.get("Value", "")) for t in item.get("TagList") or []}
    return cluster


@collector("rds_cluster", scope=REGIONAL)
def collect_rds_clusters(ctx: CollectContext) -> Collected:
    rds = ctx.client("rds")
    clusters = [
        _cluster(item)
        for item in ctx.paginate(rds, "describe_db_clusters", "DBClusters")
        if str(item.get("Engine", "")) not in OTHER_SERVICE_ENGINES
    ]
    resources = [
        ResourceRef(
            arn=cluster["DBClusterArn"],
            resource_type="AWS::RDS::DBCluster",
            region=ctx.unit.region,
            name=cluster["DBClusterIdentifier"],
            tags=cluster["Tags"],
            configuration={k: v for k, v in cluster.items() if k != "Tags"},
        )
        for cluster in clusters
    ]
    return Collected(resources=resources, data={"clusters": clusters})
