"""What every check test asks of a verdict's evidence, whatever the check."""

from __future__ import annotations

import json
from collections.abc import Iterable

from findings.checks.base import FAIL, Result


def checked(results: Iterable[Result]) -> list[Result]:
    """``results``, after asserting their evidence: a sentence for every verdict, and for a
    failing one the configuration parts that decided it. People accept or fix what a failing
    verdict says; one without evidence asks them to take it on trust."""
    results = list(results)
    json.dumps([result.evidence for result in results])  # stored and served as JSON
    for result in results:
        assert result.summary.strip(), f"{result.check_id} gave {result.resource_arn} no summary"
        if result.status == FAIL:
            assert result.details, (
                f"{result.check_id} failed {result.resource_arn} without evidence details"
            )
    return results
