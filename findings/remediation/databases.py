"""Fixes of the RDS and EFS checks (CIS v2.0.0 2.3.1-2.3.3, 2.4.1).

Auto minor version upgrade and public access change in place on the imported instance.
Encryption at rest cannot be turned on for an existing RDS instance or EFS file system: the fix
is an encrypted copy, made with the filled-in CLI steps (RDS) or a new file system in Terraform
plus the steps to move the data (EFS).
"""

from __future__ import annotations

from typing import Any

from findings.remediation import hcl
from findings.remediation.builders import _import, _resource, _tags, builds
from findings.remediation.hcl import Attr, Comment
from findings.remediation.model import Remedy, Target, shell

DB = "AWS::RDS::DBInstance"


def _db_identifier(target: Target) -> str:
    return str(target.configuration.get("DBInstanceIdentifier") or target.name or target.aws_id)


def _db_instance(target: Target, fixes: list[Attr]) -> list[Any]:
    """Import and resource of an RDS instance: what Terraform requires and what would force a
    replacement if left out, as scanned; ``fixes`` replacing theirs."""
    config = target.configuration
    identifier = _db_identifier(target)
    in_cluster = bool(config.get("DBClusterIdentifier"))
    kind = "aws_rds_cluster_instance" if in_cluster else "aws_db_instance"
    # Identifiers are unique per region only: two regions may each have a "main".
    name = hcl.label("db", target.region, identifier)
    kept = [
        Attr("identifier", identifier),
        Attr("instance_class", str(config.get("DBInstanceClass") or "")),
        Attr("engine", str(config.get("Engine") or "")),
    ]
    if in_cluster:
        kept.append(Attr("cluster_identifier", str(config["DBClusterIdentifier"])))
    else:
        kept.append(Attr("storage_encrypted", bool(config.get("StorageEncrypted"))))
    kept += [
        Attr("auto_minor_version_upgrade", bool(config.get("AutoMinorVersionUpgrade", True))),
        Attr("publicly_accessible", bool(config.get("PubliclyAccessible"))),
    ]
    by_name = {attr.name: attr for attr in kept}
    for fix in fixes:
        by_name[fix.name] = fix
    return [
        Comment(f"RDS instance {hcl.comment_text(identifier, 80)}, as scanned."),
        _import(kind, name, identifier),
        _resource(kind, name, [*by_name.values(), *_tags(target)]),
    ]


@builds("rds_instance_auto_minor_version_upgrade")
def db_auto_minor_upgrade(target: Target) -> Remedy | None:
    if target.resource_type != DB:
        return None
    identifier = _db_identifier(target)
    blocks = _db_instance(target, [Attr("auto_minor_version_upgrade", True, fix=True)])
    cli = [
        shell(
            "aws",
            "rds",
            "modify-db-instance",
            "--region",
            target.region,
            "--db-instance-identifier",
            identifier,
            "--auto-minor-version-upgrade",
        )
    ]
    return Remedy(
        "rds_instance_auto_minor_version_upgrade",
        f"auto minor version upgrade on {identifier}",
        target,
        blocks,
        cli=cli,
    )


@builds("rds_instance_not_publicly_accessible")
def db_not_public(target: Target) -> Remedy | None:
    if target.resource_type != DB:
        return None
    identifier = _db_identifier(target)
    blocks = _db_instance(
        target,
        [
            Attr("publicly_accessible", False, fix=True),
            # Without it the change waits for the next maintenance window.
            Attr("apply_immediately", True, fix=True),
        ],
    )
    cli = [
        shell(
            "aws",
            "rds",
            "modify-db-instance",
            "--region",
            target.region,
            "--db-instance-identifier",
            identifier,
            "--no-publicly-accessible",
            "--apply-immediately",
        )
    ]
    return Remedy(
        "rds_instance_not_publicly_accessible",
        f"no public access to {identifier}",
        target,
        blocks,
        cli=cli,
    )


@builds("rds_instance_storage_encrypted")
def db_encrypted(target: Target) -> Remedy | None:
    if target.resource_type != DB:
        return None
    identifier = _db_identifier(target)
    region = ["--region", target.region]
    snapshot = f"{identifier}-unencrypted"[:255]
    encrypted = f"{identifier}-encrypted"[:255]
    copy = f"{identifier}-enc"[:63]
    return Remedy(
        "rds_instance_storage_encrypted",
        f"an encrypted copy of {identifier}",
        target,
        manual_reason=(
            "An existing RDS instance cannot be encrypted in place (Terraform would destroy and "
            "recreate it, losing the data): restore an encrypted copy from a snapshot, switch "
            "the application to it, then retire the old instance."
        ),
        cli=[
            "# 1. Snapshot the instance (stop writes first for a consistent copy).",
            shell(
                "aws",
                "rds",
                "create-db-snapshot",
                *region,
                "--db-instance-identifier",
                identifier,
                "--db-snapshot-identifier",
                snapshot,
            ),
            shell(
                "aws",
                "rds",
                "wait",
                "db-snapshot-available",
                *region,
                "--db-snapshot-identifier",
                snapshot,
            ),
            "# 2. An encrypted copy of the snapshot (the account's RDS key; name yours instead).",
            shell(
                "aws",
                "rds",
                "copy-db-snapshot",
                *region,
                "--source-db-snapshot-identifier",
                snapshot,
                "--target-db-snapshot-identifier",
                encrypted,
                "--kms-key-id",
                "alias/aws/rds",
            ),
            shell(
                "aws",
                "rds",
                "wait",
                "db-snapshot-available",
                *region,
                "--db-snapshot-identifier",
                encrypted,
            ),
            "# 3. A new, encrypted instance from it; point the application at its endpoint.",
            shell(
                "aws",
                "rds",
                "restore-db-instance-from-db-snapshot",
                *region,
                "--db-instance-identifier",
                copy,
                "--db-snapshot-identifier",
                encrypted,
                "--no-publicly-accessible",
            ),
            "# 4. When nothing uses the old instance any more:",
            shell(
                "aws",
                "rds",
                "delete-db-instance",
                *region,
                "--db-instance-identifier",
                identifier,
                "--final-db-snapshot-identifier",
                f"{identifier}-final"[:255],
            ),
        ],
    )


@builds("efs_file_system_encrypted")
def efs_encrypted(target: Target) -> Remedy | None:
    if target.resource_type != "AWS::EFS::FileSystem":
        return None
    config = target.configuration
    fs_id = str(config.get("FileSystemId") or target.aws_id)
    name = hcl.label("efs_encrypted", fs_id)
    body: list[Any] = [
        Attr("creation_token", f"{fs_id}-encrypted"),
        Attr("encrypted", True),
        Attr("performance_mode", str(config.get("PerformanceMode") or "generalPurpose")),
        Attr("throughput_mode", str(config.get("ThroughputMode") or "bursting")),
        *_tags(target),
    ]
    blocks: list[Any] = [
        Comment(
            f"File system {target.describe()}: an encrypted replacement (EFS cannot be"
            " encrypted in place)."
        ),
        _resource("aws_efs_file_system", name, body),
    ]
    return Remedy(
        "efs_file_system_encrypted",
        f"an encrypted replacement of EFS file system {fs_id}",
        target,
        blocks,
        manual_reason=(
            "An existing EFS file system cannot be encrypted: Terraform creates the encrypted "
            "one; copying the data and switching the mounts are steps of their own."
        ),
        console=[
            f"Create mount targets for the new file system in the subnets {fs_id} uses.",
            f"Copy the data from {fs_id} with AWS DataSync (or restore an AWS Backup of it into "
            "the new file system).",
            "Switch the clients' mounts to the new file system, then delete the old one.",
        ],
    )
