"""Lambda functions are not public (CIS AWS Foundations v3.0.0 and later; FSBP Lambda.1).

Read from the ``lambda`` collector (see ``findings.aws.awslambda``)::

    {
        "functions": [
            {
                "arn": "arn:aws:lambda:eu-west-1:123456789012:function:resize",
                "name": "resize",
                "policy": {...} | "<unreadable text>" | None,   # GetPolicy; None: no policy
                "urls": [{"FunctionUrl": "https://...", "AuthType": "NONE", ...}],
            },
        ],
    }

A function is public when its resource policy lets everyone invoke or change it (see
``findings.checks.policies`` for what pins a caller), or when it has a function URL whose
``AuthType`` is ``NONE``: such a URL answers unsigned requests from anyone on the internet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check
from findings.checks.policies import analyze, summary


@check(
    "lambda_function_not_public",
    controls=(),
    service="lambda",
    resource_type="AWS::Lambda::Function",
    title="Lambda function is not public",
)
def lambda_function_not_public(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for function in data.get("functions", []):
        subject = f"Function '{function['name']}'"
        analysis = analyze(function.get("policy"))
        open_urls = [
            url for url in function.get("urls") or [] if str(url.get("AuthType")) == "NONE"
        ]
        details = {**analysis.details(), "urls": list(function.get("urls") or [])}
        if open_urls:
            shown = ", ".join(str(url.get("FunctionUrl", "?")) for url in open_urls)
            sentence = (
                f"{subject} is public: its function URL {shown} has auth type NONE, so anyone "
                "can invoke it without signing the request"
            )
            if analysis.is_public:
                sentence += f"; and {analysis.reason()}"
            yield spec.result(function["arn"], False, sentence + ".", details)
            continue
        yield spec.result(
            function["arn"], not analysis.is_public, summary(subject, analysis), details
        )
