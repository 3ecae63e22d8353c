"""Acceptances across benchmarks: a decision follows the check, not the version.

An acceptance is made on a control of one benchmark, and covers the findings of the checks that
decide that control. Every other benchmark whose controls the same checks decide reads those
findings as accepted too: accepting IMDSv1 on a web server under CIS v2.0.0 5.6 shows as
accepted under the CIS version where the recommendation moved and under FSBP EC2.8. A control
decided by several checks counts as covered on the scope only when no other of its checks fails
there uncovered. Reads only; nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

from acceptances.models import RiskAcceptance
from acceptances.services.coverage import within_scope
from findings.models import Benchmark, Control, Finding
from findings.queries.benchmarks import BenchmarkDiff, controls_elsewhere, versions_without


@dataclass
class CoveredControl:
    control: Control
    shared: list[str]
    # Other checks of the control that fail on the scope and this acceptance does not cover:
    # while any does, the control is not covered there (it still fails).
    failing_elsewhere: dict[str, int] = field(default_factory=dict)

    @property
    def covered(self) -> bool:
        return not self.failing_elsewhere


@dataclass
class BenchmarkCoverage:
    benchmark: Benchmark
    controls: list[CoveredControl]


@dataclass
class AcrossBenchmarks:
    own: Benchmark
    elsewhere: list[BenchmarkCoverage]
    no_longer_in: list[Benchmark]


def _scope_findings(acceptance: RiskAcceptance) -> QuerySet[Finding]:
    """The open, uncovered failures in the acceptance's scope (any check)."""
    return within_scope(
        acceptance,
        Finding.objects.filter(
            status=Finding.Status.FAIL, resolved_at__isnull=True, acceptance__isnull=True
        ),
    )


def across_benchmarks(acceptance: RiskAcceptance) -> AcrossBenchmarks:
    """Where else ``acceptance`` applies: per benchmark, the controls it covers (or only in
    part), and the versions of its own benchmark that no longer (or not yet) hold its control."""
    control = acceptance.control
    elsewhere: list[BenchmarkCoverage] = []
    for benchmark, found in controls_elsewhere(control).items():
        rows = []
        for item in found:
            failing: dict[str, int] = {}
            if item.other:
                for check_id in item.other:
                    count = (
                        _scope_findings(acceptance).filter(control_check__check_id=check_id).count()
                    )
                    if count:
                        failing[check_id] = count
            rows.append(CoveredControl(item.control, item.shared, failing))
        elsewhere.append(BenchmarkCoverage(benchmark, rows))
    return AcrossBenchmarks(
        own=control.benchmark, elsewhere=elsewhere, no_longer_in=versions_without(control)
    )


@dataclass
class CarryOver:
    acceptance: RiskAcceptance
    controls: list[Control]  # its control's successors in the new version


def carry_over(diff: BenchmarkDiff) -> tuple[list[CarryOver], list[RiskAcceptance]]:
    """The live acceptances of ``diff.old``'s controls: those that carry over to ``diff.new``
    (with the controls they cover there) and those that would no longer apply."""
    carried: list[CarryOver] = []
    lost: list[RiskAcceptance] = []
    live = (
        RiskAcceptance.objects.filter(
            control__benchmark=diff.old, state__in=RiskAcceptance.LIVE_STATES
        )
        .select_related("control", "zone", "resource", "owner")
        .order_by("control__position", "pk")
    )
    for acceptance in live:
        successors = diff.successors.get(acceptance.control_id, [])
        if successors:
            carried.append(CarryOver(acceptance, successors))
        else:
            lost.append(acceptance)
    return carried, lost
