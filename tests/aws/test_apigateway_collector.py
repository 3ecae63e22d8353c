"""The ``apigateway`` collector (REST and HTTP API stages) against the moto server."""

from __future__ import annotations

from simulation.account import client
from tests.aws.collecting import collect

REGION = "eu-west-1"
LOGS = f"arn:aws:logs:{REGION}:123456789012:log-group:api-access"


def _rest_api(endpoint: str) -> str:
    api = client(endpoint, "apigateway", REGION)
    api_id = str(api.create_rest_api(name="orders")["id"])
    root = api.get_resources(restApiId=api_id)["items"][0]["id"]
    api.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    api.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = api.create_deployment(restApiId=api_id)["id"]
    for stage in ("prod", "dev"):
        api.create_stage(restApiId=api_id, stageName=stage, deploymentId=deployment)
    api.update_stage(
        restApiId=api_id,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": LOGS},
            {"op": "replace", "path": "/accessLogSettings/format", "value": "$context.requestId"},
        ],
    )
    return api_id


def test_rest_and_http_api_stages(aws: str) -> None:
    rest_id = _rest_api(aws)
    v2 = client(aws, "apigatewayv2", REGION)
    http_id = v2.create_api(Name="events", ProtocolType="HTTP")["ApiId"]
    v2.create_stage(
        ApiId=http_id,
        StageName="live",
        AccessLogSettings={"DestinationArn": LOGS, "Format": "$context.requestId"},
    )
    v2.create_stage(ApiId=http_id, StageName="test")

    run = collect(aws, "apigateway", REGION)

    rest = f"arn:aws:apigateway:{REGION}::/restapis/{rest_id}/stages"
    http = f"arn:aws:apigateway:{REGION}::/apis/{http_id}/stages"
    assert run.statuses("apigateway_rest_stage_access_logging") == {
        f"{rest}/prod": "pass",
        f"{rest}/dev": "fail",
    }
    assert run.statuses("apigatewayv2_stage_access_logging") == {
        f"{http}/live": "pass",
        f"{http}/test": "fail",
    }
    refs = {ref.arn: ref for ref in run.collected.resources}
    assert refs[f"{rest}/prod"].resource_type == "AWS::ApiGateway::Stage"
    assert refs[f"{rest}/prod"].name == "orders / prod"
    assert refs[f"{http}/live"].resource_type == "AWS::ApiGatewayV2::Stage"
    assert refs[f"{http}/live"].configuration["AccessLogSettings"]["DestinationArn"] == LOGS
    # GetRestApis, GetStages for the REST API, GetApis, GetStages for the HTTP API.
    assert run.ctx.api_calls == 4


def test_region_without_apis(aws: str) -> None:
    run = collect(aws, "apigateway", REGION)
    assert run.collected.resources == []
    assert run.results == {}
    assert run.ctx.api_calls == 2
