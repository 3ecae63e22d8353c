"""CIS AWS Foundations v2.0.0 check 4.16 (Security Hub enabled), one region at a time.

Read from the ``securityhub`` collector: ``hub`` is the DescribeHub answer, or None when AWS
said the region is not subscribed. The result is attached to the region's settings
pseudo-resource.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check


@check(
    "securityhub_hub_enabled",
    controls=["4.16"],
    service="securityhub",
    resource_type="AWS::SecurityHub::RegionalSettings",
    title="Security Hub is enabled in the region",
)
def securityhub_hub_enabled(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    region = data.get("region") or unit.region
    hub = data.get("hub")
    arn = unit.regional_settings_arn("securityhub")
    if hub:
        since = hub.get("SubscribedAt")
        yield spec.result(
            arn,
            True,
            f"Security Hub is enabled in {region}" + (f" (since {since})." if since else "."),
            {"hub": dict(hub)},
        )
    else:
        yield spec.result(
            arn,
            False,
            f"Security Hub is not enabled in {region}: DescribeHub reports no subscription.",
            {"hub": None},
        )
