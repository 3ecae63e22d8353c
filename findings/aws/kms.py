"""KMS: the region's keys, and the rotation status of the customer managed symmetric ones.

Scope REGIONAL (CIS 3.8). Calls:

* ``list_keys`` and ``list_aliases`` (both paginated; aliases give keys a readable name);
* per key, ``describe_key``: ListKeys returns only ids, so the key manager, spec, state and
  origin need one call per key (in a small thread pool);
* per eligible key, ``get_key_rotation_status``: only for keys that are customer managed
  (``KeyManager`` CUSTOMER), enabled (``KeyState`` Enabled), symmetric (``KeySpec``
  SYMMETRIC_DEFAULT) and whose key material KMS generated (``Origin`` AWS_KMS). Automatic
  rotation does not exist for the others: asymmetric and HMAC keys, imported key material
  (EXTERNAL), custom key stores; AWS managed keys rotate on their own.

Every customer managed key is a resource (``AWS::KMS::Key``); AWS managed keys are not (the
account cannot change them). Key tags are not read (that would be one more call per key).

``data``::

    {
        "keys": [
            {
                "arn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-...",
                "metadata": {...},              # DescribeKey KeyMetadata, dates as ISO strings
                "aliases": ["alias/app"],
                "eligible": True,               # customer managed, enabled, symmetric, AWS_KMS
                "rotation": {"KeyRotationEnabled": True, ...} | None,
            },
        ],
    }
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from findings.aws.base import REGIONAL, CollectContext, Collected, collector
from findings.toolbox import ResourceRef, json_safe, policy_document

WORKERS = 8
METADATA_KEYS = (
    "KeyId",
    "Arn",
    "Description",
    "KeyManager",
    "KeySpec",
    "KeyUsage",
    "KeyState",
    "Enabled",
    "Origin",
    "MultiRegion",
    "CreationDate",
)
_GONE = ("NotFoundException",)
ROTATION_KEYS = ("KeyRotationEnabled", "RotationPeriodInDays", "NextRotationDate")


def eligible(metadata: Mapping[str, Any]) -> bool:
    """Whether CIS 3.8 applies: customer managed, enabled, symmetric, KMS-generated material."""
    return (
        metadata.get("KeyManager") == "CUSTOMER"
        and metadata.get("KeyState") == "Enabled"
        and metadata.get("KeySpec", metadata.get("CustomerMasterKeySpec")) == "SYMMETRIC_DEFAULT"
        and metadata.get("Origin", "AWS_KMS") == "AWS_KMS"
    )


@collector("kms", scope=REGIONAL)
def collect_kms(ctx: CollectContext) -> Collected:
    kms = ctx.client("kms")
    listed = ctx.paginate(kms, "list_keys", "Keys")
    aliases: dict[str, list[str]] = {}
    for alias in ctx.paginate(kms, "list_aliases", "Aliases"):
        if alias.get("TargetKeyId"):
            aliases.setdefault(str(alias["TargetKeyId"]), []).append(str(alias["AliasName"]))

    def inspect(key_id: str) -> dict[str, Any]:
        metadata = ctx.call(kms, "describe_key", KeyId=key_id)["KeyMetadata"]
        plain = {k: json_safe(metadata[k]) for k in METADATA_KEYS if k in metadata}
        rotation = None
        if eligible(metadata):
            status = ctx.call(kms, "get_key_rotation_status", KeyId=key_id)
            rotation = {k: json_safe(status[k]) for k in ROTATION_KEYS if k in status}
        return {
            "arn": str(metadata["Arn"]),
            "metadata": plain,
            "aliases": sorted(aliases.get(key_id, [])),
            "eligible": eligible(metadata),
            "rotation": rotation,
        }

    ids = [str(item["KeyId"]) for item in listed]
    keys: list[dict[str, Any]] = []
    if ids:
        with ThreadPoolExecutor(max_workers=min(WORKERS, len(ids))) as pool:
            keys = list(pool.map(inspect, ids))

    resources = [
        ResourceRef(
            arn=key["arn"],
            resource_type="AWS::KMS::Key",
            region=ctx.unit.region,
            name=(key["aliases"] or [key["metadata"].get("KeyId", "")])[0],
            configuration={
                **{k: key["metadata"][k] for k in METADATA_KEYS if k in key["metadata"]},
                "Aliases": key["aliases"],
                "Rotation": key["rotation"],
            },
        )
        for key in keys
        if key["metadata"].get("KeyManager") == "CUSTOMER"
    ]
    return Collected(resources=resources, data={"keys": keys})


@collector("kms_policy", scope=REGIONAL)
def collect_kms_policies(ctx: CollectContext) -> Collected:
    """The key policy of every customer managed key (for "KMS keys are not public").

    A collector of its own, not part of ``kms``: a scan runs it only once a benchmark maps a
    check on it, so CIS v2.0.0 scans make no extra calls. Calls ``list_keys``, ``list_aliases``
    (both paginated), ``describe_key`` per key (ListKeys gives ids only; AWS managed keys are
    left out, their policies are AWS's) and ``get_key_policy`` (``PolicyName`` ``default``, the
    only name KMS has) per customer managed key. A key deleted meanwhile (``NotFoundException``)
    is left out.
    """
    kms = ctx.client("kms")
    listed = ctx.paginate(kms, "list_keys", "Keys")
    aliases: dict[str, list[str]] = {}
    for alias in ctx.paginate(kms, "list_aliases", "Aliases"):
        if alias.get("TargetKeyId"):
            aliases.setdefault(str(alias["TargetKeyId"]), []).append(str(alias["AliasName"]))

    def inspect(key_id: str) -> dict[str, Any] | None:
        described = ctx.absent_on(kms, "describe_key", _GONE, KeyId=key_id)
        if described is None:
            return None
        metadata = described["KeyMetadata"]
        if metadata.get("KeyManager") != "CUSTOMER":
            return None
        answer = ctx.absent_on(kms, "get_key_policy", _GONE, KeyId=key_id, PolicyName="default")
        if answer is None:
            return None
        return {
            "arn": str(metadata["Arn"]),
            "metadata": {k: json_safe(metadata[k]) for k in METADATA_KEYS if k in metadata},
            "aliases": sorted(aliases.get(key_id, [])),
            "policy": policy_document(answer.get("Policy")),
        }

    ids = [str(item["KeyId"]) for item in listed]
    keys: list[dict[str, Any]] = []
    if ids:
        with ThreadPoolExecutor(max_workers=min(WORKERS, len(ids))) as pool:
            keys = [key for key in pool.map(inspect, ids) if key is not None]
    resources = [
        ResourceRef(
            arn=key["arn"],
            resource_type="AWS::KMS::Key",
            region=ctx.unit.region,
            name=(key["aliases"] or [key["metadata"].get("KeyId", "")])[0],
            configuration={
                **{k: key["metadata"][k] for k in METADATA_KEYS if k in key["metadata"]},
                "Aliases": key["aliases"],
                "Policy": key["policy"],
            },
        )
        for key in keys
    ]
    return Collected(resources=resources, data={"keys": keys})
