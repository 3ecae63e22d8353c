"""Pure tests of "Lambda function is not public": resource policy and function URL."""

from __future__ import annotations

from typing import Any

from findings.checks import REGISTRY
from findings.checks.base import Result, Unit
from tests.checks.evidence import checked

UNIT = Unit("123456789012", "eu-west-1")
ARN = "arn:aws:lambda:eu-west-1:123456789012:function:resize"


def function(policy: Any = None, urls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"arn": ARN, "name": "resize", "policy": policy, "urls": urls or []}


def invoke(principal: Any, sid: str = "Invoke", **extra: Any) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Id": "default",
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": principal,
                "Action": "lambda:InvokeFunction",
                "Resource": ARN,
                **extra,
            }
        ],
    }


def one(*functions: dict[str, Any]) -> Result:
    results = checked(
        REGISTRY["lambda_function_not_public"].run({"functions": list(functions)}, UNIT)
    )
    assert len(results) == 1
    return results[0]


def test_registered_unmapped_for_the_lambda_collector() -> None:
    spec = REGISTRY["lambda_function_not_public"]
    assert (spec.controls, spec.service, spec.resource_type) == (
        (),
        "lambda",
        "AWS::Lambda::Function",
    )


def test_no_policy_and_no_url_passes() -> None:
    result = one(function())
    assert (result.resource_arn, result.status) == (ARN, "pass")
    assert result.summary == "Function 'resize' is not public: it has no resource policy."


def test_anyone_may_invoke_fails_naming_the_statement() -> None:
    result = one(function(invoke("*", sid="PublicInvoke")))
    assert result.status == "fail"
    assert "statement 'PublicInvoke' allows lambda:InvokeFunction to everyone" in result.summary
    assert result.details["public_statements"][0]["label"] == "statement 'PublicInvoke'"


def test_a_service_principal_pinned_to_the_source_passes() -> None:
    # What `aws lambda add-permission --principal s3.amazonaws.com --source-arn ...` writes.
    policy = invoke(
        {"Service": "s3.amazonaws.com"},
        Condition={"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::uploads"}},
    )
    assert one(function(policy)).status == "pass"


def test_everyone_pinned_by_source_account_passes() -> None:
    policy = invoke("*", Condition={"StringEquals": {"AWS:SourceAccount": "123456789012"}})
    result = one(function(policy))
    assert result.status == "pass"
    assert "StringEquals AWS:SourceAccount = 123456789012" in result.summary


def test_another_account_is_not_everyone() -> None:
    assert one(function(invoke({"AWS": "arn:aws:iam::111122223333:root"}))).status == "pass"


def test_a_url_without_auth_fails_even_without_a_public_policy() -> None:
    url = {"FunctionUrl": "https://abc.lambda-url.eu-west-1.on.aws/", "AuthType": "NONE"}
    result = one(function(urls=[url]))
    assert result.status == "fail"
    assert "function URL https://abc.lambda-url.eu-west-1.on.aws/ has auth type NONE" in (
        result.summary
    )
    assert result.details["urls"] == [url]


def test_a_url_without_auth_and_a_public_policy_names_both() -> None:
    url = {"FunctionUrl": "https://abc.lambda-url.eu-west-1.on.aws/", "AuthType": "NONE"}
    result = one(function(invoke("*", sid="Url"), urls=[url]))
    assert result.status == "fail"
    assert "auth type NONE" in result.summary
    assert "statement 'Url' allows" in result.summary


def test_an_iam_authenticated_url_passes() -> None:
    url = {"FunctionUrl": "https://abc.lambda-url.eu-west-1.on.aws/", "AuthType": "AWS_IAM"}
    assert one(function(urls=[url])).status == "pass"


def test_an_unreadable_policy_is_not_called_public() -> None:
    result = one(function("{broken"))
    assert result.status == "pass"
    assert "could not be read: the policy is not valid JSON" in result.summary
