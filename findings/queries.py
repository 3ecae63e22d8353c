"""Reads shared by the UI, the API, reports and commands."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from findings.models import AccountRegion, Benchmark, Check, Control, Finding, Resource

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
    benchmark: Benchmark, account_ids: list[int] | None = None, *, zone_id: int | None = None
) -> list[ControlPosture]:
    """Per control of ``benchmark``: resources failing, accepted and passing.

    A resource counts once per control: failing when any check of the control has an open,
    unaccepted failure on it; accepted when all its open failures are accepted; otherwise
    passing. Resources that are gone and resolved findings are left out. ``zone_id`` limits
    the count to the zone's members (the built-in zone holds everything).
    """
    from acceptances.models import Zone, ZoneMembership

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
    if zone_id is not None and not Zone.objects.filter(pk=zone_id, is_builtin=True).exists():
        membership = ZoneMembership._meta.db_table
        account_filter += (
            f" AND f.resource_id IN (SELECT resource_id FROM {membership} WHERE zone_id = %s)"  # noqa: S608
        )
        params.append(zone_id)
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


def with_last_seen(findings: QuerySet[Finding]) -> QuerySet[Finding]:
    """Annotate ``last_seen``: the last successful scan of the finding's account and unit, or
    its resolution time once resolved (as in the export). Lists filter and show it."""
    from django.db.models import OuterRef, Subquery
    from django.db.models.functions import Coalesce

    scanned = AccountRegion.objects.filter(
        account_id=OuterRef("account_id"), region=OuterRef("resource__scan_unit")
    ).values("last_scanned_at")[:1]
    return findings.annotate(last_seen=Coalesce("resolved_at", Subquery(scanned)))
