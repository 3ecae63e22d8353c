"""RDS: the region's DB instances (CIS 2.3.1-2.3.3).

Scope REGIONAL. One paginated call, ``describe_db_instances``, answers all three checks
(``StorageEncrypted``, ``AutoMinorVersionUpgrade``, ``PubliclyAccessible``) and carries the
tags (``TagList``), so no per-instance call is made.

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
