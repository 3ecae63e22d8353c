"""CloudFront: the account's distributions and their standard (legacy) logging setting.

Scope GLOBAL: CloudFront is a global service answering in the partition's home region.
``list_distributions`` (paginated) lists them, but its summaries leave out the logging
configuration, so ``get_distribution_config`` is called once per distribution. No control maps
the check yet, so a scan does not run this collector until a benchmark does.

Not read: CloudFront's newer "standard logging (v2)", configured through CloudWatch Logs
deliveries rather than the distribution's own configuration. A distribution logging only that
way shows ``Logging.Enabled`` false here; the check's summary says which setting it read.

``data``: ``{"distributions": [{"Id", "ARN", "DomainName", "Enabled", "Aliases",
"Logging": {"Enabled", "Bucket", "Prefix", "IncludeCookies"}}]}``.
"""

from __future__ import annotations

from typing import Any

from findings.aws.base import CollectContext, Collected, collector
from findings.toolbox import GLOBAL, ResourceRef, json_safe


@collector("cloudfront", scope=GLOBAL)
def collect_cloudfront(ctx: CollectContext) -> Collected:
    cloudfront = ctx.client("cloudfront")
    distributions: list[dict[str, Any]] = []
    for summary in ctx.paginate(cloudfront, "list_distributions", "DistributionList.Items"):
        config = ctx.call(cloudfront, "get_distribution_config", Id=summary["Id"])
        settings = config.get("DistributionConfig", {})
        distributions.append(
            {
                "Id": summary["Id"],
                "ARN": summary["ARN"],
                "DomainName": summary.get("DomainName"),
                "Enabled": bool(settings.get("Enabled", summary.get("Enabled"))),
                "Comment": settings.get("Comment", ""),
                "Aliases": list((settings.get("Aliases") or {}).get("Items") or []),
                "Logging": json_safe(settings.get("Logging") or {}),
            }
        )
    resources = [
        ResourceRef(
            arn=item["ARN"],
            resource_type="AWS::CloudFront::Distribution",
            region=GLOBAL,
            name=(item["Aliases"] or [item.get("DomainName") or item["Id"]])[0],
            configuration=item,
        )
        for item in distributions
    ]
    return Collected(resources=resources, data={"distributions": distributions})
