"""CIS AWS Foundations v2.0.0 checks on CloudTrail (3.1-3.4, 3.6, 3.7, 3.10, 3.11).

Read from the ``cloudtrail`` collector (see ``findings.aws.cloudtrail`` for the shape of
``data``). Decisions:

* **Management events (3.1).** A trail records all management events when its basic event
  selectors include one with ``IncludeManagementEvents`` true and ``ReadWriteType`` ``All`` (or
  ``ReadOnly`` and ``WriteOnly`` selectors together), or when its advanced event selectors
  select ``eventCategory`` = ``Management`` without limiting ``readOnly`` (selectors are ORed,
  so a read-only and a write-only selector together also count). ``ExcludeManagementEventSources``
  (e.g. KMS or RDS Data API events) is not held against the trail: the benchmark does not
  mention it; the evidence lists the exclusions.
* **3.1 and 3.10/3.11 are account-level**: they pass when at least one trail qualifies (the
  benchmark asks for "at least one" multi-region trail) and are attached to the account.
* **S3 object-level logging (3.10/3.11)** must cover all current and future buckets, as in the
  benchmark's audit ("All current and future S3 buckets"): a basic selector whose data resources
  have type ``AWS::S3::Object`` and value ``arn:<partition>:s3`` or ``arn:<partition>:s3:::``,
  or an advanced selector with ``eventCategory`` = ``Data`` and ``resources.type`` =
  ``AWS::S3::Object`` whose only other field is ``readOnly`` (or ``resources.ARN`` starting with
  the all-buckets prefix). Selectors naming some buckets, some events, or excluding some ARNs
  are reported but do not count. The trail must also be multi-region and logging.
* **3.3 (bucket not public)** follows the benchmark's audit: no ACL grant to the ``AllUsers``
  or ``AuthenticatedUsers`` groups, and no policy statement that allows ``"*"`` (or
  ``{"AWS": "*"}``). A statement whose condition pins the caller to known values
  (``aws:SourceArn``, ``aws:SourceAccount``, ``aws:PrincipalOrgID``, ... without wildcards) is
  not public, as in S3's own definition of a public policy. The bucket's own Block Public Access
  neutralises what it covers: ``IgnorePublicAcls`` the ACL grants, ``RestrictPublicBuckets``
  the public policy. (The account-level Block Public Access setting is not read here.)
* **3.4** needs ``CloudWatchLogsLogGroupArn`` and a ``LatestCloudWatchLogsDeliveryTime`` no older
  than one day before ``collected_at`` (the benchmark: "a recent (~one day old) timestamp").
* Per-trail checks (3.2, 3.3, 3.4, 3.6, 3.7) judge the account's own trails; an organization
  trail seen from a member account is judged in the account that owns it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check
from findings.toolbox import as_list as _as_list
from findings.toolbox import everyone as _everyone

#: How recent the last CloudWatch Logs delivery must be (3.4).
CLOUDWATCH_DELIVERY_MAX_AGE = dt.timedelta(days=1)
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
#: Condition keys that restrict a ``"*"`` principal to known callers (S3's "non-public" keys).
RESTRICTING_CONDITION_KEYS = frozenset(
    {
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:sourceowner",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceip",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:userid",
        "aws:username",
        "s3:dataaccesspointarn",
        "s3:dataaccesspointaccount",
    }
)
READ, WRITE = "read", "write"
_RW = {"All": {READ, WRITE}, "ReadOnly": {READ}, "WriteOnly": {WRITE}}
_READONLY_VALUE = {"true": READ, "false": WRITE}
S3_OBJECT = "AWS::S3::Object"


def _trails(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(data.get("trails", []))


def _owned(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [trail for trail in _trails(data) if trail.get("owned", True)]


def _label(trail: Mapping[str, Any]) -> str:
    return f"Trail '{trail.get('name')}' ({trail.get('home_region')})"


def is_multi_region(trail: Mapping[str, Any]) -> bool:
    return bool(trail.get("trail", {}).get("IsMultiRegionTrail"))


def is_logging(trail: Mapping[str, Any]) -> bool:
    return bool(trail.get("status", {}).get("IsLogging"))


def _fields(selector: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(f.get("Field")): f for f in selector.get("FieldSelectors") or []}


def _readonly_coverage(field: Mapping[str, Any] | None) -> set[str]:
    """Read/write types an advanced selector's ``readOnly`` field selector lets through."""
    covered = {READ, WRITE}
    if not field:
        return covered
    if "Equals" in field:
        covered &= {_READONLY_VALUE[v] for v in field["Equals"] if v in _READONLY_VALUE}
    if "NotEquals" in field:
        covered -= {_READONLY_VALUE[v] for v in field["NotEquals"] if v in _READONLY_VALUE}
    return covered


def management_coverage(trail: Mapping[str, Any]) -> tuple[set[str], list[str]]:
    """Which management event types (read, write) the trail records, and excluded sources."""
    covered: set[str] = set()
    excluded: list[str] = []
    for selector in trail.get("event_selectors") or []:
        if selector.get("IncludeManagementEvents", True):
            covered |= _RW.get(str(selector.get("ReadWriteType", "All")), set())
            excluded.extend(selector.get("ExcludeManagementEventSources") or [])
    for selector in trail.get("advanced_event_selectors") or []:
        fields = _fields(selector)
        category = fields.get("eventCategory", {})
        if "Management" not in _as_list(category.get("Equals")):
            continue
        covered |= _readonly_coverage(fields.get("readOnly"))
        source = fields.get("eventSource", {})
        excluded.extend(_as_list(source.get("NotEquals")))
    return covered, sorted(set(excluded))


def management_gap(trail: Mapping[str, Any]) -> str:
    """Why the trail does not record all management events ('' if it does)."""
    covered, _ = management_coverage(trail)
    if covered >= {READ, WRITE}:
        return ""
    if not covered:
        return "records no management events"
    return f"records only {next(iter(covered))} management events"


def qualifies_for_3_1(trail: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether the trail is multi-region, logging and records all management events."""
    problems: list[str] = []
    if not is_multi_region(trail):
        problems.append("is not multi-region")
    elif not trail.get("trail", {}).get("IncludeGlobalServiceEvents", True):
        problems.append("does not include global service events")
    if not is_logging(trail):
        problems.append("is not logging")
    gap = management_gap(trail)
    if gap:
        problems.append(gap)
    return not problems, " and ".join(problems)


def _all_buckets(values: Iterable[Any], partition: str) -> bool:
    return any(str(v) in (f"arn:{partition}:s3", f"arn:{partition}:s3:::") for v in values)


def s3_data_coverage(
    trail: Mapping[str, Any], partition: str
) -> tuple[set[str], list[dict[str, Any]]]:
    """S3 object data event types logged for all buckets, and selectors that cover only part."""
    covered: set[str] = set()
    partial: list[dict[str, Any]] = []
    for selector in trail.get("event_selectors") or []:
        for resource in selector.get("DataResources") or []:
            if resource.get("Type") != S3_OBJECT:
                continue
            kinds = _RW.get(str(selector.get("ReadWriteType", "All")), set())
            if _all_buckets(resource.get("Values") or [], partition):
                covered |= kinds
            else:
                partial.append({"selector": dict(selector), "reason": "names only some buckets"})
    for selector in trail.get("advanced_event_selectors") or []:
        fields = _fields(selector)
        if "Data" not in _as_list(fields.get("eventCategory", {}).get("Equals")):
            continue
        if S3_OBJECT not in _as_list(fields.get("resources.type", {}).get("Equals")):
            continue
        narrowing = sorted(
            name
            for name, field in fields.items()
            if name not in ("eventCategory", "resources.type", "readOnly")
            and not (
                name == "resources.ARN"
                and set(field) <= {"Field", "StartsWith"}
                and _all_buckets(field.get("StartsWith") or [], partition)
            )
        )
        if narrowing:
            partial.append(
                {
                    "selector": dict(selector),
                    "reason": f"limits events by {', '.join(narrowing)}",
                }
            )
            continue
        covered |= _readonly_coverage(fields.get("readOnly"))
    return covered, partial


def _parse_time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _age(delta: dt.timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours < 48:
        return f"{hours} hours"
    return f"{hours // 24} days"


# --------------------------------------------------------------------------- 3.1


@check(
    "cloudtrail_multi_region_trail_logging",
    controls=["3.1"],
    service="cloudtrail",
    resource_type="AWS::::Account",
    title="A multi-region trail is logging all management events",
)
def cloudtrail_multi_region_trail_logging(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    trails = _trails(data)
    reasons: list[dict[str, Any]] = []
    for trail in trails:
        ok, why = qualifies_for_3_1(trail)
        covered, excluded = management_coverage(trail)
        entry = {
            "trail": trail.get("arn"),
            "name": trail.get("name"),
            "multi_region": is_multi_region(trail),
            "logging": is_logging(trail),
            "management_events": sorted(covered),
            "excluded_event_sources": excluded,
        }
        if ok:
            yield spec.result(
                unit.account_arn,
                True,
                f"{_label(trail)} is multi-region, logging, and records all management events "
                "(read and write)"
                + (f", except those of {', '.join(excluded)}." if excluded else "."),
                {
                    **entry,
                    "event_selectors": trail.get("event_selectors") or [],
                    "advanced_event_selectors": trail.get("advanced_event_selectors") or [],
                },
            )
            return
        reasons.append({**entry, "problem": why})
    if not trails:
        summary = "The account has no CloudTrail trail."
    else:
        summary = (
            "No trail is multi-region, logging and recording all management events: "
            + ("; ".join(f"'{r['name']}' {r['problem']}" for r in reasons))
            + "."
        )
    yield spec.result(unit.account_arn, False, summary, {"trails": reasons})


# --------------------------------------------------------------------------- 3.2


@check(
    "cloudtrail_log_file_validation_enabled",
    controls=["3.2"],
    service="cloudtrail",
    resource_type="AWS::CloudTrail::Trail",
    title="Trail log file validation is enabled",
)
def cloudtrail_log_file_validation_enabled(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for trail in _owned(data):
        enabled = bool(trail.get("trail", {}).get("LogFileValidationEnabled"))
        yield spec.result(
            trail["arn"],
            enabled,
            f"{_label(trail)} has log file validation "
            + ("enabled, so CloudTrail writes signed digest files." if enabled else "disabled."),
            {"LogFileValidationEnabled": enabled},
        )


# --------------------------------------------------------------------------- 3.3


def _public_grants(grants: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        dict(grant)
        for grant in grants
        if grant.get("Grantee", {}).get("URI") in (ALL_USERS, AUTHENTICATED_USERS)
    ]


def _restricting_condition(statement: Mapping[str, Any]) -> str:
    """The condition key that pins the caller to known values, or ''."""
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return ""
    for operator, keys in condition.items():
        if not isinstance(keys, dict) or "ifexists" in str(operator).lower():
            continue
        for key, value in keys.items():
            values = [str(v) for v in _as_list(value)]
            if (
                str(key).lower() in RESTRICTING_CONDITION_KEYS
                and values
                and not any("*" in v or "?" in v for v in values)
                and not any(v in ("0.0.0.0/0", "::/0") for v in values)
                and not str(operator).lower().startswith("stringnot")
                and not str(operator).lower().startswith("arnnot")
                and str(operator).lower() != "notipaddress"
            ):
                return str(key)
    return ""


def public_statements(policy: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Allow statements of ``policy`` open to everyone (principal ``*``, no restricting key)."""
    if not policy:
        return []
    found: list[dict[str, Any]] = []
    for statement in _as_list(policy.get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if _everyone(statement) and not _restricting_condition(statement):
            found.append(statement)
    return found


def bucket_exposure(bucket: Mapping[str, Any]) -> dict[str, Any]:
    """The public ACL grants and policy statements of a bucket, and whether BPA blocks them."""
    block = bucket.get("public_access_block") or {}
    grants = _public_grants(bucket.get("acl_grants") or [])
    statements = public_statements(bucket.get("policy"))
    return {
        "public_acl_grants": grants,
        "public_policy_statements": statements,
        "acl_blocked": bool(block.get("IgnorePublicAcls")),
        "policy_blocked": bool(block.get("RestrictPublicBuckets")),
        "public_access_block": block or None,
    }


def _statement_label(statement: Mapping[str, Any]) -> str:
    sid = statement.get("Sid")
    return f"statement '{sid}'" if sid else "a statement"


def _bucket_of(data: Mapping[str, Any], trail: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    name = str(trail.get("trail", {}).get("S3BucketName") or "")
    return name, data.get("buckets", {}).get(name) or {}


@check(
    "cloudtrail_bucket_not_public",
    controls=["3.3"],
    service="cloudtrail",
    resource_type="AWS::CloudTrail::Trail",
    title="The trail's S3 bucket is not publicly accessible",
)
def cloudtrail_bucket_not_public(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for trail in _owned(data):
        name, bucket = _bucket_of(data, trail)
        if not bucket.get("exists"):
            yield spec.result(
                trail["arn"],
                False,
                f"{_label(trail)} delivers to bucket '{name}', which does not exist; anyone "
                "could create a bucket of that name and receive the logs.",
                {"bucket": name, "exists": False},
            )
            continue
        exposure = bucket_exposure(bucket)
        effective: list[str] = []
        if exposure["public_acl_grants"] and not exposure["acl_blocked"]:
            groups = sorted(
                {g["Grantee"]["URI"].rsplit("/", 1)[-1] for g in exposure["public_acl_grants"]}
            )
            effective.append(f"its ACL grants access to {' and '.join(groups)}")
        if exposure["public_policy_statements"] and not exposure["policy_blocked"]:
            labels = ", ".join(_statement_label(s) for s in exposure["public_policy_statements"])
            effective.append(f'its policy allows everyone ("*") in {labels}')
        details = {"bucket": name, **exposure}
        if effective:
            yield spec.result(
                trail["arn"],
                False,
                f"{_label(trail)} delivers to bucket '{name}', which is public: "
                + "; ".join(effective)
                + ".",
                details,
            )
            continue
        neutralised = []
        if exposure["public_acl_grants"]:
            neutralised.append("public ACL grants are ignored (IgnorePublicAcls)")
        if exposure["public_policy_statements"]:
            neutralised.append("the public policy is restricted (RestrictPublicBuckets)")
        summary = (
            f"{_label(trail)} delivers to bucket '{name}', whose ACL grants nothing to AllUsers "
            "or AuthenticatedUsers and whose policy allows no anonymous principal."
        )
        if neutralised:
            summary = (
                f"{_label(trail)} delivers to bucket '{name}': its Block Public Access settings "
                f"neutralise the public grants ({'; '.join(neutralised)})."
            )
        yield spec.result(trail["arn"], True, summary, details)


# --------------------------------------------------------------------------- 3.4


@check(
    "cloudtrail_cloudwatch_logs_delivering",
    controls=["3.4"],
    service="cloudtrail",
    resource_type="AWS::CloudTrail::Trail",
    title="The trail delivers to CloudWatch Logs",
)
def cloudtrail_cloudwatch_logs_delivering(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    now = _parse_time(data.get("collected_at")) or dt.datetime.now(dt.UTC)
    for trail in _owned(data):
        group = trail.get("trail", {}).get("CloudWatchLogsLogGroupArn")
        status = trail.get("status", {})
        delivered = _parse_time(status.get("LatestCloudWatchLogsDeliveryTime"))
        details = {
            "CloudWatchLogsLogGroupArn": group or None,
            "LatestCloudWatchLogsDeliveryTime": status.get("LatestCloudWatchLogsDeliveryTime"),
            "LatestCloudWatchLogsDeliveryError": status.get("LatestCloudWatchLogsDeliveryError"),
            "collected_at": data.get("collected_at"),
        }
        if not group:
            yield spec.result(
                trail["arn"],
                False,
                f"{_label(trail)} does not send events to CloudWatch Logs.",
                details,
            )
            continue
        if delivered is None:
            error = status.get("LatestCloudWatchLogsDeliveryError")
            yield spec.result(
                trail["arn"],
                False,
                f"{_label(trail)} is set to send to log group {group} but has never delivered "
                "to it" + (f" (last error: {error})." if error else "."),
                details,
            )
            continue
        age = now - delivered
        recent = age <= CLOUDWATCH_DELIVERY_MAX_AGE
        yield spec.result(
            trail["arn"],
            recent,
            f"{_label(trail)} sends to log group {group}; its last delivery was "
            + (
                f"{_age(age)} before the scan."
                if recent
                else f"{_age(age)} before the scan, more than a day ago."
            ),
            details,
        )


# --------------------------------------------------------------------------- 3.6


@check(
    "cloudtrail_bucket_access_logging_enabled",
    controls=["3.6"],
    service="cloudtrail",
    resource_type="AWS::CloudTrail::Trail",
    title="S3 access logging is enabled on the trail's bucket",
)
def cloudtrail_bucket_access_logging_enabled(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for trail in _owned(data):
        name, bucket = _bucket_of(data, trail)
        if not bucket.get("exists"):
            yield spec.result(
                trail["arn"],
                False,
                f"{_label(trail)} delivers to bucket '{name}', which does not exist.",
                {"bucket": name, "exists": False},
            )
            continue
        logging = bucket.get("logging")
        if logging:
            target = f"{logging.get('TargetBucket')}/{logging.get('TargetPrefix', '')}"
            yield spec.result(
                trail["arn"],
                True,
                f"{_label(trail)} delivers to bucket '{name}', which logs access to {target}.",
                {"bucket": name, "LoggingEnabled": dict(logging)},
            )
        else:
            yield spec.result(
                trail["arn"],
                False,
                f"{_label(trail)} delivers to bucket '{name}', which has server access logging "
                "disabled.",
                {"bucket": name, "LoggingEnabled": None},
            )


# --------------------------------------------------------------------------- 3.7


@check(
    "cloudtrail_kms_encryption_enabled",
    controls=["3.7"],
    service="cloudtrail",
    resource_type="AWS::CloudTrail::Trail",
    title="Trail logs are encrypted with a KMS key (SSE-KMS)",
)
def cloudtrail_kms_encryption_enabled(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for trail in _owned(data):
        key = trail.get("trail", {}).get("KmsKeyId")
        yield spec.result(
            trail["arn"],
            bool(key),
            f"{_label(trail)} encrypts its log files with KMS key {key}."
            if key
            else f"{_label(trail)} has no KMS key: its log files use the bucket's default "
            "encryption only.",
            {"KmsKeyId": key or None},
        )


# --------------------------------------------------------------------------- 3.10 / 3.11


def _object_logging(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec, kind: str
) -> Iterable[Result]:
    trails = _trails(data)
    notes: list[dict[str, Any]] = []
    for trail in trails:
        covered, partial = s3_data_coverage(trail, unit.partition)
        entry = {
            "trail": trail.get("arn"),
            "name": trail.get("name"),
            "multi_region": is_multi_region(trail),
            "logging": is_logging(trail),
            "s3_object_events_all_buckets": sorted(covered),
            "partial_selectors": partial,
        }
        if kind in covered and is_multi_region(trail) and is_logging(trail):
            yield spec.result(
                unit.account_arn,
                True,
                f"{_label(trail)} is multi-region, logging, and records S3 object-level {kind} "
                "events for all current and future buckets.",
                entry,
            )
            return
        problems = []
        if kind not in covered:
            problems.append(
                f"logs {kind} events only for some buckets"
                if partial
                else f"does not log S3 object-level {kind} events for all buckets"
            )
        if not is_multi_region(trail):
            problems.append("is not multi-region")
        if not is_logging(trail):
            problems.append("is not logging")
        notes.append({**entry, "problem": " and ".join(problems)})
    if not trails:
        summary = "The account has no CloudTrail trail, so no S3 object-level events are logged."
    else:
        summary = (
            f"No multi-region, logging trail records S3 object-level {kind} events for all "
            "buckets: " + "; ".join(f"'{n['name']}' {n['problem']}" for n in notes) + "."
        )
    yield spec.result(unit.account_arn, False, summary, {"trails": notes})


@check(
    "cloudtrail_s3_write_data_events_logged",
    controls=["3.10"],
    service="cloudtrail",
    resource_type="AWS::::Account",
    title="S3 object-level write events are logged for all buckets",
)
def cloudtrail_s3_write_data_events_logged(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    return _object_logging(data, unit, spec, WRITE)


@check(
    "cloudtrail_s3_read_data_events_logged",
    controls=["3.11"],
    service="cloudtrail",
    resource_type="AWS::::Account",
    title="S3 object-level read events are logged for all buckets",
)
def cloudtrail_s3_read_data_events_logged(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    return _object_logging(data, unit, spec, READ)
