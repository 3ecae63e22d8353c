"""CloudTrail: every trail the account can see, its status, event selectors and S3 bucket.

Scope GLOBAL: trails are listed once for the account (CIS 3.1-3.4, 3.6, 3.7, 3.10, 3.11).

Calls:

* ``describe_trails(includeShadowTrails=True)`` in every scanned region (one list call per
  region, in a small thread pool), de-duplicated by ARN. AWS answers DescribeTrails with "the
  trails in the current Region and any associated shadow trails": a multi-region trail shows up
  in every region, but a single-region trail only in its home region, so one region's answer is
  not the whole account.
* Per trail, in its home region (the only per-resource calls, in a thread pool):
  ``get_trail_status`` (``IsLogging``, ``LatestCloudWatchLogsDeliveryTime``) and
  ``get_event_selectors`` (basic or advanced selectors).
* Per home region: ``list_tags`` for the account's own trails (20 ARNs a call, paginated).
* Per distinct S3 bucket of the account's own trails: ``get_bucket_acl``,
  ``get_bucket_policy`` (``NoSuchBucketPolicy`` means none), ``get_public_access_block``
  (``NoSuchPublicAccessBlockConfiguration`` means none) and ``get_bucket_logging``.
  ``NoSuchBucket`` on the first of them means the trail points at a bucket that no longer exists.

Trails owned by another account (an organization trail seen from a member account) are kept in
``data`` for the account-level checks (3.1, 3.10, 3.11), but are not resources of this account:
their bucket, validation and encryption are judged where the trail lives.

``data``::

    {
        "collected_at": "2024-05-01T12:00:00+00:00",   # "now" for the checks (3.4)
        "account_id": "123456789012",
        "trails": [
            {
                "arn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
                "name": "main",
                "home_region": "us-east-1",
                "owned": True,                 # the trail belongs to this account
                "trail": {...},                # DescribeTrails entry (S3BucketName, KmsKeyId, ...)
                "status": {...},               # GetTrailStatus, timestamps as ISO strings
                "event_selectors": [...],
                "advanced_event_selectors": [...],
                "tags": {"Team": "sec"},
            },
        ],
        "buckets": {
            "trail-logs": {
                "exists": True,
                "acl_grants": [...],               # GetBucketAcl Grants
                "policy": {...} | None,            # parsed bucket policy
                "public_access_block": {...} | None,
                "logging": {...} | None,           # LoggingEnabled
            },
        },
    }
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from findings.aws.base import DENIED_CODES, CollectContext, Collected, CollectionError, collector
from findings.toolbox import GLOBAL, ResourceRef, Unit, arn_account, arn_region, json_safe, now_iso

#: Threads for per-region and per-trail calls.
WORKERS = 8
#: ListTags accepts at most 20 resource ARNs a call.
TAG_BATCH = 20
#: Keys of a DescribeTrails entry kept in ``data`` and in the trail's snapshot.
TRAIL_KEYS = (
    "Name",
    "TrailARN",
    "HomeRegion",
    "S3BucketName",
    "S3KeyPrefix",
    "SnsTopicARN",
    "IncludeGlobalServiceEvents",
    "IsMultiRegionTrail",
    "IsOrganizationTrail",
    "LogFileValidationEnabled",
    "CloudWatchLogsLogGroupArn",
    "CloudWatchLogsRoleArn",
    "KmsKeyId",
    "HasCustomEventSelectors",
    "HasInsightSelectors",
)
#: Keys of GetTrailStatus kept (the deprecated lower-case duplicates are dropped).
STATUS_KEYS = (
    "IsLogging",
    "LatestDeliveryTime",
    "LatestDeliveryError",
    "LatestCloudWatchLogsDeliveryTime",
    "LatestCloudWatchLogsDeliveryError",
    "StartLoggingTime",
    "StopLoggingTime",
)

_T = TypeVar("_T")
_R = TypeVar("_R")


def in_threads(function: Callable[[_T], _R], items: Iterable[_T]) -> list[_R]:
    """``function`` over ``items`` in a small thread pool; exceptions propagate."""
    ordered = list(items)
    if not ordered:
        return []
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(ordered))) as pool:
        return list(pool.map(function, ordered))


def discover_trails(ctx: CollectContext) -> list[dict[str, Any]]:
    """Every trail visible from the scanned regions, once each (DescribeTrails entries).

    A region that answers "denied" (an organisation policy on ``aws:RequestedRegion``) is left
    out and recorded (``ctx.skip_region``): multi-region trails still show up through the other
    regions, and the region's own unit reports the denial. Only when every region is denied
    does the lookup fail.
    """
    regions = list(dict.fromkeys(ctx.regions or [ctx.region]))

    def describe(region: str) -> list[dict[str, Any]] | CollectionError:
        client = ctx.client("cloudtrail", region)
        try:
            return ctx.paginate(client, "describe_trails", "trailList", includeShadowTrails=True)
        except CollectionError as exc:
            if exc.code not in DENIED_CODES:
                raise
            return exc

    answers = in_threads(describe, regions)
    denied = [(r, a) for r, a in zip(regions, answers, strict=True) if not isinstance(a, list)]
    if len(denied) == len(regions):
        raise denied[0][1]
    for region, error in denied:
        ctx.skip_region(region, error)
    seen: dict[str, dict[str, Any]] = {}
    for listed in answers:
        if not isinstance(listed, list):
            continue
        for trail in listed:
            arn = str(trail.get("TrailARN", ""))
            if arn and arn not in seen:
                seen[arn] = {key: trail[key] for key in TRAIL_KEYS if key in trail}
                seen[arn].setdefault("HomeRegion", arn_region(arn))
    return sorted(seen.values(), key=lambda trail: str(trail["TrailARN"]))


def trail_state(ctx: CollectContext, trail: Mapping[str, Any]) -> dict[str, Any]:
    """GetTrailStatus and GetEventSelectors of one trail, asked in its home region."""
    arn = str(trail["TrailARN"])
    client = ctx.client("cloudtrail", str(trail["HomeRegion"]))
    status = ctx.call(client, "get_trail_status", Name=arn)
    selectors = ctx.call(client, "get_event_selectors", TrailName=arn)
    return {
        "status": {key: json_safe(status[key]) for key in STATUS_KEYS if key in status},
        "event_selectors": list(selectors.get("EventSelectors") or []),
        "advanced_event_selectors": list(selectors.get("AdvancedEventSelectors") or []),
    }


def describe_trail_states(ctx: CollectContext) -> list[dict[str, Any]]:
    """Every trail with its status and selectors (shared by the ``monitoring`` collector)."""
    trails = discover_trails(ctx)
    states = in_threads(lambda trail: trail_state(ctx, trail), trails)
    described: list[dict[str, Any]] = []
    for trail, state in zip(trails, states, strict=True):
        arn = str(trail["TrailARN"])
        described.append(
            {
                "arn": arn,
                "name": str(trail.get("Name", arn.rsplit("/", 1)[-1])),
                "home_region": str(trail["HomeRegion"]),
                "owned": arn_account(arn) == ctx.unit.account_id,
                "trail": trail,
                **state,
            }
        )
    return described


def _tags(ctx: CollectContext, trails: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Tags of the given trails, by ARN: ListTags in each home region, 20 ARNs a call."""
    batches: list[tuple[str, list[str]]] = []
    by_region: dict[str, list[str]] = {}
    for trail in trails:
        by_region.setdefault(trail["home_region"], []).append(trail["arn"])
    for region, arns in sorted(by_region.items()):
        batches.extend(
            (region, arns[start : start + TAG_BATCH]) for start in range(0, len(arns), TAG_BATCH)
        )

    def fetch(batch: tuple[str, list[str]]) -> list[dict[str, Any]]:
        region, arns = batch
        client = ctx.client("cloudtrail", region)
        return ctx.paginate(client, "list_tags", "ResourceTagList", ResourceIdList=arns)

    tags: dict[str, dict[str, str]] = {}
    for listed in in_threads(fetch, batches):
        for item in listed:
            tags[str(item["ResourceId"])] = {
                str(tag["Key"]): str(tag.get("Value", "")) for tag in item.get("TagsList") or []
            }
    return tags


def _bucket(ctx: CollectContext, name: str) -> dict[str, Any]:
    """What 3.3 and 3.6 need to know about a trail's bucket."""
    s3 = ctx.client("s3")
    acl = ctx.absent_on(s3, "get_bucket_acl", ("NoSuchBucket",), Bucket=name)
    if acl is None:
        return {"exists": False}
    policy = ctx.absent_on(s3, "get_bucket_policy", ("NoSuchBucketPolicy",), Bucket=name)
    block = ctx.absent_on(
        s3, "get_public_access_block", ("NoSuchPublicAccessBlockConfiguration",), Bucket=name
    )
    logging = ctx.call(s3, "get_bucket_logging", Bucket=name)
    return {
        "exists": True,
        "acl_grants": list(acl.get("Grants") or []),
        "policy": json.loads(policy["Policy"]) if policy and policy.get("Policy") else None,
        "public_access_block": (block or {}).get("PublicAccessBlockConfiguration"),
        "logging": logging.get("LoggingEnabled"),
    }


def _bucket_summary(bucket: Mapping[str, Any] | None) -> dict[str, Any]:
    if not bucket:
        return {}
    if not bucket.get("exists"):
        return {"exists": False}
    return {
        "access_logging": bucket.get("logging") or None,
        "public_access_block": bucket.get("public_access_block"),
        "has_policy": bucket.get("policy") is not None,
    }


def _trail_ref(
    unit: Unit, trail: Mapping[str, Any], bucket: Mapping[str, Any] | None
) -> ResourceRef:
    described = trail["trail"]
    status = trail["status"]
    return ResourceRef(
        arn=trail["arn"],
        resource_type="AWS::CloudTrail::Trail",
        region=trail["home_region"],
        name=trail["name"],
        tags=trail.get("tags") or {},
        configuration={
            "trail": {key: described[key] for key in TRAIL_KEYS if key in described},
            "status": {
                key: status[key]
                for key in ("IsLogging", "LatestCloudWatchLogsDeliveryTime", "LatestDeliveryTime")
                if key in status
            },
            "event_selectors": trail["event_selectors"],
            "advanced_event_selectors": trail["advanced_event_selectors"],
            "s3_bucket": _bucket_summary(bucket),
        },
    )


def account_ref(unit: Unit, key: str, configuration: Mapping[str, Any]) -> ResourceRef:
    """The account pseudo-resource, its snapshot namespaced under ``key``."""
    return ResourceRef(
        arn=unit.account_arn,
        resource_type="AWS::::Account",
        region=GLOBAL,
        name=unit.account_id,
        configuration={key: dict(configuration)},
    )


@collector("cloudtrail", scope=GLOBAL)
def collect_cloudtrail(ctx: CollectContext) -> Collected:
    collected_at = now_iso()
    trails = describe_trail_states(ctx)
    owned = [trail for trail in trails if trail["owned"]]
    tags = _tags(ctx, owned)
    for trail in owned:
        trail["tags"] = tags.get(trail["arn"], {})
    names = sorted(
        {str(t["trail"]["S3BucketName"]) for t in owned if t["trail"].get("S3BucketName")}
    )
    buckets = dict(zip(names, in_threads(lambda name: _bucket(ctx, name), names), strict=True))

    unit = ctx.unit
    refs = {
        trail["arn"]: _trail_ref(
            unit, trail, buckets.get(str(trail["trail"].get("S3BucketName", "")))
        )
        for trail in owned
    }
    resources = list(refs.values())
    # The account-level controls (3.1, 3.10, 3.11) are fixed by updating a trail the account
    # already has: its fix needs that trail's settings, so each own trail's snapshot is kept.
    resources.append(
        account_ref(
            unit,
            "cloudtrail",
            {
                "trails": [
                    {
                        "arn": trail["arn"],
                        "name": trail["name"],
                        "home_region": trail["home_region"],
                        "multi_region": bool(trail["trail"].get("IsMultiRegionTrail")),
                        "logging": bool(trail["status"].get("IsLogging")),
                        "owned": trail["owned"],
                        **(
                            {
                                "tags": refs[trail["arn"]].tags,
                                "snapshot": refs[trail["arn"]].configuration,
                            }
                            if trail["arn"] in refs
                            else {}
                        ),
                    }
                    for trail in trails
                ]
            },
        )
    )
    return Collected(
        resources=resources,
        data={
            "collected_at": collected_at,
            "account_id": unit.account_id,
            "trails": trails,
            "buckets": buckets,
        },
    )
