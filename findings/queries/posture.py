"""Posture: how each control stands (failing, accepted, passing) in a scope, counted once
per change of the data and cached; and the posture history of finished scans."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection

from findings import hooks
from findings.models import (
    AccountRegion,
    Assessment,
    Benchmark,
    Check,
    CloudAccount,
    Control,
    Finding,
    Resource,
)

DEFAULT_BENCHMARK_SLUG = "cis-aws-foundations"


def get_default_benchmark() -> Benchmark | None:
    """The enabled benchmark ``CSPM_DEFAULT_BENCHMARK`` names ("slug" for its newest version,
    or "slug@version"); when that one is disabled or not loaded, the newest enabled CIS AWS
    Foundations, else any enabled one. None when no benchmark is enabled."""
    benchmarks = list(Benchmark.objects.filter(enabled=True))
    if not benchmarks:
        return None
    wanted = getattr(settings, "CSPM_DEFAULT_BENCHMARK", DEFAULT_BENCHMARK_SLUG)
    slug, _, version = wanted.partition("@")
    chosen = [b for b in benchmarks if b.slug == slug and (not version or b.version == version)]
    preferred = chosen or [b for b in benchmarks if b.slug == DEFAULT_BENCHMARK_SLUG] or benchmarks
    return max(preferred, key=lambda b: Control.sort_key(b.version))


def get_enabled_benchmarks() -> list[Benchmark]:
    """The benchmarks the team reads (pickers, scans, drift alerts), in slug and version order."""
    return sorted(
        Benchmark.objects.filter(enabled=True),
        key=lambda b: (b.slug, Control.sort_key(b.version)),
    )


def disabled_message(benchmark: Benchmark) -> str:
    """Why a disabled benchmark is refused, and how to enable it."""
    return (
        f"{benchmark} is disabled: an admin enables it (admin, API, or "
        f"`manage.py benchmarks --enable {benchmark.slug}@{benchmark.version}`)."
    )


@dataclass
class ControlPosture:
    """How one control stands: resources failing, accepted and passing."""

    control: Control
    failing: int = 0
    accepted: int = 0
    passing: int = 0
    checks: list[str] = field(default_factory=list)
    # Checks of the control no scan has evaluated yet (a benchmark enabled since the last
    # scan adds them to the next one): the control cannot be called passing until they ran.
    pending: list[str] = field(default_factory=list)

    @property
    def evaluated(self) -> int:
        return self.failing + self.accepted + self.passing

    @property
    def assessment(self) -> Assessment:
        """Automated, "checked, manual in the benchmark" (checks decide a control the
        benchmark calls manual), or manual (a person decides)."""
        return Assessment.of(self.control.automated, bool(self.checks))

    @property
    def unchecked(self) -> bool:
        """Automated in the benchmark, but no check of ours decides it: not evaluated."""
        return self.control.automated and not self.control.evaluated

    @property
    def not_evaluated_reason(self) -> str:
        return self.control.not_evaluated_reason

    @property
    def status(self) -> str:
        # A control the benchmark marks manual is decided by a person: what our checks find is
        # evidence for that person, never a verdict, so open failures show it as "manual"
        # rather than "fail" (an accepted or passing result still says so).
        if not self.control.automated and (not self.checks or self.failing):
            return "manual"
        if self.pending and not self.failing:
            return "not evaluated"
        if self.evaluated == 0:
            return "not evaluated"
        if self.failing:
            return "fail"
        if self.accepted:
            return "accepted"
        return "pass"

    @property
    def note(self) -> str:
        """Why a control with checks shows no verdict yet (empty otherwise)."""
        if self.pending and self.status == "not evaluated":
            return NOT_EVALUATED_YET
        return ""


NOT_EVALUATED_YET = "not evaluated yet: the next scan evaluates them"


def get_pending_checks(check_ids: set[str] | None = None) -> set[str]:
    """Check ids no scan has evaluated yet: never recorded as evaluated and without a single
    finding (a finding proves a run; the record covers runs that found nothing)."""
    never = Check.objects.filter(first_evaluated_at__isnull=True)
    if check_ids is not None:
        never = never.filter(check_id__in=sorted(check_ids))
    candidates = dict(never.values_list("pk", "check_id"))
    if not candidates:
        return set()
    ran = set(
        Finding.objects.filter(control_check_id__in=list(candidates))
        .values_list("control_check_id", flat=True)
        .distinct()
    )
    return {check_id for pk, check_id in candidates.items() if pk not in ran}


@dataclass
class PostureTotals:
    failing: int = 0
    accepted: int = 0
    passing: int = 0
    # Controls no check of ours decides: they add nothing to the counts above (never passing),
    # and are counted apart so a percentage never hides them.
    unchecked: int = 0

    @property
    def evaluated(self) -> int:
        return self.failing + self.accepted + self.passing

    @property
    def compliance_percent(self) -> float | None:
        """Share of evaluated resource×control pairs that pass (accepted ones are not passing)."""
        if not self.evaluated:
            return None
        return round(100.0 * self.passing / self.evaluated, 1)


@dataclass(frozen=True)
class PostureScope:
    """Which findings a posture view counts: all, or those of some accounts, regions, a zone."""

    account_ids: tuple[int, ...] = ()
    regions: tuple[str, ...] = ()
    # A zone's primary key; the built-in zone (everything) is passed as None.
    zone_id: int | None = None

    def cache_part(self) -> str:
        return f"a{','.join(map(str, self.account_ids))}:r{','.join(self.regions)}:z{self.zone_id}"


def get_control_posture(
    benchmark: Benchmark,
    account_ids: list[int] | None = None,
    *,
    scope: PostureScope | None = None,
    control_ids: list[int] | None = None,
    zone_id: int | None = None,
) -> list[ControlPosture]:
    """Per control of ``benchmark``: resources failing, accepted and passing.

    A resource counts once per control: failing when any check of the control has an open,
    unaccepted failure on it; accepted when all its open failures are accepted; otherwise
    passing. Resources that are gone and resolved findings are left out. ``scope`` narrows the
    findings counted; ``control_ids`` the controls (a control page counts only its own).
    """
    if scope is None:
        # The built-in zone holds everything: no membership filter.
        builtin = zone_id is not None and hooks.is_whole_zone(zone_id)
        scope = PostureScope(
            account_ids=tuple(account_ids or ()),
            zone_id=None if builtin else zone_id,
        )
    controls = list(benchmark.controls.all())
    if control_ids is not None:
        controls = [c for c in controls if c.pk in set(control_ids)]
    rows = {c.pk: ControlPosture(control=c) for c in controls}
    for control_id, counts in _posture_counts(benchmark, scope, control_ids).items():
        if control_id in rows:
            row = rows[control_id]
            row.failing, row.accepted, row.passing = counts
    for control_id, check_id in Check.controls.through.objects.filter(
        control__benchmark=benchmark
    ).values_list("control_id", "check__check_id"):
        if control_id in rows:
            rows[control_id].checks.append(check_id)
    pending = get_pending_checks({c for row in rows.values() for c in row.checks})
    if pending:
        for row in rows.values():
            row.pending = [c for c in row.checks if c in pending]
    return [rows[c.pk] for c in controls]


def posture_fingerprint() -> str:
    """A value that changes whenever any posture count may have changed.

    Counts change only through these writes, each of which moves one of the values below:
    a scan unit's ingest (``AccountRegion.last_scanned_at``, also for gone resources and zone
    membership kept current by ingest), an acceptance's creation, approval, revocation, expiry
    or edit (each writes an ``AcceptanceEvent``), a zone's rules (``Zone.updated_at``), new
    finding rows, and a catalog load that maps checks to controls anew. Each value is read
    from an index or a small table, so this costs a millisecond where the counts cost a
    second at a million findings.
    """
    account_region = AccountRegion._meta.db_table
    finding = Finding._meta.db_table
    through = Check.controls.through._meta.db_table
    # What people decided (acceptance events, zone rules) is marked by the treatment side.
    marks = "".join(f"               {mark},\n" for mark in hooks.posture_marks_sql())
    sql = f"""
        SELECT (SELECT MAX(last_scanned_at) FROM {account_region}),
               (SELECT COUNT(*) FROM {account_region}),
{marks}               (SELECT MAX(id) FROM {finding}),
               (SELECT COUNT(*) FROM {through})
    """  # noqa: S608 - table names from model metadata only
    with connection.cursor() as cursor:
        cursor.execute(sql)
        values = cursor.fetchone()
    return "|".join(str(v) for v in values)


def get_posture_version() -> str:
    """A short key part that changes with the posture fingerprint (for cached counts and
    cached page fragments)."""
    return hashlib.sha256(posture_fingerprint().encode()).hexdigest()[:32]


# Cached counts live a day at most; the fingerprint, not the timeout, keeps them correct.
POSTURE_CACHE_SECONDS = 24 * 3600


def _posture_counts(
    benchmark: Benchmark, scope: PostureScope, control_ids: list[int] | None
) -> dict[int, tuple[int, int, int]]:
    """Counts per control id, from the cache when nothing changed since they were computed.

    At a million findings the counting query takes the better part of a second; a dashboard
    that many people reload must not pay that on every view. The cache key carries the
    posture fingerprint, so any write that may change a count makes a new key at once (no
    stale figures, invariant 3), and a shared cache (Redis in production) serves every process.
    """
    from django.core.cache import cache

    key = posture_cache_key(benchmark, scope, control_ids)
    counts = cache.get(key)
    if counts is None:
        counts = _count_once(key, lambda: _count_posture(benchmark, scope, control_ids))
    return counts


def posture_cache_key(
    benchmark: Benchmark, scope: PostureScope, control_ids: list[int] | None = None
) -> str:
    """Where counts of this benchmark, scope and controls are cached for the current data."""
    controls = ",".join(map(str, sorted(control_ids))) if control_ids is not None else "all"
    version = get_posture_version()
    return f"posture:v2:{benchmark.pk}:{controls}:{scope.cache_part()}:{version}"


# How long a view waits for another process that is already counting the same thing.
POSTURE_WAIT_SECONDS = 20.0


def _count_once(key: str, count: Any) -> dict[int, tuple[int, int, int]]:
    """Count, unless another process already is: then wait for its result.

    Right after a change every open dashboard asks for the same new counts at once; one of
    them counts (a second or so at a million findings) while the others wait for the cached
    result instead of all scanning the same million rows side by side. A counter that dies
    leaves its claim to expire; a waiter that runs out of patience counts by itself.
    """
    import time

    from django.core.cache import cache

    claim = f"{key}:counting"
    if cache.add(claim, 1, timeout=int(POSTURE_WAIT_SECONDS) + 10):
        try:
            counts = count()
            cache.set(key, counts, POSTURE_CACHE_SECONDS)
            return counts
        finally:
            cache.delete(claim)
    deadline = time.monotonic() + POSTURE_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.05)
        counts = cache.get(key)
        if counts is not None:
            return counts
        if cache.get(claim) is None:
            break  # the counter gave up (or died before it could claim)
    counts = count()
    cache.set(key, counts, POSTURE_CACHE_SECONDS)
    return counts


def _count_posture(
    benchmark: Benchmark, scope: PostureScope, control_ids: list[int] | None
) -> dict[int, tuple[int, int, int]]:
    """Failing, accepted and passing resources per control id (uncached).

    Most controls are decided by one check, and a check has one finding per resource, so their
    counts are a plain count of findings per check and status: one pass over the findings with
    a small hash aggregate. Only controls decided by several checks need the worst status per
    (control, resource); those are counted apart, over their own checks' findings only.
    """
    links = Check.controls.through.objects.filter(control__benchmark=benchmark)
    if control_ids is not None:
        links = links.filter(control_id__in=control_ids)
    checks_of: dict[int, set[int]] = {}
    for control_id, check_id in links.values_list("control_id", "check_id"):
        checks_of.setdefault(control_id, set()).add(check_id)
    single: dict[int, list[int]] = {}  # check -> the single-check controls it decides
    multi: list[int] = []
    for control_id, checks in checks_of.items():
        if len(checks) == 1:
            single.setdefault(next(iter(checks)), []).append(control_id)
        else:
            multi.append(control_id)

    counts: dict[int, list[int]] = {}

    def add(control_id: int, worst: int, count: int) -> None:
        row = counts.setdefault(control_id, [0, 0, 0])
        row[{2: 0, 1: 1, 0: 2}[worst]] += count

    scope_sql, scope_params = _scope_filter(scope)
    finding = Finding._meta.db_table
    # 2 failing (open, not accepted), 1 accepted, 0 passing or resolved.
    worst = """CASE WHEN f.status = 'fail' AND f.resolved_at IS NULL AND f.acceptance_id IS NULL
                    THEN 2 WHEN f.status = 'fail' AND f.resolved_at IS NULL THEN 1 ELSE 0 END"""
    with connection.cursor() as cursor:
        if single:
            placeholders = ", ".join(["%s"] * len(single))
            # Only table names from the models' metadata are interpolated; values are bound.
            cursor.execute(
                f"""SELECT f.control_check_id, {worst} AS worst, COUNT(*)
                    FROM {finding} f
                    WHERE f.control_check_id IN ({placeholders}){scope_sql}
                    GROUP BY 1, 2""",  # noqa: S608
                [*single, *scope_params],
            )
            for check_id, level, count in cursor.fetchall():
                for control_id in single[check_id]:
                    add(control_id, level, count)
        if multi:
            through = Check.controls.through._meta.db_table
            placeholders = ", ".join(["%s"] * len(multi))
            cursor.execute(
                f"""SELECT per_resource.control_id, per_resource.worst, COUNT(*)
                    FROM (
                        SELECT cc.control_id AS control_id, f.resource_id AS resource_id,
                               MAX({worst}) AS worst
                        FROM {finding} f
                        JOIN {through} cc ON cc.check_id = f.control_check_id
                        WHERE cc.control_id IN ({placeholders}){scope_sql}
                        GROUP BY cc.control_id, f.resource_id
                    ) per_resource
                    GROUP BY per_resource.control_id, per_resource.worst""",  # noqa: S608
                [*multi, *scope_params],
            )
            for control_id, level, count in cursor.fetchall():
                add(control_id, level, count)
    return {k: (v[0], v[1], v[2]) for k, v in counts.items()}


def _scope_filter(scope: PostureScope) -> tuple[str, list[object]]:
    """SQL conditions on findings ``f`` for a scope; gone resources are always left out."""
    resource = Resource._meta.db_table
    # Gone resources are few (a partial index holds them): a hashed NOT IN, no join.
    gone = f"SELECT id FROM {resource} WHERE gone_at IS NOT NULL"  # noqa: S608
    sql = [f" AND f.resource_id NOT IN ({gone})"]
    params: list[object] = []
    if scope.account_ids:
        sql.append(f" AND f.account_id IN ({', '.join(['%s'] * len(scope.account_ids))})")
        params.extend(scope.account_ids)
    if scope.regions:
        sql.append(f" AND f.region IN ({', '.join(['%s'] * len(scope.regions))})")
        params.extend(scope.regions)
    if scope.zone_id is not None:
        members, members_params = hooks.zone_member_ids(scope.zone_id).query.sql_with_params()
        sql.append(f" AND f.resource_id IN ({members})")
        params.extend(members_params)
    return "".join(sql), params


POSTURE_EXPORT_FIELDS = [
    "benchmark",
    "benchmark_version",
    "control",
    "title",
    "section",
    "severity",
    "level",
    "automated",
    "status",
    "note",
    "failing",
    "accepted",
    "passing",
    "evaluated",
    "compliance_percent",
    "checks",
]


def iter_posture_export(benchmark: Benchmark, rows: list[ControlPosture]) -> Iterator[dict]:
    """The posture of ``benchmark``'s controls as flat records (the overview's table)."""
    for row in rows:
        control = row.control
        totals = PostureTotals(row.failing, row.accepted, row.passing)
        yield {
            "benchmark": benchmark.slug,
            "benchmark_version": benchmark.version,
            "control": control.ref,
            "title": control.title,
            "section": f"{control.section_ref} {control.section_title}",
            "severity": control.severity,
            "level": control.level,
            "automated": control.automated,
            "status": row.status,
            "note": row.note,
            "failing": row.failing,
            "accepted": row.accepted,
            "passing": row.passing,
            "evaluated": row.evaluated,
            "compliance_percent": totals.compliance_percent,
            "checks": " ".join(row.checks),
        }


def summarize_posture(rows: list[ControlPosture]) -> PostureTotals:
    totals = PostureTotals()
    for row in rows:
        totals.failing += row.failing
        totals.accepted += row.accepted
        totals.passing += row.passing
        totals.unchecked += row.unchecked
    return totals


def get_posture_history(account: CloudAccount | None = None, limit: int = 20) -> list[Any]:
    """The last ``limit`` posture snapshots (one per finished scan), oldest first."""
    from findings.models import PostureSnapshot

    snapshots = PostureSnapshot.objects.select_related("account", "scan")
    if account is not None:
        snapshots = snapshots.filter(account=account)
    return list(reversed(snapshots.order_by("-at")[:limit]))


def warm_posture_counts() -> bool:
    """Count the overview's default view (the default benchmark, everything) into the cache
    under the current fingerprint, unless it is already there. True when it counted.

    Run in the background right after a write that moves the fingerprint, so the first person
    to open the overview afterwards reads cached counts instead of paying the recount. Goes
    through the same claim as a page view: a page opened while this counts waits for it
    rather than counting the same rows side by side.
    """
    from django.core.cache import cache

    benchmark = get_default_benchmark()
    if benchmark is None:
        return False
    scope = PostureScope()
    if cache.get(posture_cache_key(benchmark, scope)) is not None:
        return False
    _posture_counts(benchmark, scope, None)
    return True
