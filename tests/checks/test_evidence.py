"""The check tests' ``checked`` helper refuses verdicts people would have to take on trust."""

from __future__ import annotations

import pytest

from findings.checks.base import Result
from tests.checks.evidence import checked

ARN = "arn:aws:s3:::images"


def test_a_failing_verdict_without_details_is_refused() -> None:
    bare = Result("s3_bucket_secure_transport", ARN, "fail", "The bucket is not safe.", {})
    with pytest.raises(AssertionError, match="without evidence details"):
        checked([bare])


def test_a_verdict_without_a_summary_is_refused() -> None:
    silent = Result("s3_bucket_secure_transport", ARN, "pass", "  ", {"policy": None})
    with pytest.raises(AssertionError, match="no summary"):
        checked([silent])


def test_evidence_must_be_json() -> None:
    odd = Result("s3_bucket_secure_transport", ARN, "fail", "Not safe.", {"when": object()})
    with pytest.raises(TypeError):
        checked([odd])


def test_a_failing_verdict_with_its_evidence_is_accepted() -> None:
    result = Result("s3_bucket_secure_transport", ARN, "fail", "No deny.", {"policy": None})
    assert checked([result]) == [result]
