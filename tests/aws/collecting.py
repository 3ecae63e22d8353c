"""Run one collector against the simulated account and its checks on what it collected."""

from __future__ import annotations

import json
from dataclasses import dataclass

import boto3

from findings.aws import COLLECTORS
from findings.aws.base import CollectContext, Collected
from findings.checks.base import GLOBAL, Result, Unit, checks_for

ACCOUNT = "123456789012"


@dataclass
class Run:
    ctx: CollectContext
    collected: Collected
    results: dict[tuple[str, str], Result]  # (check id, resource ARN) -> verdict

    def statuses(self, check_id: str) -> dict[str, str]:
        """ARN -> status of one check's verdicts."""
        return {arn: r.status for (cid, arn), r in self.results.items() if cid == check_id}


def collect(endpoint: str, service: str, region: str = GLOBAL, account: str = ACCOUNT) -> Run:
    """Collect ``service`` for the unit (``region`` or the global unit), as a scan would, and
    evaluate every check reading it, controls or not (the checks are what is tested here)."""
    unit = Unit(account, region)
    ctx = CollectContext(
        session=boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing"),
        unit=unit,
        regions=["us-east-1", "eu-west-1"],
        endpoint_url=endpoint,
    )
    spec = COLLECTORS[service]
    assert spec.scope == ("global" if region == GLOBAL else "regional")
    collected = spec.function(ctx)
    arns = {ref.arn for ref in collected.resources}
    assert len(arns) == len(collected.resources)
    json.dumps([ref.configuration for ref in collected.resources])
    json.dumps(collected.data)
    results: dict[tuple[str, str], Result] = {}
    for check in checks_for(service):
        for result in check.run(collected.data, unit):
            assert result.resource_arn in arns, result
            results[(result.check_id, result.resource_arn)] = result
    return Run(ctx, collected, results)
