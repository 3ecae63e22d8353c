"""CIS AWS Foundations v2.0.0 1.20: IAM Access Analyzer is enabled in every region.

Evaluated per region on the ``accessanalyzer`` collector's data: the region passes when it has an
external access analyzer (type ``ACCOUNT`` or ``ORGANIZATION``) whose status is ``ACTIVE``.
Unused access analyzers (``ACCOUNT_UNUSED_ACCESS``, ``ORGANIZATION_UNUSED_ACCESS``) do not
analyze external access, so they do not count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check

EXTERNAL_ACCESS_TYPES = frozenset({"ACCOUNT", "ORGANIZATION"})
ACTIVE = "ACTIVE"
#: Must match the collector's pseudo-resource ARN service.
ARN_SERVICE = "access-analyzer"


@check(
    "accessanalyzer_enabled",
    controls=["1.20"],
    service="accessanalyzer",
    resource_type="AWS::AccessAnalyzer::RegionalSettings",
    title="IAM Access Analyzer is enabled in the region",
)
def accessanalyzer_enabled(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    region = data.get("region") or unit.region
    analyzers = list(data.get("analyzers", []))
    active = [
        a for a in analyzers if a.get("type") in EXTERNAL_ACCESS_TYPES and a.get("status") == ACTIVE
    ]
    details = {"analyzers": analyzers}
    if active:
        names = ", ".join(f"{a['name']} ({a['type']})" for a in active)
        word = "analyzer" if len(active) == 1 else "analyzers"
        summary = f"Access Analyzer is active in {region}: {word} {names}."
    elif analyzers:
        others = ", ".join(f"{a['name']} ({a['type']}, {a['status']})" for a in analyzers)
        summary = (
            f"No active account or organization analyzer in {region}; the analyzers there are "
            f"{others}."
        )
    else:
        summary = f"No Access Analyzer analyzer exists in {region}."
    yield spec.result(unit.regional_settings_arn(ARN_SERVICE), bool(active), summary, details)
