"""EventBridge event buses are not open to everyone (CIS AWS Foundations v3.0.0 and later).

Read from the ``events`` collector (see ``findings.aws.eventbridge``)::

    {"buses": [{"arn": "arn:aws:events:...:event-bus/default", "name": "default",
                "policy": {...} | None}]}

``events put-permission --principal "*"`` stores ``{"AWS": "arn:aws:iam::*:root"}``; the
analyzer reads a wildcard account as everyone, so such a bus fails unless a condition (an
``aws:PrincipalOrgID``, for one) pins the callers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check
from findings.checks.policies import policy_result


@check(
    "eventbridge_bus_not_public",
    controls=(),
    service="events",
    resource_type="AWS::Events::EventBus",
    title="EventBridge event bus is not open to everyone",
)
def eventbridge_bus_not_public(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for bus in data.get("buses", []):
        yield policy_result(spec, bus["arn"], f"Event bus '{bus['name']}'", bus.get("policy"))
