"""EFS: the region's file systems (CIS 2.4.1).

Scope REGIONAL. One paginated call, ``describe_file_systems``, gives ``Encrypted``, the KMS key
and the tags of every file system; no per-file-system call is made.

``data``: ``{"file_systems": [{"arn": ..., "FileSystemId": ..., "Encrypted": ..., ...}]}``.
"""

from __future__ import annotations

from typing import Any

from findings.aws.base import REGIONAL, CollectContext, Collected, collector
from findings.toolbox import ResourceRef, json_safe

FILE_SYSTEM_KEYS = (
    "FileSystemId",
    "FileSystemArn",
    "Name",
    "Encrypted",
    "KmsKeyId",
    "LifeCycleState",
    "PerformanceMode",
    "ThroughputMode",
    "CreationTime",
)


def _file_system(item: dict[str, Any]) -> dict[str, Any]:
    found = {k: json_safe(item[k]) for k in FILE_SYSTEM_KEYS if k in item}
    found["Tags"] = {str(t["Key"]): str(t.get("Value", "")) for t in item.get("Tags") or []}
    return found


@collector("efs", scope=REGIONAL)
def collect_efs(ctx: CollectContext) -> Collected:
    efs = ctx.client("efs")
    systems = [
        _file_system(item) for item in ctx.paginate(efs, "describe_file_systems", "FileSystems")
    ]
    for system in systems:
        system["arn"] = system.get("FileSystemArn") or ctx.unit.arn(
            "elasticfilesystem", f"file-system/{system['FileSystemId']}"
        )
    resources = [
        ResourceRef(
            arn=system["arn"],
            resource_type="AWS::EFS::FileSystem",
            region=ctx.unit.region,
            name=system.get("Name") or system["FileSystemId"],
            tags=system["Tags"],
            configuration={k: v for k, v in system.items() if k not in ("Tags", "arn")},
        )
        for system in systems
    ]
    return Collected(resources=resources, data={"file_systems": systems})
