"""The ``accessanalyzer`` collector, then the 1.20 check on what it collected.

moto differs from AWS: moto 5.2.5 has no Access Analyzer backend at all; its server answers
every ``access-analyzer`` request with HTTP 500 ("Unable to find appropriate backend"). So the
AWS side is played by botocore's Stubber on the collector's own client: it checks each request
against the service model and answers with responses shaped like AWS's, including a second page
to exercise pagination. The scan context is otherwise the real one (``CollectContext`` with
its retrying, call-counting clients); its endpoint is a closed local port, so a call the Stubber
did not answer could not reach anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from findings.aws.accessanalyzer import collect_accessanalyzer
from findings.aws.base import CollectContext, CollectionError
from findings.checks.base import Unit, checks_for

ACCOUNT = "123456789012"
REGION = "eu-west-1"
UNIT = Unit(ACCOUNT, REGION)
SETTINGS_ARN = f"arn:aws:access-analyzer:{REGION}:{ACCOUNT}:regional-settings"
CREATED = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def analyzer(name: str, kind: str = "ACCOUNT", status: str = "ACTIVE") -> dict[str, Any]:
    return {
        "arn": f"arn:aws:access-analyzer:{REGION}:{ACCOUNT}:analyzer/{name}",
        "name": name,
        "type": kind,
        "createdAt": CREATED,
        "status": status,
    }


@pytest.fixture
def ctx() -> CollectContext:
    return CollectContext(
        session=boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing"),
        unit=UNIT,
        regions=[REGION],
        endpoint_url="http://127.0.0.1:9",  # discard port: nothing answers there
    )


@pytest.fixture
def stub(ctx: CollectContext) -> Iterator[Stubber]:
    with Stubber(ctx.client("accessanalyzer")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def evaluate(ctx: CollectContext) -> tuple[Any, list[Any]]:
    collected = collect_accessanalyzer(ctx)
    results = [r for spec in checks_for("accessanalyzer") for r in spec.run(collected.data, UNIT)]
    assert {r.resource_arn for r in results} <= {ref.arn for ref in collected.resources}
    return collected, results


def test_active_analyzer_on_the_second_page_passes(ctx: CollectContext, stub: Stubber) -> None:
    stub.add_response(
        "list_analyzers",
        {"analyzers": [analyzer("unused", kind="ACCOUNT_UNUSED_ACCESS")], "nextToken": "page-2"},
        {},
    )
    stub.add_response(
        "list_analyzers", {"analyzers": [analyzer("external")]}, {"nextToken": "page-2"}
    )
    collected, results = evaluate(ctx)

    [settings] = collected.resources
    assert settings.arn == SETTINGS_ARN
    assert settings.resource_type == "AWS::AccessAnalyzer::RegionalSettings"
    assert settings.region == REGION
    assert [a["name"] for a in settings.configuration["analyzers"]] == ["unused", "external"]
    assert collected.data["analyzers"][1] == {
        "name": "external",
        "arn": f"arn:aws:access-analyzer:{REGION}:{ACCOUNT}:analyzer/external",
        "type": "ACCOUNT",
        "status": "ACTIVE",
        "created_at": "2024-01-01T00:00:00+00:00",
    }
    [result] = results
    assert (result.check_id, result.status) == ("accessanalyzer_enabled", "pass")
    assert result.summary == "Access Analyzer is active in eu-west-1: analyzer external (ACCOUNT)."
    # Both pages were asked for (the fixture asserts no stubbed response is left).


def test_region_without_analyzer_fails(ctx: CollectContext, stub: Stubber) -> None:
    stub.add_response("list_analyzers", {"analyzers": []}, {})
    _, [result] = evaluate(ctx)
    assert (result.resource_arn, result.status) == (SETTINGS_ARN, "fail")


def test_failed_analyzer_fails(ctx: CollectContext, stub: Stubber) -> None:
    failed = analyzer("org", kind="ORGANIZATION", status="FAILED")
    failed["statusReason"] = {"code": "AWS_SERVICE_ACCESS_DISABLED"}
    stub.add_response("list_analyzers", {"analyzers": [failed]}, {})
    collected, [result] = evaluate(ctx)
    assert result.status == "fail"
    assert collected.data["analyzers"][0]["status_reason"] == "AWS_SERVICE_ACCESS_DISABLED"


def test_denied_call_fails_the_unit(ctx: CollectContext, stub: Stubber) -> None:
    stub.add_client_error(
        "list_analyzers", service_error_code="AccessDeniedException", http_status_code=403
    )
    with pytest.raises(CollectionError) as raised:
        collect_accessanalyzer(ctx)
    assert raised.value.code == "AccessDeniedException"
    assert raised.value.operation == "list_analyzers"
