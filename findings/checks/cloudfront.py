"""CloudFront distributions write standard access logs (later CIS versions; no control maps it
yet).

Read from the ``cloudfront`` collector (global unit). A distribution passes when its
configuration's ``Logging.Enabled`` is true (the legacy standard logging, delivered to an S3
bucket). Standard logging v2 (CloudWatch Logs deliveries) is not read by the collector: a
distribution using only that fails here, and the summary names the setting read so the reader
can tell.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check


@check(
    "cloudfront_distribution_logging_enabled",
    controls=(),
    service="cloudfront",
    resource_type="AWS::CloudFront::Distribution",
    title="CloudFront distribution has standard logging enabled",
)
def cloudfront_distribution_logging_enabled(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for distribution in data.get("distributions", []):
        logging = dict(distribution.get("Logging") or {})
        enabled = bool(logging.get("Enabled"))
        label = f"Distribution {distribution.get('Id')}" + (
            f" ({distribution['DomainName']})" if distribution.get("DomainName") else ""
        )
        bucket = logging.get("Bucket") or ""
        if enabled:
            summary = f"{label} writes standard logs to {bucket or 'its S3 bucket'}" + (
                f" under '{logging['Prefix']}'." if logging.get("Prefix") else "."
            )
        elif not logging:
            summary = f"{label} has no logging configuration (standard logging is off)."
        else:
            summary = f"{label} has standard logging disabled (Logging.Enabled is false)."
        yield spec.result(distribution["ARN"], enabled, summary, {"Logging": logging or None})
