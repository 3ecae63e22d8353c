"""SNS: the region's topics and their access policies.

Scope REGIONAL. Calls ``list_topics`` (paginated) and, per topic, ``get_topic_attributes``
(its ``Policy`` attribute). A topic deleted between the two (``NotFound``) is left out.

``data``::

    {"topics": [{"arn": ..., "name": "alerts", "policy": {...} | None}]}
"""

from __future__ import annotations

from typing import Any

from findings.aws.base import REGIONAL, CollectContext, Collected, collector
from findings.toolbox import ResourceRef, policy_document

_GONE = ("NotFound", "NotFoundException")


@collector("sns", scope=REGIONAL)
def collect_sns(ctx: CollectContext) -> Collected:
    sns = ctx.client("sns")
    topics: list[dict[str, Any]] = []
    for item in ctx.paginate(sns, "list_topics", "Topics"):
        arn = str(item["TopicArn"])
        answer = ctx.absent_on(sns, "get_topic_attributes", _GONE, TopicArn=arn)
        if answer is None:
            continue
        attributes = answer.get("Attributes") or {}
        topics.append(
            {
                "arn": arn,
                "name": arn.rsplit(":", 1)[-1],
                "policy": policy_document(attributes.get("Policy")),
            }
        )
    resources = [
        ResourceRef(
            arn=topic["arn"],
            resource_type="AWS::SNS::Topic",
            region=ctx.unit.region,
            name=topic["name"],
            configuration={"Policy": topic["policy"]},
        )
        for topic in topics
    ]
    return Collected(resources=resources, data={"topics": topics})
