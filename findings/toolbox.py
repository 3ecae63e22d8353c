"""What collectors and checks both use: the scan unit, the resource reference, ARN builders,
the JSON-safe copy of what boto3 returns, and small readers of policy documents.

Collectors (``findings.aws``) and checks (``findings.checks``) import this module and never
each other: a collector needs a check's ARN builder, a check needs the unit a collector ran
in, and neither needs the other's logic. No Django and no boto3 here, so the checks stay pure
(tests/test_import_rules.py holds both).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

GLOBAL = "global"

# --------------------------------------------------------------------------- partitions

DEFAULT_PARTITION = "aws"
# Region name prefixes of the partitions other than ``aws``, longest first (botocore's
# endpoint data agrees: tests/findings/test_partitions.py compares every region it knows).
_PARTITION_PREFIXES = (
    ("us-isob-", "aws-iso-b"),
    ("us-iso-", "aws-iso"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-isof-", "aws-iso-f"),
    ("us-gov-", "aws-us-gov"),
    ("eusc-", "aws-eusc"),
    ("cn-", "aws-cn"),
)
# Where each partition's global services (IAM, S3's bucket list, STS) answer.
_HOME_REGIONS = {
    "aws": "us-east-1",
    "aws-cn": "cn-north-1",
    "aws-us-gov": "us-gov-west-1",
    "aws-iso": "us-iso-east-1",
    "aws-iso-b": "us-isob-east-1",
}
_CONSOLE_HOSTS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


def partition_of(region: str) -> str:
    """The partition a region belongs to: ``cn-north-1`` -> ``aws-cn``; ``aws`` by default."""
    for prefix, partition in _PARTITION_PREFIXES:
        if region.startswith(prefix):
            return partition
    return DEFAULT_PARTITION


def arn_partition(arn: str) -> str:
    """The partition an ARN names (``arn:aws-cn:...`` -> ``aws-cn``); ``aws`` if none."""
    parts = arn.split(":")
    return parts[1] if len(parts) > 2 and parts[0] == "arn" and parts[1] else DEFAULT_PARTITION


def home_region(partition: str) -> str:
    """The region where the partition's global APIs answer."""
    return _HOME_REGIONS.get(partition, _HOME_REGIONS[DEFAULT_PARTITION])


def console_url(partition: str, path: str = "/") -> str:
    """A link into the AWS console of the partition (China and GovCloud have their own)."""
    host = _CONSOLE_HOSTS.get(partition, _CONSOLE_HOSTS[DEFAULT_PARTITION])
    return f"https://{host}/{path.lstrip('/')}"


@dataclass(frozen=True)
class Unit:
    """What one scan task covers: an account and a region, or ``global``."""

    account_id: str
    region: str  # a region name, or GLOBAL
    partition: str = "aws"  # the ARN partition: aws, aws-cn, aws-us-gov

    @property
    def is_global(self) -> bool:
        return self.region == GLOBAL

    @property
    def api_region(self) -> str:
        """The unit's region, or where its partition's global APIs answer for ``global``."""
        return home_region(self.partition) if self.is_global else self.region

    def arn(self, service: str, resource: str, region: str | None = None) -> str:
        """An ARN in this unit's account; ``region`` '' for global services."""
        where = self.region if region is None else region
        if where == GLOBAL:
            where = ""
        return f"arn:{self.partition}:{service}:{where}:{self.account_id}:{resource}"

    @property
    def account_arn(self) -> str:
        """The pseudo-resource for account-wide settings (password policy, root user, ...)."""
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    def regional_settings_arn(self, service: str) -> str:
        """The pseudo-resource for a service's settings in this unit's region."""
        return self.arn(service, "regional-settings")


@dataclass(frozen=True)
class ResourceRef:
    """A resource as a collector saw it. ``configuration`` is shown to users as the snapshot."""

    arn: str
    resource_type: str  # CloudFormation style: AWS::S3::Bucket; AWS::::Account for the account
    region: str  # where it lives (a region, or GLOBAL)
    name: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    configuration: Mapping[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- ARNs


def ec2_arn(unit: Unit, kind: str, resource_id: str) -> str:
    """An EC2 resource's ARN in the unit's region: ``arn:aws:ec2:REGION:ACCOUNT:KIND/ID``."""
    return unit.arn("ec2", f"{kind}/{resource_id}")


def bucket_arn(unit: Unit, name: str) -> str:
    """A bucket's ARN (S3 bucket ARNs carry neither region nor account)."""
    return f"arn:{unit.partition}:s3:::{name}"


def arn_region(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


def arn_account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def root_virtual_mfa_devices(
    devices: Iterable[Mapping[str, Any]], unit: Unit
) -> list[Mapping[str, Any]]:
    """The assigned virtual MFA devices (``SerialNumber``, ``UserArn``) that are the root user's.

    ListVirtualMFADevices names the root user by the account's ARN (``arn:aws:iam::<id>:root``);
    a device the root user set up from the console before devices could be named is serialled
    ``arn:aws:iam::<id>:mfa/root-account-mfa-device``. Either marks it as the root's.
    """
    serial = f"arn:{unit.partition}:iam::{unit.account_id}:mfa/root-account-mfa-device"
    return [
        device
        for device in devices
        if device.get("UserArn") == unit.account_arn or device.get("SerialNumber") == serial
    ]


def log_group_of(arn: str) -> tuple[str, str] | None:
    """(region, name) of a ``arn:aws:logs:<region>:<account>:log-group:<name>[:*]`` ARN."""
    parts = arn.split(":")
    if len(parts) < 7 or parts[2] != "logs" or parts[5] != "log-group":
        return None
    name = ":".join(parts[6:])
    if name.endswith(":*"):
        name = name[:-2]
    return parts[3], name


# --------------------------------------------------------------------------- alarms


def alarm_metrics(alarm: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(namespace, metric name) pairs an alarm watches, including metric-math inputs."""
    found: set[tuple[str, str]] = set()
    if alarm.get("MetricName"):
        found.add((str(alarm.get("Namespace", "")), str(alarm["MetricName"])))
    for query in alarm.get("Metrics") or []:
        metric = (query.get("MetricStat") or {}).get("Metric") or {}
        if metric.get("MetricName"):
            found.add((str(metric.get("Namespace", "")), str(metric["MetricName"])))
    return found


def sns_topics(alarm: Mapping[str, Any]) -> list[str]:
    """The SNS topic ARNs among an alarm's actions."""
    return [str(a) for a in alarm.get("AlarmActions") or [] if str(a).split(":")[2:3] == ["sns"]]


# --------------------------------------------------------------------------- JSON


def json_safe(value: Any) -> Any:
    """A JSON-serializable copy of what boto3 returned: datetimes and dates become ISO 8601
    strings (a naive datetime is taken as UTC), mappings and lists are copied recursively, and
    boto3's ``ResponseMetadata`` (transport detail, not configuration) is left out."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


# --------------------------------------------------------------------------- policy documents


def as_list(value: Any) -> list[Any]:
    """A policy element that may be one value or a list of them, as a list (None: empty)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def everyone(statement: Mapping[str, Any]) -> bool:
    """Whether a policy statement's principal is everyone (``*``, or ``{"AWS": "*"}``)."""
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in as_list(principal.get("AWS"))
    return False


def policy_document(text: Any) -> Any:
    """A policy document as AWS returned it (JSON text), parsed; None when there is none.

    Text that is not JSON is kept as it is: a collector reports what AWS holds, and the check
    says the policy could not be read (``findings.checks.policies``) rather than the scan
    failing on it.
    """
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text
