"""ELBv2 Application Load Balancers write access logs (later CIS versions; no control maps it
yet).

Read from the ``elbv2`` collector. A load balancer passes when its attribute
``access_logs.s3.enabled`` is ``true``; the bucket and prefix it writes to are the evidence.
Access logs record every request (client, path, status, TLS details), which is what an
investigation of an attack through the load balancer needs; nothing else records them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check

ENABLED = "access_logs.s3.enabled"
BUCKET = "access_logs.s3.bucket"
PREFIX = "access_logs.s3.prefix"


@check(
    "elbv2_load_balancer_access_logging",
    controls=(),
    service="elbv2",
    resource_type="AWS::ElasticLoadBalancingV2::LoadBalancer",
    title="Application Load Balancer access logging is enabled",
)
def elbv2_load_balancer_access_logging(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for lb in data.get("load_balancers", []):
        attributes = dict(lb.get("Attributes") or {})
        enabled = str(attributes.get(ENABLED, "")).lower() == "true"
        bucket = attributes.get(BUCKET) or ""
        prefix = attributes.get(PREFIX) or ""
        label = f"Load balancer {lb.get('LoadBalancerName')}"
        if enabled:
            where = f"s3://{bucket}/{prefix}".rstrip("/") if bucket else "its S3 bucket"
            summary = f"{label} writes access logs to {where}."
        elif ENABLED not in attributes:
            summary = f"{label} reports no {ENABLED} attribute, so its access logging is unknown."
        else:
            summary = f"{label} has access logging disabled ({ENABLED} = false)."
        yield spec.result(
            lb["LoadBalancerArn"],
            enabled,
            summary,
            {
                ENABLED: attributes.get(ENABLED),
                BUCKET: bucket or None,
                PREFIX: prefix or None,
                "Scheme": lb.get("Scheme"),
            },
        )
