"""ELBv2: the region's Application Load Balancers and their access-log attributes.

Scope REGIONAL. ``describe_load_balancers`` (paginated) lists them; the access-log setting is
an attribute, which only ``describe_load_balancer_attributes`` answers, one call per load
balancer (no list call returns it); ``describe_tags`` takes up to 20 ARNs a call.

Only Application Load Balancers are collected: a Gateway Load Balancer has no access logs, and
a Network Load Balancer writes them only for its TLS listeners, so "access logging enabled"
would not mean the same thing there. No control maps the check yet, so a scan does not run this
collector until a benchmark does.

``data``: ``{"region": ..., "load_balancers": [{"LoadBalancerArn": ..., "LoadBalancerName":
..., "Scheme": ..., "Attributes": {"access_logs.s3.enabled": "false", ...}, ...}]}``.
"""

from __future__ import annotations

from typing import Any

from findings.aws.base import REGIONAL, CollectContext, Collected, collector
from findings.toolbox import ResourceRef, json_safe

LOAD_BALANCER_KEYS = (
    "LoadBalancerArn",
    "LoadBalancerName",
    "DNSName",
    "Type",
    "Scheme",
    "VpcId",
    "State",
    "CreatedTime",
)
#: describe_tags takes at most 20 resource ARNs per call.
TAG_BATCH = 20


@collector("elbv2", scope=REGIONAL)
def collect_elbv2(ctx: CollectContext) -> Collected:
    elbv2 = ctx.client("elbv2")
    raw = [
        item
        for item in ctx.paginate(elbv2, "describe_load_balancers", "LoadBalancers")
        if item.get("Type") == "application"
    ]
    load_balancers: list[dict[str, Any]] = []
    for item in raw:
        attributes = ctx.call(
            elbv2, "describe_load_balancer_attributes", LoadBalancerArn=item["LoadBalancerArn"]
        )
        load_balancers.append(
            {
                **{k: json_safe(item[k]) for k in LOAD_BALANCER_KEYS if k in item},
                "Attributes": {
                    str(a["Key"]): str(a.get("Value", "")) for a in attributes.get("Attributes", [])
                },
            }
        )
    tags: dict[str, dict[str, str]] = {}
    arns = [lb["LoadBalancerArn"] for lb in load_balancers]
    for start in range(0, len(arns), TAG_BATCH):
        answer = ctx.call(elbv2, "describe_tags", ResourceArns=arns[start : start + TAG_BATCH])
        for description in answer.get("TagDescriptions", []):
            tags[str(description["ResourceArn"])] = {
                str(t["Key"]): str(t.get("Value", "")) for t in description.get("Tags") or []
            }
    resources = [
        ResourceRef(
            arn=lb["LoadBalancerArn"],
            resource_type="AWS::ElasticLoadBalancingV2::LoadBalancer",
            region=ctx.region,
            name=lb["LoadBalancerName"],
            tags=tags.get(lb["LoadBalancerArn"], {}),
            configuration=lb,
        )
        for lb in load_balancers
    ]
    return Collected(
        resources=resources, data={"region": ctx.region, "load_balancers": load_balancers}
    )
