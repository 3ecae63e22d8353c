"""Reads shared by the UI, the API, reports and commands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
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


def get_control_posture(
    benchmark: Benchmark, account_ids: list[int] | None = None
) -> list[ControlPosture]:
    """Per control of ``benchmark``: resources failing, accepted and passing.

    A resource counts once per control: failing when any check of the control has an open,
    unaccepted failure on it; accepted when all its open failures are accepted; otherwise
    passing. Resources that are gone and resolved findings are left out.
    """
    controls = list(benchmark.controls.all())
    rows = {c.pk: ControlPosture(control=c) for c in controls}
    through = Check.controls.through._meta.db_table
    finding = Finding._meta.db_table
    resource = Resource._meta.db_table
    control = Control._meta.db_table
    params: list[object] = [benchmark.pk]
    account_filter = ""
    if account_ids:
        account_filter = f" AND f.account_id IN ({', '.join(['%s'] * len(account_ids))})"
        params.extend(account_ids)
    # worst per (control, resource): 2 failing, 1 accepted, 0 passing. Only table names from
    # the models' metadata are interpolated; every value is a bound parameter.
    sql = f"""
        SELECT per_resource.control_id, per_resource.worst, COUNT(*)
        FROM (
            SELECT cc.control_id AS control_id, f.resource_id AS resource_id,
                   MAX(CASE
                       WHEN f.status = 'fail' AND f.resolved_at IS NULL
                            AND f.acceptance_id IS NULL THEN 2
                       WHEN f.status = 'fail' AND f.resolved_at IS NULL THEN 1
                       ELSE 0 END) AS worst
            FROM {finding} f
            JOIN {through} cc ON cc.check_id = f.control_check_id
            JOIN {resource} r ON r.id = f.resource_id
            WHERE cc.control_id IN (SELECT id FROM {control} WHERE benchmark_id = %s)
              AND r.gone_at IS NULL{account_filter}
            GROUP BY cc.control_id, f.resource_id
        ) per_resource
        GROUP BY per_resource.control_id, per_resource.worst
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for control_id, worst, count in cursor.fetchall():
            row = rows[control_id]
            if worst == 2:
                row.failing += count
            elif worst == 1:
                row.accepted += count
            else:
                row.passing += count
    for control_id, check_id in Check.controls.through.objects.filter(
        control__benchmark=benchmark
    ).values_list("control_id", "check__check_id"):
        rows[control_id].checks.append(check_id)
    return [rows[c.pk] for c in controls]


def summarize_posture(rows: list[ControlPosture]) -> PostureTotals:
    totals = PostureTotals()
    for row in rows:
        totals.failing += row.failing
        totals.accepted += row.accepted
        totals.passing += row.passing
    return totals


def get_open_failures(control: Control) -> QuerySet[Finding]:
    """Open failing findings of a control (accepted ones included), on resources not gone."""
    return Finding.objects.filter(
        control_check__controls=control,
        status=Finding.Status.FAIL,
        resolved_at__isnull=True,
        resource__gone_at__isnull=True,
    )


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
