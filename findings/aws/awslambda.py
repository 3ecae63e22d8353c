"""Lambda: the region's functions, their resource policies and function URLs.

Scope REGIONAL. Calls:

* ``list_functions`` (paginated);
* per function (in a small thread pool): ``get_policy`` (``ResourceNotFoundException`` means
  the function has no resource policy) and ``list_function_url_configs`` (paginated; every
  URL of the function and its aliases, with its ``AuthType``). A function deleted since the
  listing (this call answers ``ResourceNotFoundException``) is left out.

moto 5.2.5 has no ``ListFunctionUrlConfigs``; the simulated account's front door
(``simulation.front``) answers it from moto's ``GetFunctionUrlConfig``, so this collector
runs unchanged against the simulation.

``data``::

    {"functions": [{"arn": ..., "name": ..., "runtime": ..., "policy": {...} | None,
                    "urls": [{"FunctionUrl": ..., "AuthType": "NONE" | "AWS_IAM"}]}]}
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from findings.aws.base import REGIONAL, CollectContext, Collected, CollectionError, collector
from findings.toolbox import ResourceRef, json_safe, policy_document

WORKERS = 8
_NO_POLICY = ("ResourceNotFoundException",)
URL_KEYS = ("FunctionUrl", "FunctionArn", "AuthType", "InvokeMode")


@collector("lambda", scope=REGIONAL)
def collect_lambda(ctx: CollectContext) -> Collected:
    lam = ctx.client("lambda")
    listed = ctx.paginate(lam, "list_functions", "Functions")

    def inspect(item: dict[str, Any]) -> dict[str, Any] | None:
        name = str(item["FunctionName"])
        policy = ctx.absent_on(lam, "get_policy", _NO_POLICY, FunctionName=name)
        try:
            urls = ctx.paginate(
                lam, "list_function_url_configs", "FunctionUrlConfigs", FunctionName=name
            )
        except CollectionError as exc:
            # GetPolicy answers the same code for "no policy" and "no function"; this list
            # answers it only when the function was deleted since the listing.
            if exc.code == "ResourceNotFoundException":
                return None
            raise
        return {
            "arn": str(item["FunctionArn"]),
            "name": name,
            "runtime": item.get("Runtime"),
            "policy": policy_document((policy or {}).get("Policy")),
            "urls": [{k: json_safe(url[k]) for k in URL_KEYS if k in url} for url in urls],
        }

    functions: list[dict[str, Any]] = []
    if listed:
        with ThreadPoolExecutor(max_workers=min(WORKERS, len(listed))) as pool:
            functions = [f for f in pool.map(inspect, listed) if f is not None]
    resources = [
        ResourceRef(
            arn=function["arn"],
            resource_type="AWS::Lambda::Function",
            region=ctx.unit.region,
            name=function["name"],
            configuration={
                "Runtime": function["runtime"],
                "Policy": function["policy"],
                "FunctionUrls": function["urls"],
            },
        )
        for function in functions
    ]
    return Collected(resources=resources, data={"functions": functions})
