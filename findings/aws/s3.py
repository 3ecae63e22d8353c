"""The S3 collector: every bucket of the account, and account-level Block Public Access.

Scope GLOBAL: buckets are listed account-wide, so the collector runs once per account (in the
global unit). Calls:

* ``s3:ListBuckets`` (paginated, ``MaxBuckets`` set). With a parameter set, AWS returns each
  bucket's ``BucketRegion``; ``GetBucketLocation`` is called only for a bucket listed without
  one (moto 5.2.5 never returns it, so against moto it is called once per bucket).
* per bucket, in parallel, against the bucket's own region: ``GetBucketPolicy``,
  ``GetBucketVersioning``, ``GetPublicAccessBlock``, ``GetBucketLogging``,
  ``GetBucketEncryption``, ``GetBucketTagging``. The "not configured" answers
  (``NoSuchBucketPolicy``, ``NoSuchPublicAccessBlockConfiguration``,
  ``ServerSideEncryptionConfigurationNotFoundError``, ``NoSuchTagSet``) mean "none".
* ``s3control:GetPublicAccessBlock`` for the account (``NoSuchPublicAccessBlockConfiguration``
  means none), reported on the account pseudo-resource.

A bucket deleted between the listing and its reads (``NoSuchBucket``) is left out: it no longer
exists, so there is nothing to judge. Every other error fails the unit.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from findings.aws.base import CollectContext, Collected, CollectionError, collector
from findings.toolbox import GLOBAL, ResourceRef, bucket_arn, home_region, json_safe

#: AWS's largest page; with it (or any parameter) ListBuckets returns BucketRegion.
MAX_BUCKETS = 10000
#: Threads reading buckets; each makes its calls in turn (botocore pools 20 connections).
BUCKET_WORKERS = 10

_NO_POLICY = ("NoSuchBucketPolicy",)
_NO_PAB = ("NoSuchPublicAccessBlockConfiguration",)
_NO_ENCRYPTION = ("ServerSideEncryptionConfigurationNotFoundError",)
_NO_TAGS = ("NoSuchTagSet",)


def bucket_region(location_constraint: str | None, partition: str = "aws") -> str:
    """GetBucketLocation's answer as a region: none (or "") is the partition's first region
    (us-east-1 in ``aws``), "EU" eu-west-1."""
    if not location_constraint:
        return home_region(partition)
    if location_constraint == "EU":
        return "eu-west-1"
    return location_constraint


class _EndpointHost:
    """``before-sign`` hook for s3control against a custom endpoint (moto).

    S3 Control's endpoint rules always put the account id in front of the host
    (``{AccountId}.s3-control...``); with ``endpoint_url`` set that gives
    ``123456789012.127.0.0.1:PORT``, which does not resolve, and no client setting turns it off
    (see ``simulation.account._StripAccountHostLabel``). The label is dropped before signing.
    Registered only when the context has an ``endpoint_url``: real AWS is never touched.
    """

    def __init__(self, endpoint_url: str) -> None:
        self.netloc = urlsplit(endpoint_url).netloc

    def __call__(self, request: Any, **kwargs: Any) -> None:
        parts = urlsplit(request.url)
        if parts.netloc != self.netloc and parts.netloc.endswith("." + self.netloc):
            request.url = urlunsplit(parts._replace(netloc=self.netloc))


def _s3control(ctx: CollectContext) -> Any:
    client = ctx.client("s3control")
    if ctx.endpoint_url:
        client.meta.events.register(
            "before-sign.s3-control",
            _EndpointHost(ctx.endpoint_url),
            unique_id="cspm-s3control-endpoint-host",
        )
    return client


def _read_bucket(ctx: CollectContext, listed: dict[str, Any]) -> dict[str, Any] | None:
    """Everything the checks need about one bucket; None if it was deleted meanwhile."""
    name = str(listed["Name"])
    try:
        region = listed.get("BucketRegion")
        if not region:
            location = ctx.call(ctx.client("s3"), "get_bucket_location", Bucket=name)
            region = bucket_region(location.get("LocationConstraint"), ctx.unit.partition)
        s3 = ctx.client("s3", region=str(region))
        policy = ctx.absent_on(s3, "get_bucket_policy", _NO_POLICY, Bucket=name)
        versioning = ctx.call(s3, "get_bucket_versioning", Bucket=name)
        pab = ctx.absent_on(s3, "get_public_access_block", _NO_PAB, Bucket=name)
        logging = ctx.call(s3, "get_bucket_logging", Bucket=name)
        encryption = ctx.absent_on(s3, "get_bucket_encryption", _NO_ENCRYPTION, Bucket=name)
        tagging = ctx.absent_on(s3, "get_bucket_tagging", _NO_TAGS, Bucket=name)
    except CollectionError as exc:
        if exc.code == "NoSuchBucket":
            return None
        raise
    return {
        "name": name,
        "region": str(region),
        "creation_date": json_safe(listed.get("CreationDate")),
        "policy": json.loads(policy["Policy"]) if policy else None,
        "versioning": {
            key: versioning[key] for key in ("Status", "MFADelete") if key in versioning
        },
        "public_access_block": (
            dict(pab["PublicAccessBlockConfiguration"]) if pab is not None else None
        ),
        "logging": json_safe(logging.get("LoggingEnabled")),
        "encryption": (
            json_safe(encryption["ServerSideEncryptionConfiguration"])
            if encryption is not None
            else None
        ),
        "tags": {str(tag["Key"]): str(tag["Value"]) for tag in (tagging or {}).get("TagSet", [])},
    }


@collector("s3", scope=GLOBAL)
def collect_s3(ctx: CollectContext) -> Collected:
    unit = ctx.unit
    listed = ctx.paginate(ctx.client("s3"), "list_buckets", "Buckets", MaxBuckets=MAX_BUCKETS)
    with ThreadPoolExecutor(max_workers=BUCKET_WORKERS) as pool:
        read = list(pool.map(lambda item: _read_bucket(ctx, item), listed))
    buckets = [bucket for bucket in read if bucket is not None]

    account = ctx.absent_on(
        _s3control(ctx), "get_public_access_block", _NO_PAB, AccountId=unit.account_id
    )
    account_pab = dict(account["PublicAccessBlockConfiguration"]) if account else None

    resources = [
        ResourceRef(
            arn=bucket_arn(unit, bucket["name"]),
            resource_type="AWS::S3::Bucket",
            region=bucket["region"],
            name=bucket["name"],
            tags=bucket["tags"],
            configuration={key: value for key, value in bucket.items() if key != "tags"},
        )
        for bucket in buckets
    ]
    resources.append(
        ResourceRef(
            arn=unit.account_arn,
            resource_type="AWS::::Account",
            region=GLOBAL,
            name=unit.account_id,
            configuration={"s3_public_access_block": account_pab},
        )
    )
    return Collected(
        resources=resources,
        data={"buckets": buckets, "account_public_access_block": account_pab},
    )
