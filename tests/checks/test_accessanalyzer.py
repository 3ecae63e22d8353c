"""Pure tests of CIS 1.20: IAM Access Analyzer enabled in the region."""

from __future__ import annotations

from typing import Any

import pytest

from findings.checks.base import REGISTRY, Result, Unit
from tests.checks.evidence import checked

UNIT = Unit("123456789012", "eu-west-1")
SETTINGS_ARN = "arn:aws:access-analyzer:eu-west-1:123456789012:regional-settings"


def analyzer(name: str, kind: str = "ACCOUNT", status: str = "ACTIVE") -> dict[str, Any]:
    return {
        "name": name,
        "arn": f"arn:aws:access-analyzer:eu-west-1:123456789012:analyzer/{name}",
        "type": kind,
        "status": status,
        "created_at": "2024-01-01T00:00:00+00:00",
    }


def run(analyzers: list[dict[str, Any]]) -> Result:
    results = checked(
        REGISTRY["accessanalyzer_enabled"].run(
            {"region": "eu-west-1", "analyzers": analyzers}, UNIT
        )
    )
    assert len(results) == 1
    assert results[0].resource_arn == SETTINGS_ARN
    return results[0]


def test_registration() -> None:
    spec = REGISTRY["accessanalyzer_enabled"]
    assert spec.controls == ("1.20",)
    assert spec.service == "accessanalyzer"
    assert spec.resource_type == "AWS::AccessAnalyzer::RegionalSettings"


@pytest.mark.parametrize("kind", ["ACCOUNT", "ORGANIZATION"])
def test_active_external_access_analyzer_passes(kind: str) -> None:
    result = run([analyzer("main", kind)])
    assert result.status == "pass"
    assert result.summary == f"Access Analyzer is active in eu-west-1: analyzer main ({kind})."


def test_no_analyzer_fails() -> None:
    result = run([])
    assert result.status == "fail"
    assert result.summary == "No Access Analyzer analyzer exists in eu-west-1."


@pytest.mark.parametrize("status", ["CREATING", "DISABLED", "FAILED"])
def test_analyzer_that_is_not_active_fails(status: str) -> None:
    result = run([analyzer("main", status=status)])
    assert result.status == "fail"
    assert f"main (ACCOUNT, {status})" in result.summary


def test_unused_access_analyzer_alone_does_not_count() -> None:
    result = run([analyzer("unused", kind="ACCOUNT_UNUSED_ACCESS")])
    assert result.status == "fail"
    assert result.details["analyzers"][0]["type"] == "ACCOUNT_UNUSED_ACCESS"


def test_one_active_analyzer_among_others_passes() -> None:
    result = run(
        [
            analyzer("broken", status="FAILED"),
            analyzer("unused", kind="ORGANIZATION_UNUSED_ACCESS"),
            analyzer("org", kind="ORGANIZATION"),
        ]
    )
    assert result.status == "pass"
    assert "org (ORGANIZATION)" in result.summary
    assert len(result.details["analyzers"]) == 3


def test_the_region_comes_from_the_unit_when_the_data_omits_it() -> None:
    (result,) = checked(REGISTRY["accessanalyzer_enabled"].run({}, UNIT))
    assert result.status == "fail"
    assert result.summary == "No Access Analyzer analyzer exists in eu-west-1."
    assert result.details == {"analyzers": []}


def test_two_active_analyzers_are_both_named() -> None:
    result = run([analyzer("main"), analyzer("org", kind="ORGANIZATION")])
    assert result.summary == (
        "Access Analyzer is active in eu-west-1: analyzers main (ACCOUNT), org (ORGANIZATION)."
    )
