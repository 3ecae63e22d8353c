"""IAM Access Analyzer: the analyzers of one region.

Scope REGIONAL: an analyzer covers the region it is created in, so CIS 1.20 ("enabled for all
regions") is evaluated per region on the ``AWS::AccessAnalyzer::RegionalSettings``
pseudo-resource. One paginated call: ``list_analyzers`` (every type; the check decides which
count).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from findings.aws.base import REGIONAL, CollectContext, Collected, collector
from findings.toolbox import ResourceRef, json_safe

#: The service name in Access Analyzer ARNs (arn:aws:access-analyzer:region:account:analyzer/x).
ARN_SERVICE = "access-analyzer"


def _analyzer(item: Mapping[str, Any]) -> dict[str, Any]:
    analyzer = {
        "name": str(item["name"]),
        "arn": str(item["arn"]),
        "type": str(item["type"]),
        "status": str(item["status"]),
        "created_at": json_safe(item.get("createdAt")),
    }
    if item.get("statusReason"):
        analyzer["status_reason"] = str(item["statusReason"].get("code", ""))
    return analyzer


@collector("accessanalyzer", scope=REGIONAL)
def collect_accessanalyzer(ctx: CollectContext) -> Collected:
    client = ctx.client("accessanalyzer")
    analyzers = [_analyzer(item) for item in ctx.paginate(client, "list_analyzers", "analyzers")]
    settings = ResourceRef(
        arn=ctx.unit.regional_settings_arn(ARN_SERVICE),
        resource_type="AWS::AccessAnalyzer::RegionalSettings",
        region=ctx.region,
        name=f"Access Analyzer settings ({ctx.region})",
        configuration={"analyzers": analyzers},
    )
    return Collected(resources=[settings], data={"region": ctx.region, "analyzers": analyzers})
