"""SNS topics are not public (CIS AWS Foundations v3.0.0 and later; FSBP SNS.4).

Read from the ``sns`` collector (see ``findings.aws.sns``)::

    {"topics": [{"arn": "arn:aws:sns:...:alerts", "name": "alerts", "policy": {...} | None}]}

The default topic policy allows ``{"AWS": "*"}`` but only when ``AWS:SourceOwner`` is the
topic's own account, so a new topic passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check
from findings.checks.policies import policy_result


@check(
    "sns_topic_not_public",
    controls=(),
    service="sns",
    resource_type="AWS::SNS::Topic",
    title="SNS topic is not public",
)
def sns_topic_not_public(data: Mapping[str, Any], unit: Unit, spec: CheckSpec) -> Iterable[Result]:
    for topic in data.get("topics", []):
        yield policy_result(spec, topic["arn"], f"Topic '{topic['name']}'", topic.get("policy"))
