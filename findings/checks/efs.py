"""CIS AWS Foundations v2.0.0 check 2.4.1 (EFS encryption at rest).

Read from the ``efs`` collector (``describe_file_systems``): the ``Encrypted`` attribute of
each file system, fixed when it is created. The benchmark marks this recommendation manual;
the attribute answers it exactly, so it is evaluated here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check


@check(
    "efs_file_system_encrypted",
    controls=["2.4.1"],
    service="efs",
    resource_type="AWS::EFS::FileSystem",
    title="EFS file system is encrypted at rest",
)
def efs_file_system_encrypted(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for system in data.get("file_systems", []):
        encrypted = bool(system.get("Encrypted"))
        key = system.get("KmsKeyId")
        name = system.get("Name")
        label = f"File system {system.get('FileSystemId')}" + (f" ('{name}')" if name else "")
        yield spec.result(
            system["arn"],
            encrypted,
            f"{label} is encrypted at rest" + (f" with KMS key {key}." if key else ".")
            if encrypted
            else f"{label} is not encrypted at rest; encryption can only be chosen when a file "
            "system is created.",
            {"Encrypted": encrypted, "KmsKeyId": key},
        )
