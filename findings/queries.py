"""Reads shared by the UI, the API, reports and commands."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform

from findings.models import (
    SEVERITY_RANK,
    AccountRegion,
    Benchmark,
    Check,
    CloudAccount,
    Control,
    Finding,
    Resource,
    Scan,
    ScanChange,
)

DEFAULT_BENCHMARK_SLUG = "cis-aws-foundations"


def get_default_benchmark() -> Benchmark | None:
    """The newest version of CIS AWS Foundations, or any benchmark if that one is absent."""
    benchmarks = list(Benchmark.objects.all())
    if not benchmarks:
        return None
    preferred = [b for b in benchmarks if b.slug == DEFAULT_BENCHMARK_SLUG] or benchmarks
    return max(preferred, key=lambda b: Control.sort_key(b.version))


@dataclass
class ControlPosture:
    """How one control stands: resources failing, accepted and passing."""

    control: Control
    failing: int = 0
    accepted: int = 0
    passing: int = 0
    checks: list[str] = field(default_factory=list)

    @property
    def evaluated(self) -> int:
        return self.failing + self.accepted + self.passing

    @property
    def status(self) -> str:
        if not self.control.automated and not self.checks:
            return "manual"
        if self.evaluated == 0:
            return "not evaluated"
        if self.failing:
            return "fail"
        if self.accepted:
            return "accepted"
        return "pass"


@dataclass
class PostureTotals:
    failing: int = 0
    accepted: int = 0
    passing: int = 0

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
        from acceptances.models import Zone

        # The built-in zone holds everything: no membership filter.
        builtin = zone_id is not None and Zone.objects.filter(pk=zone_id, is_builtin=True).exists()
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
    from acceptances.models import AcceptanceEvent, Zone

    account_region = AccountRegion._meta.db_table
    event = AcceptanceEvent._meta.db_table
    zone = Zone._meta.db_table
    finding = Finding._meta.db_table
    through = Check.controls.through._meta.db_table
    sql = f"""
        SELECT (SELECT MAX(last_scanned_at) FROM {account_region}),
               (SELECT COUNT(*) FROM {account_region}),
               (SELECT MAX(id) FROM {event}),
               (SELECT MAX(updated_at) FROM {zone}),
               (SELECT COUNT(*) FROM {zone}),
               (SELECT MAX(id) FROM {finding}),
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
    from acceptances.models import ZoneMembership

    resource = Resource._meta.db_table
    membership = ZoneMembership._meta.db_table
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
        members = f"SELECT resource_id FROM {membership} WHERE zone_id = %s"  # noqa: S608
        sql.append(f" AND f.resource_id IN ({members})")
        params.append(scope.zone_id)
    return "".join(sql), params


def summarize_posture(rows: list[ControlPosture]) -> PostureTotals:
    totals = PostureTotals()
    for row in rows:
        totals.failing += row.failing
        totals.accepted += row.accepted
        totals.passing += row.passing
    return totals


EXPORT_FIELDS = [
    "check_id",
    "controls",
    "account_id",
    "account_name",
    "region",
    "resource_arn",
    "resource_type",
    "resource_name",
    "status",
    "accepted",
    "acceptance_id",
    "first_seen",
    "last_seen",
    "resolved_at",
    "evidence",
]


def iter_findings_export(findings: QuerySet[Finding] | None = None) -> Iterator[dict[str, Any]]:
    """Every finding as a flat record for auditors: what, where, status, accepted, when.

    "last_seen" is the last successful scan of the finding's account and unit (a resolved
    finding's last sighting is when it was resolved).
    """
    findings = Finding.objects.all() if findings is None else findings
    last_seen = {
        (account_id, unit): at
        for account_id, unit, at in AccountRegion.objects.values_list(
            "account_id", "region", "last_scanned_at"
        )
    }
    refs: dict[int, list[str]] = {}
    for check_id, ref, version in Check.controls.through.objects.values_list(
        "check_id", "control__ref", "control__benchmark__version"
    ):
        refs.setdefault(check_id, []).append(f"CIS {version} {ref}")
    rows = findings.select_related("control_check", "resource", "account").order_by("pk")
    for finding in rows.iterator(chunk_size=2000):
        resource = finding.resource
        seen = last_seen.get((finding.account_id, resource.scan_unit))
        if finding.resolved_at is not None:
            seen = finding.resolved_at
        yield {
            "check_id": finding.control_check.check_id,
            "controls": sorted(refs.get(finding.control_check_id, [])),
            "account_id": finding.account.account_id,
            "account_name": finding.account.name,
            "region": finding.region,
            "resource_arn": resource.arn,
            "resource_type": resource.resource_type,
            "resource_name": resource.name,
            "status": finding.display_status,
            "accepted": finding.acceptance_id is not None,
            "acceptance_id": finding.acceptance_id,
            "first_seen": finding.first_seen.isoformat(),
            "last_seen": seen.isoformat() if seen else None,
            "resolved_at": finding.resolved_at.isoformat() if finding.resolved_at else None,
            "evidence": finding.evidence.get("summary", ""),
        }


# --- Triage pages ------------------------------------------------------------------------------

FINDING_STATUS_FILTERS = {
    # Open, unaccepted failures: what needs a decision.
    "fail": {"status": "fail", "resolved_at__isnull": True, "acceptance__isnull": True},
    "accepted": {"acceptance__isnull": False},
    "pass": {"status": "pass"},
    # Failed once, then passed or the resource went away.
    "resolved": {"status": "fail", "resolved_at__isnull": False},
}


def get_control_findings(
    control: Control,
    scope: PostureScope | None = None,
    status: str = "",
    search: str = "",
) -> QuerySet[Finding]:
    """The findings of a control's checks within ``scope``, for its page: one status or all.

    Ordered failing first, then in the order resources were discovered (a stable order that
    pages through a hundred thousand rows without sorting them by name: the search box finds a
    name). Gone resources are left out, except from resolved findings (a resource's
    disappearance resolves them).
    """
    from acceptances.models import ZoneMembership

    scope = scope or PostureScope()
    findings = Finding.objects.filter(control_check__in=_check_pks(control))
    if status in FINDING_STATUS_FILTERS:
        findings = findings.filter(**FINDING_STATUS_FILTERS[status])
    if status in ("pass", "all", ""):
        # Open failures (accepted or not) are never on a gone resource: ingest resolves them
        # when it marks the resource gone; only passing ones need the check.
        findings = findings.exclude(
            resource_id__in=Resource.objects.filter(gone_at__isnull=False).values("pk")
        )
    if scope.account_ids:
        findings = findings.filter(account_id__in=scope.account_ids)
    if scope.regions:
        findings = findings.filter(region__in=scope.regions)
    if scope.zone_id is not None:
        findings = findings.filter(
            resource_id__in=ZoneMembership.objects.filter(zone_id=scope.zone_id).values(
                "resource_id"
            )
        )
    if search:
        findings = findings.filter(
            models.Q(resource__name__icontains=search) | models.Q(resource__arn__icontains=search)
        )
    return findings.order_by("status", "resource_id", "pk")


def get_findings_page(findings: QuerySet[Finding], number: Any, per_page: int = 50) -> Any:
    """One page of ``findings``, their resources, accounts and acceptances loaded.

    Pages over the ids first (narrow rows sort in a fraction of the time wide ones do), then
    loads just the page's rows.
    """
    from django.core.paginator import Paginator

    page = Paginator(findings.values_list("pk", flat=True), per_page).get_page(number)
    ids = list(page.object_list)
    rows = Finding.objects.filter(pk__in=ids).select_related(
        "resource__account", "account", "acceptance", "control_check"
    )
    by_id = {f.pk: f for f in rows}
    page.object_list = [by_id[pk] for pk in ids if pk in by_id]
    return page


def _check_pks(control: Control) -> list[int]:
    through = Check.controls.through.objects.filter(control=control)
    return list(through.values_list("check_id", flat=True))


def get_last_seen(findings: list[Finding]) -> dict[int, Any]:
    """Last seen per finding id: the last successful run of its account×unit (resolved: when)."""
    units = {(f.account_id, f.resource.scan_unit) for f in findings}
    if not units:
        return {}
    query = models.Q()
    for account_id, unit in units:
        query |= models.Q(account_id=account_id, region=unit)
    seen = {
        (account_id, unit): at
        for account_id, unit, at in AccountRegion.objects.filter(query).values_list(
            "account_id", "region", "last_scanned_at"
        )
    }
    return {f.pk: f.resolved_at or seen.get((f.account_id, f.resource.scan_unit)) for f in findings}


def get_resource_findings(resource: Resource) -> list[Finding]:
    """Every finding on a resource, failing first, with the controls each evidences."""
    findings = list(
        resource.findings.select_related("control_check", "acceptance").prefetch_related(
            "control_check__controls__benchmark"
        )
    )
    order = {"fail": 0, "accepted": 1, "resolved": 2, "pass": 3}
    findings.sort(key=lambda f: (order.get(f.display_status, 9), f.control_check.check_id))
    return findings


def get_posture_history(account: CloudAccount | None = None, limit: int = 20) -> list[Any]:
    """The last ``limit`` posture snapshots (one per finished scan), oldest first."""
    from findings.models import PostureSnapshot

    snapshots = PostureSnapshot.objects.select_related("account", "scan")
    if account is not None:
        snapshots = snapshots.filter(account=account)
    return list(reversed(snapshots.order_by("-at")[:limit]))


# --- What changed in a scan (drift) -----------------------------------------------------------


@dataclass(frozen=True)
class ControlRef:
    pk: int
    ref: str
    title: str
    severity: str


@dataclass
class ChangeRow:
    """One change a scan recorded, with what a list or an email shows about it.

    Finding changes (new_failure, fixed, gone) fill the finding and resource fields; a
    stale_acceptance fills ``acceptance_id`` and ``acceptance_label`` instead.
    """

    id: int
    kind: str
    kind_display: str
    at: dt.datetime
    accepted: bool
    severity: str
    finding_id: int | None = None
    check_id: str = ""
    controls: list[ControlRef] = field(default_factory=list)
    resource_id: int | None = None
    resource_name: str = ""
    resource_arn: str = ""
    resource_type: str = ""
    region: str = ""
    account_id: str = ""
    evidence_summary: str = ""
    acceptance_id: int | None = None
    acceptance_label: str = ""

    @property
    def control_refs(self) -> str:
        return ", ".join(c.ref for c in self.controls)

    @property
    def resource_label(self) -> str:
        return self.resource_name or self.resource_arn

    @property
    def severity_rank(self) -> int:
        return SEVERITY_RANK.get(self.severity, 0)


def _controls_by_check(check_pks: Iterable[int]) -> dict[int, list[ControlRef]]:
    """check id -> its controls, in catalog order; those of the default benchmark when it has
    any (both catalog versions may be loaded; people read one)."""
    rows = list(
        Check.controls.through.objects.filter(check_id__in=set(check_pks))
        .select_related("control")
        .order_by("control__position")
    )
    default = get_default_benchmark()
    by_check: dict[int, list[Control]] = {}
    for row in rows:
        by_check.setdefault(row.check_id, []).append(row.control)
    result: dict[int, list[ControlRef]] = {}
    for check_pk, mine in by_check.items():
        preferred = [c for c in mine if default is not None and c.benchmark_id == default.pk]
        result[check_pk] = [
            ControlRef(c.pk, c.ref, c.title, c.severity) for c in (preferred or mine)
        ]
    return result


def get_scan_changes(
    scan: Scan | int, kinds: Sequence[str] | None = None, *, limit: int | None = None
) -> list[ChangeRow]:
    """What ``scan`` changed since the previous successful scan of each of its units.

    ``kinds``: any of ``ScanChange.Kind`` values (default: all). Rows come most severe first,
    then by control and resource; ``limit`` keeps the first ones. Finding rows carry the
    check, its controls (``ControlRef``: pk for ``/controls/<pk>/``), the resource (id for
    ``/resources/<id>/``, name, ARN, type, region, account), the severity and the evidence
    summary as recorded, and ``accepted``: a new failure an active acceptance already covered.
    """
    scan_pk = scan.pk if isinstance(scan, Scan) else scan
    changes = ScanChange.objects.filter(scan_id=scan_pk)
    if kinds is not None:
        changes = changes.filter(kind__in=list(kinds))
    changes = (
        changes.select_related(
            "finding__control_check",
            "finding__resource",
            "finding__account",
            "acceptance__control",
            "acceptance__resource",
            "acceptance__zone",
        )
        # Only the summary of the evidence, not whole documents.
        .annotate(summary=KeyTextTransform("summary", "finding__evidence"))
        .defer(
            "finding__evidence",
            "finding__resource__configuration",
            "finding__resource__tags",
            "acceptance__justification",
        )
        .order_by("pk")
    )
    rows: list[ChangeRow] = []
    changes = list(changes)
    controls = _controls_by_check(c.finding.control_check_id for c in changes if c.finding_id)
    for change in changes:
        row = ChangeRow(
            id=change.pk,
            kind=change.kind,
            kind_display=change.get_kind_display(),
            at=change.at,
            accepted=change.accepted,
            severity=change.severity,
        )
        if change.finding_id is not None:
            finding = change.finding
            resource = finding.resource
            row.finding_id = finding.pk
            row.check_id = finding.control_check.check_id
            row.controls = controls.get(finding.control_check_id, [])
            row.resource_id = resource.pk
            row.resource_name = resource.name
            row.resource_arn = resource.arn
            row.resource_type = resource.resource_type
            row.region = finding.region
            row.account_id = finding.account.account_id
            row.evidence_summary = change.summary or ""
        else:
            acceptance = change.acceptance
            row.acceptance_id = acceptance.pk
            row.acceptance_label = str(acceptance)
            row.severity = row.severity or acceptance.control.severity
            row.controls = [
                ControlRef(
                    acceptance.control.pk,
                    acceptance.control.ref,
                    acceptance.control.title,
                    acceptance.control.severity,
                )
            ]
        rows.append(row)
    rows.sort(
        key=lambda r: (
            -r.severity_rank,
            [Control.sort_key(c.ref) for c in r.controls],
            r.resource_label,
            r.id,
        )
    )
    return rows[:limit] if limit is not None else rows


def get_top_scan_changes(scan: Scan, limit: int = 10) -> list[ChangeRow]:
    """The ``limit`` most severe changes of a scan, for the overview's "last scan" box.

    Sorting needs every change of the scan, which the overview must not load on each view:
    a closed scan's changes never change again, so they are kept in the cache by scan.
    """
    from django.core.cache import cache

    if not scan.is_finished:
        return get_scan_changes(scan, limit=limit)
    return cache.get_or_set(
        f"scan-changes:v1:{scan.pk}:{limit}",
        lambda: get_scan_changes(scan, limit=limit),
        POSTURE_CACHE_SECONDS,
    )


def get_scan_change_counts(scan: Scan) -> dict[str, Any]:
    """Per-kind change counts of a scan: new_failure (of which ``accepted`` were already
    covered), fixed, gone, stale_acceptance, and ``baseline_units`` (units scanned for the
    first time, which record no changes). Stored when the scan closes; counted live before."""
    if scan.change_counts:
        return scan.change_counts
    from findings.services.scans import count_changes

    return count_changes(scan.pk)


def get_last_finished_scan(account: CloudAccount | None = None) -> Scan | None:
    """The most recently finished scan that wrote something (succeeded or partial), of
    ``account`` or of any account."""
    scans = Scan.objects.filter(state__in=[Scan.State.SUCCEEDED, Scan.State.PARTIAL])
    if account is not None:
        scans = scans.filter(account=account)
    return scans.select_related("account").order_by("-finished_at", "-pk").first()


def _new_in_last_scan() -> QuerySet[ScanChange]:
    """New-failure changes recorded by the last successful run of the outer finding's unit."""
    last_run = AccountRegion.objects.filter(
        account_id=OuterRef(OuterRef("account_id")),
        region=OuterRef(OuterRef("resource__scan_unit")),
    ).values("last_scan_id")[:1]
    return ScanChange.objects.filter(
        finding_id=OuterRef("pk"),
        kind=ScanChange.Kind.NEW_FAILURE,
        scan_id=Subquery(last_run),
    )


def annotate_is_new(findings: QuerySet[Finding]) -> QuerySet[Finding]:
    """``findings`` annotated with ``is_new``: newly failing in the last successful scan of its
    account×unit (a new failing finding, or one failing again). For the "new" marks on the
    control and resource pages."""
    return findings.annotate(is_new=Exists(_new_in_last_scan()))


def get_new_finding_ids(finding_ids: Iterable[int]) -> set[int]:
    """Which of ``finding_ids`` are new since the previous scan (see ``annotate_is_new``)."""
    ids = list(finding_ids)
    new: set[int] = set()
    for start in range(0, len(ids), 5000):
        chunk = Finding.objects.filter(pk__in=ids[start : start + 5000])
        new.update(annotate_is_new(chunk).filter(is_new=True).values_list("pk", flat=True))
    return new


def with_last_seen(findings: QuerySet[Finding]) -> QuerySet[Finding]:
    """Annotate ``last_seen``: the last successful scan of the finding's account and unit, or
    its resolution time once resolved (as in the export). Lists filter and show it."""
    from django.db.models.functions import Coalesce

    scanned = AccountRegion.objects.filter(
        account_id=OuterRef("account_id"), region=OuterRef("resource__scan_unit")
    ).values("last_scanned_at")[:1]
    return findings.annotate(last_seen=Coalesce("resolved_at", Subquery(scanned)))
