"""SQS queues are not public (CIS AWS Foundations v3.0.0 and later; FSBP SQS.3).

Read from the ``sqs`` collector (see ``findings.aws.sqs``)::

    {"queues": [{"arn": "arn:aws:sqs:...:orders", "name": "orders", "url": "https://...",
                 "policy": {...} | None}]}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check
from findings.checks.policies import policy_result


@check(
    "sqs_queue_not_public",
    controls=(),
    service="sqs",
    resource_type="AWS::SQS::Queue",
    title="SQS queue is not public",
)
def sqs_queue_not_public(data: Mapping[str, Any], unit: Unit, spec: CheckSpec) -> Iterable[Result]:
    for queue in data.get("queues", []):
        yield policy_result(spec, queue["arn"], f"Queue '{queue['name']}'", queue.get("policy"))
