"""API Gateway: the stages of the region's REST APIs (v1) and HTTP/WebSocket APIs (v2).

Scope REGIONAL. ``apigateway.get_rest_apis`` and ``apigatewayv2.get_apis`` list the APIs
(paginated); the access-log settings live on the stages, which only a per-API call lists
(``get_stages``: no list call answers for every API at once). No control maps the checks yet,
so a scan does not run this collector until a benchmark does.

Stage ARNs carry the region but no account (``arn:aws:apigateway:REGION::/restapis/ID/stages/
NAME``, ``.../apis/ID/stages/NAME``); the collector puts each one in the stage as ``Arn``.

``data``::

    {"region": ..., "rest_stages": [{"Arn", "RestApiId", "RestApiName", "stageName",
      "accessLogSettings", ...}], "v2_stages": [{"Arn", "ApiId", "ApiName", "ProtocolType",
      "StageName", "AccessLogSettings", ...}]}
"""

from __future__ import annotations

from typing import Any

from findings.aws.base import REGIONAL, CollectContext, Collected, collector
from findings.toolbox import ResourceRef, Unit, json_safe

REST_STAGE_KEYS = (
    "stageName",
    "deploymentId",
    "accessLogSettings",
    "tracingEnabled",
    "webAclArn",
    "createdDate",
    "lastUpdatedDate",
)
V2_STAGE_KEYS = (
    "StageName",
    "DeploymentId",
    "AccessLogSettings",
    "AutoDeploy",
    "CreatedDate",
    "LastUpdatedDate",
)


def stage_arn(unit: Unit, region: str, kind: str, api_id: str, stage: str) -> str:
    """``kind`` is ``restapis`` (v1) or ``apis`` (v2)."""
    return f"arn:{unit.partition}:apigateway:{region}::/{kind}/{api_id}/stages/{stage}"


@collector("apigateway", scope=REGIONAL)
def collect_apigateway(ctx: CollectContext) -> Collected:
    region = ctx.region
    v1 = ctx.client("apigateway")
    v2 = ctx.client("apigatewayv2")
    resources: list[ResourceRef] = []

    rest_stages: list[dict[str, Any]] = []
    for api in ctx.paginate(v1, "get_rest_apis", "items"):
        answer = ctx.call(v1, "get_stages", restApiId=api["id"])
        for item in answer.get("item", []):
            stage = {
                "Arn": stage_arn(ctx.unit, region, "restapis", api["id"], item["stageName"]),
                "RestApiId": api["id"],
                "RestApiName": api.get("name", ""),
                **{k: json_safe(item[k]) for k in REST_STAGE_KEYS if k in item},
            }
            rest_stages.append(stage)
            resources.append(
                ResourceRef(
                    arn=stage["Arn"],
                    resource_type="AWS::ApiGateway::Stage",
                    region=region,
                    name=f"{stage['RestApiName'] or api['id']} / {item['stageName']}",
                    tags={str(k): str(v) for k, v in (item.get("tags") or {}).items()},
                    configuration=stage,
                )
            )

    v2_stages: list[dict[str, Any]] = []
    for api in ctx.paginate(v2, "get_apis", "Items"):
        for item in ctx.paginate(v2, "get_stages", "Items", ApiId=api["ApiId"]):
            stage = {
                "Arn": stage_arn(ctx.unit, region, "apis", api["ApiId"], item["StageName"]),
                "ApiId": api["ApiId"],
                "ApiName": api.get("Name", ""),
                "ProtocolType": api.get("ProtocolType"),
                **{k: json_safe(item[k]) for k in V2_STAGE_KEYS if k in item},
            }
            v2_stages.append(stage)
            resources.append(
                ResourceRef(
                    arn=stage["Arn"],
                    resource_type="AWS::ApiGatewayV2::Stage",
                    region=region,
                    name=f"{stage['ApiName'] or api['ApiId']} / {item['StageName']}",
                    tags={str(k): str(v) for k, v in (item.get("Tags") or {}).items()},
                    configuration=stage,
                )
            )

    return Collected(
        resources=resources,
        data={"region": region, "rest_stages": rest_stages, "v2_stages": v2_stages},
    )
