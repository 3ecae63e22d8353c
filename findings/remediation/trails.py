"""Fixes of the CloudTrail and KMS checks (CIS v2.0.0 3.1-3.4, 3.6-3.8, 3.10, 3.11).

A trail's fixes all update one ``aws_cloudtrail`` block, imported from the trail the scan saw:
each writes the trail's current settings (so that applying one fix changes nothing else) and
marks what it changes; in one directory the blocks of several fixes merge into one. The
account-level controls (3.1, 3.10, 3.11) update a trail the account already has, and create
one only when it has none.
"""

from __future__ import annotations

from typing import Any

from findings.checks.cloudtrail import management_gap
from findings.remediation import hcl
from findings.remediation.builders import BUILDERS, _import, _resource, builds
from findings.remediation.hcl import Attr, Block, Comment, Raw
from findings.remediation.model import Remedy, Target, Variable, shell

TRAIL = "AWS::CloudTrail::Trail"

_TRAIL_BUCKET = Variable(
    "cloudtrail_bucket_name",
    "S3 bucket a new CloudTrail trail delivers log files to (its policy must allow CloudTrail).",
)
_TRAIL_LOGS_ROLE = Variable(
    "cloudtrail_cloudwatch_role_arn",
    "ARN of the IAM role CloudTrail assumes to write to CloudWatch Logs "
    "(logs:CreateLogStream and logs:PutLogEvents on the trail's log group).",
)
_ACCESS_LOG_BUCKET = Variable(
    "access_log_bucket_name",
    "S3 bucket that receives server access logs (not the CloudTrail bucket itself).",
)


def _shown(value: object) -> str:
    """A cloud value in a comment: one line, whatever it holds."""
    return hcl.comment_text(str(value), 80)


def _label(trail: Target) -> str:
    return hcl.label("trail", trail.region, str(_settings(trail).get("Name") or trail.aws_id))


def _settings(trail: Target) -> dict[str, Any]:
    return dict(trail.configuration.get("trail") or {})


def _field_selector(field: dict[str, Any]) -> Block:
    body: list[Any] = [Attr("field", str(field.get("Field", "")))]
    for key, arg in (
        ("Equals", "equals"),
        ("NotEquals", "not_equals"),
        ("StartsWith", "starts_with"),
        ("NotStartsWith", "not_starts_with"),
        ("EndsWith", "ends_with"),
        ("NotEndsWith", "not_ends_with"),
    ):
        if field.get(key):
            body.append(Attr(arg, [str(v) for v in field[key]]))
    return Block("field_selector", body=body)


def _advanced(name: str, fields: list[dict[str, Any]]) -> Block:
    body: list[Any] = [Attr("name", name)] if name else []
    return Block("advanced_event_selector", body=body + [_field_selector(f) for f in fields])


def _basic(
    read_write: str, management: bool, data: list[dict[str, Any]], excluded: list[str]
) -> Block:
    body: list[Any] = [
        Attr("read_write_type", read_write),
        Attr("include_management_events", management),
    ]
    if excluded:
        body.append(Attr("exclude_management_event_sources", excluded))
    body += [
        Block(
            "data_resource",
            body=[
                Attr("type", str(item.get("Type", ""))),
                Attr("values", [str(v) for v in item.get("Values") or []]),
            ],
        )
        for item in data
    ]
    return Block("event_selector", body=body)


def _current_selectors(trail: Target) -> tuple[list[Block], bool]:
    """The trail's selectors as blocks, and whether they are advanced ones."""
    config = trail.configuration
    advanced = list(config.get("advanced_event_selectors") or [])
    if advanced:
        return [
            _advanced(str(s.get("Name") or ""), list(s.get("FieldSelectors") or []))
            for s in advanced
        ], True
    return [
        _basic(
            str(s.get("ReadWriteType", "All")),
            bool(s.get("IncludeManagementEvents", True)),
            list(s.get("DataResources") or []),
            [str(v) for v in s.get("ExcludeManagementEventSources") or []],
        )
        for s in config.get("event_selectors") or []
    ], False


def trail_blocks(
    trail: Target, fixes: list[Any], selectors: list[Block] | None = None
) -> list[Any]:
    """Import and resource of an existing trail: its settings as scanned, ``fixes`` (attributes
    with ``fix=True``) replacing theirs, and ``selectors`` added to its current ones."""
    settings = _settings(trail)
    status = dict(trail.configuration.get("status") or {})
    label = _label(trail)
    kept: list[Attr] = [
        Attr("name", str(settings.get("Name") or trail.aws_id)),
        Attr("s3_bucket_name", str(settings.get("S3BucketName") or "")),
    ]
    optional = (
        ("S3KeyPrefix", "s3_key_prefix"),
        ("SnsTopicARN", "sns_topic_name"),
        ("KmsKeyId", "kms_key_id"),
        ("CloudWatchLogsLogGroupArn", "cloud_watch_logs_group_arn"),
        ("CloudWatchLogsRoleArn", "cloud_watch_logs_role_arn"),
    )
    kept += [Attr(arg, str(settings[key])) for key, arg in optional if settings.get(key)]
    kept += [
        Attr(
            "include_global_service_events", bool(settings.get("IncludeGlobalServiceEvents", True))
        ),
        Attr("is_multi_region_trail", bool(settings.get("IsMultiRegionTrail"))),
        Attr("enable_log_file_validation", bool(settings.get("LogFileValidationEnabled"))),
        Attr("enable_logging", bool(status.get("IsLogging", True))),
    ]
    if settings.get("IsOrganizationTrail"):
        kept.append(Attr("is_organization_trail", True))
    by_name = {attr.name: attr for attr in kept}
    for fix in fixes:
        by_name[fix.name] = fix
    body: list[Any] = list(by_name.values())
    current, _advanced_in_use = _current_selectors(trail)
    body += current + list(selectors or [])
    if trail.tags:
        body.append(Attr("tags", dict(trail.tags)))
    return [
        Comment(
            f"Trail {_shown(settings.get('Name') or trail.aws_id)} ({trail.region}), as scanned."
        ),
        _import("aws_cloudtrail", label, trail.arn),
        _resource("aws_cloudtrail", label, body),
    ]


def _trail_remedy(
    trail: Target,
    check_id: str,
    title: str,
    fixes: list[Any],
    extra: list[Any] | None = None,
    variables: list[Variable] | None = None,
    selectors: list[Block] | None = None,
) -> Remedy | None:
    if trail.resource_type != TRAIL:
        return None
    name = str(_settings(trail).get("Name") or trail.aws_id)
    return Remedy(
        check_id,
        f"{title} on trail {_shown(name)}",
        trail,
        [*trail_blocks(trail, fixes, selectors), *(extra or [])],
        variables or [],
    )


@builds("cloudtrail_log_file_validation_enabled")
def log_file_validation(target: Target) -> Remedy | None:
    return _trail_remedy(
        target,
        "cloudtrail_log_file_validation_enabled",
        "log file validation",
        [Attr("enable_log_file_validation", True, fix=True)],
    )


@builds("cloudtrail_cloudwatch_logs_delivering")
def trail_to_cloudwatch(target: Target) -> Remedy | None:
    settings = _settings(target)
    name = str(settings.get("Name") or target.aws_id)
    group_arn = str(settings.get("CloudWatchLogsLogGroupArn") or "")
    extra: list[Any] = []
    if group_arn:
        # A log group is set but nothing arrives: the role is what fails.
        fixes = [Attr("cloud_watch_logs_role_arn", Raw("var.cloudtrail_cloudwatch_role_arn"), True)]
    else:
        group = hcl.label("trail_logs", target.region, name)
        extra.append(
            _resource(
                "aws_cloudwatch_log_group",
                group,
                [Attr("name", f"/aws/cloudtrail/{name}"), Attr("retention_in_days", 365)],
            )
        )
        fixes = [
            Attr(
                "cloud_watch_logs_group_arn",
                Raw(f'"${{aws_cloudwatch_log_group.{group}.arn}}:*"'),
                True,
            ),
            Attr("cloud_watch_logs_role_arn", Raw("var.cloudtrail_cloudwatch_role_arn"), True),
        ]
    return _trail_remedy(
        target,
        "cloudtrail_cloudwatch_logs_delivering",
        "send events to CloudWatch Logs",
        fixes,
        extra,
        [_TRAIL_LOGS_ROLE],
    )


def _trail_key_policy(target: Target) -> dict[str, Any]:
    account = target.account_id
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": target.arn_of("iam", "root", account=account)},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudTrailEncrypts",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceArn": target.arn},
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": (
                            target.arn_of("cloudtrail", "trail/*", region="*", account=account)
                        )
                    },
                },
            },
            {
                "Sid": "CloudTrailDescribes",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": "*",
            },
            {
                "Sid": "AccountDecryptsLogs",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:CallerAccount": account},
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": (
                            target.arn_of("cloudtrail", "trail/*", region="*", account=account)
                        )
                    },
                },
            },
        ],
    }


@builds("cloudtrail_kms_encryption_enabled")
def trail_kms(target: Target) -> Remedy | None:
    name = str(_settings(target).get("Name") or target.aws_id)
    key = hcl.label("trail_key", target.region, name)
    policy = _trail_key_policy(target)
    extra = [
        _resource(
            "aws_kms_key",
            key,
            [
                Attr("description", f"Encrypts the log files of CloudTrail trail {name}"),
                Attr("enable_key_rotation", True),
                Attr("deletion_window_in_days", 30),
                Attr("policy", Raw(f"jsonencode({hcl.value(policy)})")),
            ],
        )
    ]
    fixes = [Attr("kms_key_id", Raw(f"aws_kms_key.{key}.arn"), True)]
    return _trail_remedy(
        target,
        "cloudtrail_kms_encryption_enabled",
        "encrypt log files with a KMS key",
        fixes,
        extra,
    )


def _bucket_of(target: Target) -> str:
    return str(_settings(target).get("S3BucketName") or "")


@builds("cloudtrail_bucket_not_public")
def trail_bucket_not_public(target: Target) -> Remedy | None:
    bucket = _bucket_of(target)
    if target.resource_type != TRAIL or not bucket:
        return None
    summary = dict(target.configuration.get("s3_bucket") or {})
    name = hcl.label("bucket_public_access_block", bucket)
    blocks: list[Any] = [
        Comment(
            f"Bucket {_shown(bucket)}, where trail {_shown(target.name or target.aws_id)} "
            "delivers: Block Public Access ignores its public ACL grants and restricts its "
            "public policy."
        )
    ]
    if summary.get("public_access_block"):
        blocks.append(_import("aws_s3_bucket_public_access_block", name, bucket))
    blocks.append(
        _resource(
            "aws_s3_bucket_public_access_block",
            name,
            [
                Attr("bucket", bucket),
                Attr("block_public_acls", True),
                Attr("block_public_policy", True),
                Attr("ignore_public_acls", True),
                Attr("restrict_public_buckets", True),
            ],
        )
    )
    cli = [
        "# Then remove the public grants themselves: the ACL back to private, and review the"
        " policy's statements that allow everyone.",
        shell("aws", "s3api", "put-bucket-acl", "--bucket", bucket, "--acl", "private"),
        shell("aws", "s3api", "get-bucket-policy", "--bucket", bucket),
    ]
    return Remedy(
        "cloudtrail_bucket_not_public",
        f"make the CloudTrail bucket {bucket} private",
        target,
        blocks,
        cli=cli,
    )


@builds("cloudtrail_bucket_access_logging_enabled")
def trail_bucket_logging(target: Target) -> Remedy | None:
    bucket = _bucket_of(target)
    if target.resource_type != TRAIL or not bucket:
        return None
    name = hcl.label("bucket_logging", bucket)
    blocks: list[Any] = [
        Comment(
            f"Bucket {_shown(bucket)}, where trail {_shown(target.name or target.aws_id)} delivers."
        ),
        _resource(
            "aws_s3_bucket_logging",
            name,
            [
                Attr("bucket", bucket),
                Attr("target_bucket", Raw("var.access_log_bucket_name")),
                Attr("target_prefix", f"{bucket}/"),
            ],
        ),
    ]
    return Remedy(
        "cloudtrail_bucket_access_logging_enabled",
        f"server access logging on the CloudTrail bucket {bucket}",
        target,
        blocks,
        [_ACCESS_LOG_BUCKET],
    )


# --------------------------------------------------------------------------- account level


def _account_trails(target: Target) -> list[Target]:
    """The account's own trails (as scanned) as targets, best candidates first: multi-region
    and logging ones before the others."""
    trails = []
    for entry in (target.configuration.get("cloudtrail") or {}).get("trails") or []:
        if not entry.get("owned") or not entry.get("snapshot"):
            continue
        trails.append(
            Target(
                target.account_id,
                str(entry.get("home_region") or ""),
                TRAIL,
                str(entry["arn"]),
                name=str(entry.get("name") or ""),
                tags=dict(entry.get("tags") or {}),
                configuration=dict(entry["snapshot"]),
            )
        )
    return sorted(
        trails,
        key=lambda t: (
            not _settings(t).get("IsMultiRegionTrail"),
            not (t.configuration.get("status") or {}).get("IsLogging"),
            t.arn,
        ),
    )


def _s3_selector(target: Target, kind: str, advanced: bool) -> Block:
    if advanced:
        return _advanced(
            f"S3 object-level {kind.lower()} events, all buckets",
            [
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                {"Field": "readOnly", "Equals": ["true" if kind == "ReadOnly" else "false"]},
            ],
        )
    return _basic(
        kind, False, [{"Type": "AWS::S3::Object", "Values": [f"arn:{target.partition}:s3"]}], []
    )


def _management_selector(advanced: bool) -> Block:
    if advanced:
        return _advanced(
            "Management events", [{"Field": "eventCategory", "Equals": ["Management"]}]
        )
    return _basic("All", True, [], [])


def _new_trail(target: Target, check_id: str, selectors: list[Block]) -> Remedy:
    """A multi-region trail for an account that has none of its own."""
    account = target.account_id
    name = hcl.label("trail", account)
    body: list[Any] = [
        Attr("name", "account-trail"),
        Attr("s3_bucket_name", Raw("var.cloudtrail_bucket_name")),
        Attr("is_multi_region_trail", True),
        Attr("include_global_service_events", True),
        Attr("enable_log_file_validation", True),
        _management_selector(False),
        *selectors,
    ]
    return Remedy(
        check_id,
        f"a multi-region CloudTrail trail in account {account}",
        target,
        [
            Comment(f"Account {account} has no trail of its own: a multi-region one."),
            _resource("aws_cloudtrail", name, body),
        ],
        [_TRAIL_BUCKET],
    )


def _multi_region_logging() -> list[Attr]:
    return [
        Attr("is_multi_region_trail", True, fix=True),
        Attr("include_global_service_events", True, fix=True),
        Attr("enable_logging", True, fix=True),
    ]


@builds("cloudtrail_multi_region_trail_logging")
def account_trail(target: Target) -> Remedy:
    trails = _account_trails(target)
    if not trails:
        return _new_trail(target, "cloudtrail_multi_region_trail_logging", [])
    trail = trails[0]
    _current, advanced = _current_selectors(trail)
    selectors = [_management_selector(advanced)] if management_gap(_as_check(trail)) else []
    remedy = _trail_remedy(
        trail,
        "cloudtrail_multi_region_trail_logging",
        "multi-region, logging all management events",
        _multi_region_logging(),
        selectors=selectors,
    )
    assert remedy is not None
    return remedy


def _object_logging(target: Target, check_id: str, kind: str) -> Remedy:
    trails = _account_trails(target)
    if not trails:
        return _new_trail(target, check_id, [_s3_selector(target, kind, False)])
    trail = trails[0]
    _current, advanced = _current_selectors(trail)
    remedy = _trail_remedy(
        trail,
        check_id,
        f"S3 object-level {kind.lower()} events for all buckets",
        _multi_region_logging(),
        selectors=[_s3_selector(target, kind, advanced)],
    )
    assert remedy is not None
    return remedy


def _as_check(trail: Target) -> dict[str, Any]:
    """The trail in the shape the CloudTrail checks read."""
    config = trail.configuration
    return {
        "trail": config.get("trail") or {},
        "status": config.get("status") or {},
        "event_selectors": config.get("event_selectors") or [],
        "advanced_event_selectors": config.get("advanced_event_selectors") or [],
    }


BUILDERS["cloudtrail_s3_write_data_events_logged"] = lambda target: _object_logging(
    target, "cloudtrail_s3_write_data_events_logged", "WriteOnly"
)
BUILDERS["cloudtrail_s3_read_data_events_logged"] = lambda target: _object_logging(
    target, "cloudtrail_s3_read_data_events_logged", "ReadOnly"
)


# --------------------------------------------------------------------------- KMS


@builds("kms_key_rotation_enabled")
def key_rotation(target: Target) -> Remedy | None:
    if target.resource_type != "AWS::KMS::Key":
        return None
    config = target.configuration
    key_id = str(config.get("KeyId") or target.aws_id)
    name = hcl.label("kms_key", key_id)
    body: list[Any] = [
        Attr("enable_key_rotation", True, fix=True),
        # Everything else stays as it is: these would otherwise be reset to the provider's
        # defaults (and a key usage or spec change would replace the key).
        Block(
            "lifecycle",
            body=[
                Attr(
                    "ignore_changes",
                    Raw(
                        "[description, key_usage, customer_master_key_spec, multi_region, "
                        "policy, tags]"
                    ),
                )
            ],
        ),
    ]
    aliases = ", ".join(str(a) for a in config.get("Aliases") or [])
    blocks = [
        Comment(
            f"KMS key {_shown(key_id)}"
            + (f" ({_shown(aliases)})" if aliases else "")
            + ": yearly rotation."
        ),
        _import("aws_kms_key", name, key_id),
        _resource("aws_kms_key", name, body),
    ]
    cli = [
        shell("aws", "kms", "enable-key-rotation", "--region", target.region, "--key-id", key_id)
    ]
    return Remedy("kms_key_rotation_enabled", f"rotate KMS key {key_id}", target, blocks, cli=cli)
