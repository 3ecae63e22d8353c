"""Findings as the triage pages, the API and the export read them: lists of a control,
pages, last seen, "new" marks, the audit export."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db import models
from django.db.models import Exists, OuterRef, QuerySet, Subquery

from findings import hooks
from findings.models import (
    AccountRegion,
    Benchmark,
    Check,
    Control,
    Finding,
    Resource,
    ScanChange,
)
from findings.queries.posture import PostureScope

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


def benchmark_label(benchmark: Benchmark) -> str:
    """How an export names a benchmark before a control ref: "CIS 2.0.0", "AWS FSBP 1.0.0"."""
    return f"{benchmark.short_name} {benchmark.version}"


def iter_findings_export(
    findings: QuerySet[Finding] | None = None, benchmark: Benchmark | None = None
) -> Iterator[dict[str, Any]]:
    """Every finding as a flat record for auditors: what, where, status, accepted, when.

    "controls" names the controls its check decides: in ``benchmark`` when one is given
    (the export of one benchmark speaks its numbering), else in every enabled benchmark.
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
    links = Check.controls.through.objects.all()
    if benchmark is not None:
        links = links.filter(control__benchmark=benchmark)
    else:
        links = links.filter(control__benchmark__enabled=True)
    labels = {b.pk: benchmark_label(b) for b in Benchmark.objects.all()}
    refs: dict[int, list[str]] = {}
    for check_id, ref, benchmark_id in links.values_list(
        "check_id", "control__ref", "control__benchmark_id"
    ):
        refs.setdefault(check_id, []).append(f"{labels[benchmark_id]} {ref}")
    rows = findings.select_related("control_check", "resource", "account").order_by("pk")
    for finding in rows.iterator(chunk_size=2000):
        resource = finding.resource
        seen = finding.held_seen_at or last_seen.get((finding.account_id, resource.scan_unit))
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
        findings = findings.filter(resource_id__in=hooks.zone_member_ids(scope.zone_id))
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
    """Last seen per finding id: the last successful run of its account×unit (resolved: when;
    while its service is denied in that unit: the last run that read it)."""
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
    return {
        f.pk: f.resolved_at or f.held_seen_at or seen.get((f.account_id, f.resource.scan_unit))
        for f in findings
    }


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
    return findings.annotate(last_seen=Coalesce("resolved_at", "held_seen_at", Subquery(scanned)))
