"""SQS: the region's queues and their access policies.

Scope REGIONAL. Calls ``list_queues`` (paginated, ``MaxResults`` set) and, per queue,
``get_queue_attributes`` for ``QueueArn`` and ``Policy`` only. A queue deleted between the two
(``AWS.SimpleQueueService.NonExistentQueue``, ``QueueDoesNotExist``) is left out.

``data``::

    {"queues": [{"arn": ..., "name": "orders", "url": ..., "policy": {...} | None}]}
"""

from __future__ import annotations

from typing import Any

from findings.aws.base import REGIONAL, CollectContext, Collected, collector
from findings.toolbox import ResourceRef, policy_document

_GONE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
MAX_RESULTS = 1000


@collector("sqs", scope=REGIONAL)
def collect_sqs(ctx: CollectContext) -> Collected:
    sqs = ctx.client("sqs")
    queues: list[dict[str, Any]] = []
    # With MaxResults set AWS pages (NextToken); without, it stops at 1,000 queues.
    for url in ctx.paginate(sqs, "list_queues", "QueueUrls", MaxResults=MAX_RESULTS):
        answer = ctx.absent_on(
            sqs, "get_queue_attributes", _GONE, QueueUrl=url, AttributeNames=["QueueArn", "Policy"]
        )
        if answer is None:
            continue
        attributes = answer.get("Attributes") or {}
        arn = str(attributes["QueueArn"])
        queues.append(
            {
                "arn": arn,
                "name": arn.rsplit(":", 1)[-1],
                "url": str(url),
                "policy": policy_document(attributes.get("Policy")),
            }
        )
    resources = [
        ResourceRef(
            arn=queue["arn"],
            resource_type="AWS::SQS::Queue",
            region=ctx.unit.region,
            name=queue["name"],
            configuration={"Policy": queue["policy"]},
        )
        for queue in queues
    ]
    return Collected(resources=resources, data={"queues": queues})
