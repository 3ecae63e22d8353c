"""What a scan changed (drift): its change rows with what a list or an email shows, their
counts per kind, and the last finished scan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.db.models.fields.json import KeyTextTransform

from findings.models import (
    SEVERITY_RANK,
    Check,
    CloudAccount,
    Control,
    Scan,
    ScanChange,
    ScanRegion,
)
from findings.queries.posture import POSTURE_CACHE_SECONDS, get_default_benchmark

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
    return count_changes(scan.pk)


def count_changes(scan_id: int) -> dict[str, object]:
    """The scan's changes counted per kind (see ``Scan.change_counts``), from its rows."""
    per_kind = dict(
        ScanChange.objects.filter(scan_id=scan_id)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    counts: dict[str, object] = {kind: per_kind.get(kind, 0) for kind in ScanChange.Kind.values}
    counts["accepted"] = ScanChange.objects.filter(
        scan_id=scan_id, kind=ScanChange.Kind.NEW_FAILURE, accepted=True
    ).count()
    counts["baseline_units"] = sorted(
        ScanRegion.objects.filter(scan_id=scan_id, baseline=True).values_list("region", flat=True)
    )
    return counts


def get_last_finished_scan(account: CloudAccount | None = None) -> Scan | None:
    """The most recently finished scan that wrote something (succeeded or partial), of
    ``account`` or of any account."""
    scans = Scan.objects.filter(state__in=[Scan.State.SUCCEEDED, Scan.State.PARTIAL])
    if account is not None:
        scans = scans.filter(account=account)
    return scans.select_related("account").order_by("-finished_at", "-pk").first()
