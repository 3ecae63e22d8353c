"""Pure tests of the API Gateway stage access-logging checks (REST and HTTP/WebSocket APIs)."""

from __future__ import annotations

from typing import Any

from findings.checks import REGISTRY
from findings.checks.base import Result, Unit
from tests.checks.evidence import checked

UNIT = Unit("123456789012", "eu-west-1")
REST = "apigateway_rest_stage_access_logging"
V2 = "apigatewayv2_stage_access_logging"
LOG_GROUP = "arn:aws:logs:eu-west-1:123456789012:log-group:api-access"


def rest(**settings: Any) -> Result:
    stage: dict[str, Any] = {
        "Arn": "arn:aws:apigateway:eu-west-1::/restapis/a1/stages/prod",
        "RestApiId": "a1",
        "RestApiName": "orders",
        "stageName": "prod",
    }
    stage.update(settings)
    (result,) = checked(REGISTRY[REST].run({"rest_stages": [stage]}, UNIT))
    return result


def v2(protocol: str = "HTTP", **settings: Any) -> Result:
    stage: dict[str, Any] = {
        "Arn": "arn:aws:apigateway:eu-west-1::/apis/b2/stages/$default",
        "ApiId": "b2",
        "ApiName": "events",
        "ProtocolType": protocol,
        "StageName": "$default",
    }
    stage.update(settings)
    (result,) = checked(REGISTRY[V2].run({"v2_stages": [stage]}, UNIT))
    return result


def test_registered_without_a_control_yet() -> None:
    assert (REGISTRY[REST].service, REGISTRY[REST].controls, REGISTRY[REST].resource_type) == (
        "apigateway",
        (),
        "AWS::ApiGateway::Stage",
    )
    assert (REGISTRY[V2].service, REGISTRY[V2].controls, REGISTRY[V2].resource_type) == (
        "apigateway",
        (),
        "AWS::ApiGatewayV2::Stage",
    )


def test_rest_stage_with_a_destination_passes() -> None:
    result = rest(accessLogSettings={"format": "$context.requestId", "destinationArn": LOG_GROUP})
    assert (result.resource_arn, result.status) == (
        "arn:aws:apigateway:eu-west-1::/restapis/a1/stages/prod",
        "pass",
    )
    assert result.summary == f"Stage 'prod' of REST API orders writes access logs to {LOG_GROUP}."


def test_rest_stage_without_settings_fails() -> None:
    result = rest()
    assert result.status == "fail"
    assert result.summary == "Stage 'prod' of REST API orders has no access logging configured."
    assert result.details == {"accessLogSettings": None}


def test_rest_stage_with_format_but_no_destination_fails() -> None:
    result = rest(accessLogSettings={"format": "$context.requestId"})
    assert result.status == "fail"
    assert "no destination (destinationArn is empty)" in result.summary


def test_execution_logging_alone_is_not_access_logging() -> None:
    result = rest(methodSettings={"*/*": {"loggingLevel": "INFO"}}, accessLogSettings=None)
    assert result.status == "fail"


def test_http_api_stage_with_a_destination_passes() -> None:
    result = v2(AccessLogSettings={"DestinationArn": LOG_GROUP, "Format": "$context.requestId"})
    assert result.status == "pass"
    assert result.summary == (
        f"Stage '$default' of HTTP API events writes access logs to {LOG_GROUP}."
    )


def test_websocket_api_stage_without_logging_fails() -> None:
    result = v2("WEBSOCKET")
    assert result.status == "fail"
    assert (
        result.summary
        == "Stage '$default' of WebSocket API events has no access logging configured."
    )


def test_v2_empty_destination_fails() -> None:
    assert v2(AccessLogSettings={"DestinationArn": "", "Format": "x"}).status == "fail"


def test_api_without_stages_gives_no_verdict() -> None:
    assert REGISTRY[REST].run({"rest_stages": []}, UNIT) == []
    assert REGISTRY[V2].run({}, UNIT) == []
