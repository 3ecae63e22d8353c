"""Pure tests of the CloudFront standard logging check (global ``cloudfront`` collector data)."""

from __future__ import annotations

from typing import Any

from findings.checks import REGISTRY
from findings.checks.base import GLOBAL, Result, Unit
from tests.checks.evidence import checked

UNIT = Unit("123456789012", GLOBAL)
CHECK = "cloudfront_distribution_logging_enabled"
ARN = "arn:aws:cloudfront::123456789012:distribution/E2ABCDEF"


def verdict(logging: dict[str, Any] | None) -> Result:
    distribution: dict[str, Any] = {"Id": "E2ABCDEF", "ARN": ARN, "DomainName": "d1.cloudfront.net"}
    if logging is not None:
        distribution["Logging"] = logging
    (result,) = checked(REGISTRY[CHECK].run({"distributions": [distribution]}, UNIT))
    return result


def test_registered_without_a_control_yet() -> None:
    spec = REGISTRY[CHECK]
    assert (spec.controls, spec.service, spec.resource_type) == (
        (),
        "cloudfront",
        "AWS::CloudFront::Distribution",
    )


def test_logging_enabled_passes() -> None:
    result = verdict(
        {
            "Enabled": True,
            "IncludeCookies": False,
            "Bucket": "logs.s3.amazonaws.com",
            "Prefix": "cdn/",
        }
    )
    assert (result.resource_arn, result.status) == (ARN, "pass")
    assert result.summary == (
        "Distribution E2ABCDEF (d1.cloudfront.net) writes standard logs to "
        "logs.s3.amazonaws.com under 'cdn/'."
    )


def test_logging_disabled_fails() -> None:
    result = verdict({"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""})
    assert result.status == "fail"
    assert result.summary == (
        "Distribution E2ABCDEF (d1.cloudfront.net) has standard logging disabled "
        "(Logging.Enabled is false)."
    )
    assert result.details["Logging"]["Enabled"] is False


def test_missing_logging_configuration_fails() -> None:
    for logging in (None, {}):
        result = verdict(logging)
        assert result.status == "fail"
        assert "has no logging configuration" in result.summary
        assert result.details == {"Logging": None}


def test_no_distributions_no_verdicts() -> None:
    assert REGISTRY[CHECK].run({}, UNIT) == []
