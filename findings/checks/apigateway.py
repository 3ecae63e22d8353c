"""API Gateway stages write access logs (later CIS versions; no control maps them yet).

Read from the ``apigateway`` collector. A stage passes when its access-log settings name a
destination (``destinationArn`` for REST APIs, ``DestinationArn`` for HTTP and WebSocket
APIs): a CloudWatch Logs log group, or for REST APIs a Kinesis Data Firehose stream. Execution
logging (``methodSettings.loggingLevel``) is not access logging: it records API Gateway's own
processing, not who called what, so it does not count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check


def _verdict(
    spec: CheckSpec, stage: Mapping[str, Any], label: str, settings_key: str, arn_key: str
) -> Result:
    settings = dict(stage.get(settings_key) or {})
    destination = settings.get(arn_key)
    if destination:
        summary = f"{label} writes access logs to {destination}."
    elif settings:
        summary = f"{label} has access-log settings but no destination ({arn_key} is empty)."
    else:
        summary = f"{label} has no access logging configured."
    return spec.result(stage["Arn"], bool(destination), summary, {settings_key: settings or None})


@check(
    "apigateway_rest_stage_access_logging",
    controls=(),
    service="apigateway",
    resource_type="AWS::ApiGateway::Stage",
    title="API Gateway REST API stage has access logging enabled",
)
def apigateway_rest_stage_access_logging(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for stage in data.get("rest_stages", []):
        name = stage.get("RestApiName") or stage.get("RestApiId")
        label = f"Stage '{stage.get('stageName')}' of REST API {name}"
        yield _verdict(spec, stage, label, "accessLogSettings", "destinationArn")


@check(
    "apigatewayv2_stage_access_logging",
    controls=(),
    service="apigateway",
    resource_type="AWS::ApiGatewayV2::Stage",
    title="API Gateway HTTP or WebSocket API stage has access logging enabled",
)
def apigatewayv2_stage_access_logging(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for stage in data.get("v2_stages", []):
        name = stage.get("ApiName") or stage.get("ApiId")
        kind = {"HTTP": "HTTP API", "WEBSOCKET": "WebSocket API"}.get(
            str(stage.get("ProtocolType")), "API"
        )
        label = f"Stage '{stage.get('StageName')}' of {kind} {name}"
        yield _verdict(spec, stage, label, "AccessLogSettings", "DestinationArn")
