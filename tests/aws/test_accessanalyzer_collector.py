"""The ``accessanalyzer`` collector against the simulated account, then the 1.20 check.

moto differs from AWS: moto 5.2.5 has no Access Analyzer backend (its server answers HTTP 500),
so the simulated account's front door (``simulation.front``) answers Access Analyzer
in AWS's shapes; boto3 makes real HTTP calls to it, as the scanner does to AWS.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from findings.aws.accessanalyzer import collect_accessanalyzer
from findings.aws.base import CollectContext, CollectionError
from findings.checks.base import Unit, checks_for
from simulation.account import client

ACCOUNT = "123456789012"


def context(endpoint: str, region: str) -> CollectContext:
    return CollectContext(
        session=boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing"),
        unit=Unit(ACCOUNT, region),
        regions=[region],
        endpoint_url=endpoint,
    )


def evaluate(endpoint: str, region: str) -> tuple[Any, Any]:
    ctx = context(endpoint, region)
    collected = collect_accessanalyzer(ctx)
    results = [
        r for spec in checks_for("accessanalyzer") for r in spec.run(collected.data, ctx.unit)
    ]
    assert {r.resource_arn for r in results} <= {ref.arn for ref in collected.resources}
    [result] = results
    assert ctx.api_calls == 1
    return collected, result


def test_a_region_without_analyzer_fails(aws):
    collected, result = evaluate(aws, "eu-west-1")
    [settings] = collected.resources
    assert settings.arn == f"arn:aws:access-analyzer:eu-west-1:{ACCOUNT}:regional-settings"
    assert settings.resource_type == "AWS::AccessAnalyzer::RegionalSettings"
    assert (result.resource_arn, result.status) == (settings.arn, "fail")


def test_an_active_account_analyzer_passes_its_region_only(aws):
    client(aws, "accessanalyzer", "eu-west-1").create_analyzer(
        analyzerName="external", type="ACCOUNT"
    )
    collected, result = evaluate(aws, "eu-west-1")
    assert result.status == "pass"
    assert result.summary == "Access Analyzer is active in eu-west-1: analyzer external (ACCOUNT)."
    [analyzer] = collected.data["analyzers"]
    assert (analyzer["name"], analyzer["type"], analyzer["status"]) == (
        "external",
        "ACCOUNT",
        "ACTIVE",
    )
    _, elsewhere = evaluate(aws, "us-east-1")
    assert elsewhere.status == "fail"


def test_an_unused_access_analyzer_alone_does_not_count(aws):
    client(aws, "accessanalyzer", "eu-west-1").create_analyzer(
        analyzerName="unused", type="ACCOUNT_UNUSED_ACCESS"
    )
    _, result = evaluate(aws, "eu-west-1")
    assert result.status == "fail"


def test_a_denied_call_fails_the_unit(aws_front):
    aws_front.denied.add("eu-west-1")
    with pytest.raises(CollectionError) as raised:
        collect_accessanalyzer(context(aws_front.endpoint_url, "eu-west-1"))
    assert raised.value.code == "AccessDeniedException"
    assert raised.value.operation == "list_analyzers"
