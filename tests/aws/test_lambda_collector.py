"""The lambda collector against the moto server (ListFunctionUrlConfigs answered by the
simulated account's front door), then "Lambda function is not public" on its data."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from simulation.account import client
from tests.aws.collect import collect, context

CHECK = "lambda_function_not_public"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:{}"


def _function(endpoint: str, name: str) -> None:
    role = client(endpoint, "iam").create_role(
        RoleName=f"{name}-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handle(event, context):\n    return event\n")
    client(endpoint, "lambda", "us-east-1").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handle",
        Code={"ZipFile": code.getvalue()},
    )


def test_policies_and_function_urls(aws: str) -> None:
    lam = client(aws, "lambda", "us-east-1")
    for name in ("private", "invoked-by-s3", "anyone", "open-url", "iam-url"):
        _function(aws, name)
    lam.add_permission(
        FunctionName="invoked-by-s3",
        StatementId="FromUploads",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::uploads",
        SourceAccount="123456789012",
    )
    lam.add_permission(
        FunctionName="anyone",
        StatementId="PublicInvoke",
        Action="lambda:InvokeFunction",
        Principal="*",
    )
    lam.create_function_url_config(FunctionName="open-url", AuthType="NONE")
    lam.create_function_url_config(FunctionName="iam-url", AuthType="AWS_IAM")

    collected, results, ctx = collect(aws, "lambda")

    # ListFunctions, then GetPolicy and ListFunctionUrlConfigs per function.
    assert ctx.api_calls == 1 + 2 * 5
    functions = {function["name"]: function for function in collected.data["functions"]}
    assert functions["private"]["policy"] is None
    assert functions["private"]["urls"] == []
    assert [url["AuthType"] for url in functions["open-url"]["urls"]] == ["NONE"]
    verdicts = {name: results[(CHECK, ARN.format(name))].status for name in functions}
    assert verdicts == {
        "private": "pass",
        "invoked-by-s3": "pass",
        "anyone": "fail",
        "open-url": "fail",
        "iam-url": "pass",
    }
    assert "statement 'PublicInvoke' allows lambda:InvokeFunction to everyone" in (
        results[(CHECK, ARN.format("anyone"))].summary
    )
    assert "has auth type NONE" in results[(CHECK, ARN.format("open-url"))].summary


def test_a_function_deleted_while_scanning_is_left_out(aws: str) -> None:
    for name in ("kept", "vanishing"):
        _function(aws, name)
    ctx = context(aws)
    seeder = client(aws, "lambda", "us-east-1")

    def delete_first(params: dict[str, Any], **kwargs: Any) -> None:
        if params.get("FunctionName") == "vanishing":
            seeder.delete_function(FunctionName="vanishing")

    ctx.client("lambda").meta.events.register(
        "before-parameter-build.lambda.GetPolicy", delete_first
    )
    collected, results, _ = collect(aws, "lambda", ctx=ctx)
    assert [function["name"] for function in collected.data["functions"]] == ["kept"]
    assert list(results) == [(CHECK, ARN.format("kept"))]
