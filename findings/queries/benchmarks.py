"""Benchmarks side by side: which controls of one version are which of another, and what a
switch of version changes for the findings a team already has.

Controls of two benchmarks are the same recommendation when the same checks decide them (the
catalog's ``"checks"``); a manual control, which no check decides, is matched by its title.
Findings belong to checks, not to controls, so every benchmark reads the same findings and a
new version needs no re-scan for the checks that already ran.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count

from findings.models import Benchmark, Check, Control, Finding


def _title_key(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", title.lower()).strip()


def check_sets(benchmark: Benchmark) -> dict[int, frozenset[int]]:
    """Each control of ``benchmark`` (by pk) with the pks of the checks that decide it."""
    sets: dict[int, set[int]] = {c.pk: set() for c in benchmark.controls.only("pk")}
    for control_id, check_id in Check.controls.through.objects.filter(
        control__benchmark=benchmark
    ).values_list("control_id", "check_id"):
        sets[control_id].add(check_id)
    return {pk: frozenset(checks) for pk, checks in sets.items()}


@dataclass
class ControlPair:
    old: Control
    new: Control


@dataclass
class BenchmarkDiff:
    old: Benchmark
    new: Benchmark
    added: list[Control] = field(default_factory=list)
    removed: list[Control] = field(default_factory=list)
    renumbered: list[ControlPair] = field(default_factory=list)
    unchanged: list[ControlPair] = field(default_factory=list)
    # Checks the new version reads that the old one did not: findings already held for them
    # become part of the posture at once (no re-scan), per check id: (failing, passing).
    newly_evaluated: dict[str, tuple[int, int]] = field(default_factory=dict)
    # Old control pk -> the new controls that the same checks decide.
    successors: dict[int, list[Control]] = field(default_factory=dict)

    @property
    def newly_failing(self) -> int:
        return sum(failing for failing, _ in self.newly_evaluated.values())


def diff_benchmarks(old: Benchmark, new: Benchmark) -> BenchmarkDiff:
    """What switching from ``old`` to ``new`` changes: controls and the findings held."""
    result = BenchmarkDiff(old=old, new=new)
    old_controls = {c.pk: c for c in old.controls.all()}
    new_controls = {c.pk: c for c in new.controls.all()}
    old_sets, new_sets = check_sets(old), check_sets(new)
    matched_new: set[int] = set()
    for pk, control in old_controls.items():
        checks = old_sets[pk]
        if checks:
            # Any shared check: the same check deciding it means the same requirement moved.
            successors = [new_controls[n] for n, s in new_sets.items() if s & checks]
        else:
            key = _title_key(control.title)
            successors = [
                c for n, c in new_controls.items() if not new_sets[n] and _title_key(c.title) == key
            ]
        result.successors[pk] = sorted(successors, key=lambda c: c.position)
        if not successors:
            result.removed.append(control)
            continue
        for successor in successors:
            matched_new.add(successor.pk)
            pair = ControlPair(control, successor)
            if successor.ref == control.ref:
                result.unchanged.append(pair)
            else:
                result.renumbered.append(pair)
    result.added = sorted(
        (c for pk, c in new_controls.items() if pk not in matched_new), key=lambda c: c.position
    )
    old_checks = frozenset().union(*old_sets.values()) if old_sets else frozenset()
    new_checks = frozenset().union(*new_sets.values()) if new_sets else frozenset()
    fresh = new_checks - old_checks
    if fresh:
        counts: dict[int, dict[str, int]] = defaultdict(dict)
        for row in (
            Finding.objects.filter(control_check_id__in=fresh, resolved_at__isnull=True)
            .values("control_check_id", "status")
            .annotate(n=Count("pk"))
        ):
            counts[row["control_check_id"]][row["status"]] = row["n"]
        names = dict(Check.objects.filter(pk__in=fresh).values_list("pk", "check_id"))
        result.newly_evaluated = {
            names[pk]: (counts[pk].get("fail", 0), counts[pk].get("pass", 0))
            for pk in sorted(fresh, key=names.__getitem__)
        }
    result.removed.sort(key=lambda c: c.position)
    result.renumbered.sort(key=lambda p: p.new.position)
    return result


@dataclass
class ControlElsewhere:
    """A control of another benchmark decided by (some of) the same checks."""

    control: Control
    shared: list[str]  # check ids shared with the given control
    other: list[str]  # check ids of it that the given control does not have


def controls_elsewhere(control: Control) -> dict[Benchmark, list[ControlElsewhere]]:
    """Per other benchmark, the controls the same checks decide (where the control moved)."""
    checks = dict(Check.objects.filter(controls=control).values_list("pk", "check_id"))
    found: dict[Benchmark, list[ControlElsewhere]] = {}
    if not checks:
        return found
    candidates = (
        Control.objects.filter(checks__in=list(checks))
        .exclude(benchmark_id=control.benchmark_id)
        .select_related("benchmark")
        .distinct()
        .order_by("benchmark__slug", "benchmark__version", "position")
    )
    for other in candidates:
        theirs = dict(Check.objects.filter(controls=other).values_list("pk", "check_id"))
        found.setdefault(other.benchmark, []).append(
            ControlElsewhere(
                control=other,
                shared=sorted(theirs[pk] for pk in theirs if pk in checks),
                other=sorted(theirs[pk] for pk in theirs if pk not in checks),
            )
        )
    return found


def versions_without(
    control: Control, benchmarks: Iterable[Benchmark] | None = None
) -> list[Benchmark]:
    """Other versions of the control's benchmark in which no control shares its checks (or, for
    a manual control, its title): "no longer in <version>" (or not yet)."""
    same_family = [
        b
        for b in (benchmarks or Benchmark.objects.filter(slug=control.benchmark.slug))
        if b.pk != control.benchmark_id and b.slug == control.benchmark.slug
    ]
    elsewhere = {b.pk for b in controls_elsewhere(control)}
    has_checks = Check.objects.filter(controls=control).exists()
    missing = []
    for benchmark in same_family:
        if has_checks:
            if benchmark.pk not in elsewhere:
                missing.append(benchmark)
        elif not any(
            _title_key(c.title) == _title_key(control.title)
            for c in benchmark.controls.only("title")
        ):
            missing.append(benchmark)
    return sorted(missing, key=lambda b: Control.sort_key(b.version))


def find_benchmark(name: str) -> Benchmark:
    """The benchmark ``name`` means: "slug@version", or a bare version of CIS AWS Foundations,
    or a bare slug (its newest version). Raises ValueError listing what is loaded."""
    from findings.queries.posture import DEFAULT_BENCHMARK_SLUG

    name = (name or "").strip()
    slug, at, version = name.partition("@")
    benchmarks = list(Benchmark.objects.all())
    if not at and slug and slug[0].isdigit():
        slug, version = DEFAULT_BENCHMARK_SLUG, slug
    found = [b for b in benchmarks if b.slug == slug and (not version or b.version == version)]
    if not found:
        loaded = ", ".join(f"{b.slug}@{b.version}" for b in benchmarks) or "none"
        raise ValueError(f"No benchmark {name!r} is loaded (loaded: {loaded}).")
    return max(found, key=lambda b: Control.sort_key(b.version))
