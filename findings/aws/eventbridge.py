"""EventBridge: the region's event buses and their resource policies.

Scope REGIONAL. Calls ``list_event_buses`` (boto3 has no paginator for it: the collector follows
``NextToken`` itself) and, per bus, ``describe_event_bus``, which returns the bus's ``Policy``
(AWS documents the policy on DescribeEventBus; the listing is not relied on for it). A
bus deleted between the two (``ResourceNotFoundException``) is left out.

``data``::

    {"buses": [{"arn": ..., "name": "default", "policy": {...} | None}]}
"""

from __future__ import annotations

from typing import Any

from findings.aws.base import REGIONAL, CollectContext, Collected, collector
from findings.toolbox import ResourceRef, policy_document

_GONE = ("ResourceNotFoundException",)


@collector("events", scope=REGIONAL)
def collect_eventbridge(ctx: CollectContext) -> Collected:
    events = ctx.client("events")
    listed: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = ctx.call(events, "list_event_buses", **({"NextToken": token} if token else {}))
        listed.extend(page.get("EventBuses", []))
        token = page.get("NextToken")
        if not token:
            break
    buses = []
    for item in listed:
        bus = ctx.absent_on(events, "describe_event_bus", _GONE, Name=str(item["Name"]))
        if bus is None:  # deleted since the listing
            continue
        buses.append(
            {
                "arn": str(bus.get("Arn") or item["Arn"]),
                "name": str(item["Name"]),
                "policy": policy_document(bus.get("Policy")),
            }
        )
    resources = [
        ResourceRef(
            arn=bus["arn"],
            resource_type="AWS::Events::EventBus",
            region=ctx.unit.region,
            name=bus["name"],
            configuration={"Policy": bus["policy"]},
        )
        for bus in buses
    ]
    return Collected(resources=resources, data={"buses": buses})
