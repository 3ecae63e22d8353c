"""Secrets Manager: the region's secrets and their resource policies.

Scope REGIONAL. Calls ``list_secrets`` (paginated; names, ARNs and tags, never the values) and,
per secret, ``get_resource_policy`` (no ``ResourcePolicy`` in the answer: no policy). A secret
deleted between the two (``ResourceNotFoundException``) is left out.

``data``::

    {"secrets": [{"arn": ..., "name": "db", "policy": {...} | None}]}
"""

from __future__ import annotations

from typing import Any

from findings.aws.base import REGIONAL, CollectContext, Collected, collector
from findings.toolbox import ResourceRef, policy_document

_GONE = ("ResourceNotFoundException",)


@collector("secretsmanager", scope=REGIONAL)
def collect_secretsmanager(ctx: CollectContext) -> Collected:
    sm = ctx.client("secretsmanager")
    secrets: list[dict[str, Any]] = []
    tags: dict[str, dict[str, str]] = {}
    for item in ctx.paginate(sm, "list_secrets", "SecretList"):
        arn = str(item["ARN"])
        answer = ctx.absent_on(sm, "get_resource_policy", _GONE, SecretId=arn)
        if answer is None:
            continue
        tags[arn] = {str(t["Key"]): str(t["Value"]) for t in item.get("Tags") or []}
        secrets.append(
            {
                "arn": arn,
                "name": str(item["Name"]),
                "policy": policy_document(answer.get("ResourcePolicy")),
            }
        )
    resources = [
        ResourceRef(
            arn=secret["arn"],
            resource_type="AWS::SecretsManager::Secret",
            region=ctx.unit.region,
            name=secret["name"],
            tags=tags[secret["arn"]],
            configuration={"Policy": secret["policy"]},
        )
        for secret in secrets
    ]
    return Collected(resources=resources, data={"secrets": secrets})
