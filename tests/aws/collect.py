"""Run one collector against the moto server and its checks on what it gathered."""

from __future__ import annotations

import json

import boto3

from findings.aws import COLLECTORS, CollectContext, Collected
from findings.checks.base import Result, Unit, checks_for
from tests.checks.evidence import checked

ACCOUNT = "123456789012"
REGION = "us-east-1"


def context(endpoint: str, region: str = REGION) -> CollectContext:
    return CollectContext(
        session=boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing"),
        unit=Unit(ACCOUNT, region),
        regions=[region],
        endpoint_url=endpoint,
    )


def collect(
    endpoint: str, service: str, region: str = REGION, ctx: CollectContext | None = None
) -> tuple[Collected, dict[tuple[str, str], Result], CollectContext]:
    """The collector's output (JSON-safe, as stored), and its checks' verdicts by
    (check, resource ARN); every verdict is about a resource the collector reported."""
    ctx = ctx or context(endpoint, region)
    collected = COLLECTORS[service].function(ctx)
    json.dumps(collected.data)
    json.dumps([ref.configuration for ref in collected.resources])
    arns = {ref.arn for ref in collected.resources}
    results: dict[tuple[str, str], Result] = {}
    for spec in checks_for(service):
        for result in checked(spec.run(collected.data, ctx.unit)):
            assert result.resource_arn in arns, result
            results[(result.check_id, result.resource_arn)] = result
    return collected, results, ctx


def public_policy(resource: str, action: str, sid: str = "Anyone", **extra: object) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": sid,
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": action,
                    "Resource": resource,
                    **extra,
                }
            ],
        }
    )


ORG_ONLY = {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
