"""Pure tests of the ALB access-logging check (``elbv2`` collector data)."""

from __future__ import annotations

from typing import Any

import pytest

from findings.checks import REGISTRY
from findings.checks.base import Result, Unit
from tests.checks.evidence import checked

UNIT = Unit("123456789012", "eu-west-1")
ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
CHECK = "elbv2_load_balancer_access_logging"


def verdict(attributes: dict[str, str] | None) -> Result:
    lb: dict[str, Any] = {
        "LoadBalancerArn": ARN,
        "LoadBalancerName": "web",
        "Scheme": "internet-facing",
    }
    if attributes is not None:
        lb["Attributes"] = attributes
    (result,) = checked(REGISTRY[CHECK].run({"load_balancers": [lb]}, UNIT))
    return result


def test_registered_without_a_control_yet() -> None:
    spec = REGISTRY[CHECK]
    assert (spec.controls, spec.service, spec.resource_type) == (
        (),
        "elbv2",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
    )


def test_enabled_access_logs_pass_and_name_the_bucket() -> None:
    result = verdict(
        {
            "access_logs.s3.enabled": "true",
            "access_logs.s3.bucket": "alb-logs",
            "access_logs.s3.prefix": "web",
        }
    )
    assert (result.resource_arn, result.status) == (ARN, "pass")
    assert result.summary == "Load balancer web writes access logs to s3://alb-logs/web."


def test_enabled_without_prefix() -> None:
    result = verdict({"access_logs.s3.enabled": "true", "access_logs.s3.bucket": "alb-logs"})
    assert result.summary == "Load balancer web writes access logs to s3://alb-logs."


@pytest.mark.parametrize("value", ["false", "", "FALSE"])
def test_disabled_access_logs_fail(value: str) -> None:
    result = verdict({"access_logs.s3.enabled": value, "access_logs.s3.bucket": ""})
    assert result.status == "fail"
    assert (
        result.summary
        == "Load balancer web has access logging disabled (access_logs.s3.enabled = false)."
    )
    assert result.details["access_logs.s3.enabled"] == value


def test_missing_attribute_fails_and_says_so() -> None:
    for attributes in (None, {"idle_timeout.timeout_seconds": "60"}):
        result = verdict(attributes)
        assert result.status == "fail"
        assert "reports no access_logs.s3.enabled attribute" in result.summary


def test_no_load_balancers_no_verdicts() -> None:
    assert REGISTRY[CHECK].run({}, UNIT) == []
