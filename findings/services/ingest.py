"""Write one scan unit's outcome: resources, findings, their history, zones and coverage.

The caller runs this inside one transaction per unit, so a crashed or retried unit never leaves
half a region written. Only what changed is written: a re-scan that confirms a million findings
reads and compares them, and updates one AccountRegion row ("last seen" follows from it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q

from acceptances.services import refresh_coverage, refresh_memberships_for
from findings.models import (
    AccountRegion,
    Check,
    CloudAccount,
    Finding,
    FindingEvent,
    Resource,
    Scan,
)
from findings.scanner import UnitOutcome

BATCH = 5000


def digest(value: Any) -> str:
    """A short, stable digest of a JSON-serializable value."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@dataclass
class IngestStats:
    skipped: bool = False
    resources_seen: int = 0
    resources_new: int = 0
    resources_changed: int = 0
    resources_gone: int = 0
    findings_total: int = 0
    findings_failed: int = 0
    findings_new: int = 0
    findings_changed: int = 0
    findings_resolved: int = 0
    findings_reopened: int = 0
    newly_failing: list[int] = field(default_factory=list)
    fixed: list[int] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)


def _check_ids(check_ids: Iterable[str]) -> dict[str, int]:
    wanted = set(check_ids)
    found = dict(Check.objects.filter(check_id__in=wanted).values_list("check_id", "pk"))
    missing = wanted - found.keys()
    if missing:
        raise ValidationError(
            f"Checks {', '.join(sorted(missing))} have no row; run 'manage.py load_catalog'."
        )
    return found


def _resource_digest(ref: Any) -> str:
    return digest([ref.resource_type, ref.region, ref.name, ref.tags, ref.configuration])


def _write_resources(
    account: CloudAccount, unit: str, refs: Mapping[str, Any], now: dt.datetime, stats: IngestStats
) -> tuple[dict[str, int], list[int], list[int]]:
    """Upsert the unit's resources; mark the unit's missing ones gone.

    Returns (arn -> id, ids of new or changed resources, ids of resources now gone).
    """
    existing = {
        arn: (pk, res_digest, gone_at)
        for pk, arn, res_digest, gone_at in Resource.objects.filter(
            account=account, scan_unit=unit
        ).values_list("pk", "arn", "digest", "gone_at")
    }
    create: list[Resource] = []
    update: list[Resource] = []
    for arn, ref in refs.items():
        res_digest = _resource_digest(ref)
        row = existing.get(arn)
        if row is not None and row[1] == res_digest and row[2] is None:
            continue
        resource = Resource(
            pk=row[0] if row else None,
            account=account,
            region=ref.region,
            scan_unit=unit,
            resource_type=ref.resource_type,
            arn=arn,
            name=ref.name[:512],
            tags=dict(ref.tags),
            configuration=dict(ref.configuration),
            digest=res_digest,
            first_seen=now,
            gone_at=None,
        )
        (update if row else create).append(resource)
    if create:
        # A resource may move between units (rare: a service changing scope): the upsert on
        # (account, arn) takes it over instead of failing.
        Resource.objects.bulk_create(
            create,
            batch_size=BATCH,
            update_conflicts=True,
            unique_fields=["account", "arn"],
            update_fields=[
                "region",
                "scan_unit",
                "resource_type",
                "name",
                "tags",
                "configuration",
                "digest",
                "gone_at",
            ],
        )
    if update:
        Resource.objects.bulk_update(
            update,
            ["region", "resource_type", "name", "tags", "configuration", "digest", "gone_at"],
            batch_size=BATCH,
        )
    gone_ids = [
        pk for arn, (pk, _, gone_at) in existing.items() if arn not in refs and gone_at is None
    ]
    if gone_ids:
        Resource.objects.filter(pk__in=gone_ids).update(gone_at=now)
    stats.resources_seen = len(refs)
    stats.resources_new = len(create)
    stats.resources_changed = len(update)
    stats.resources_gone = len(gone_ids)
    ids = {arn: row[0] for arn, row in existing.items()}
    if create:
        ids.update(
            Resource.objects.filter(account=account, arn__in=[r.arn for r in create]).values_list(
                "arn", "pk"
            )
        )
    changed = [r.pk for r in update] + [ids[r.arn] for r in create]
    return ids, changed, gone_ids


def ingest_unit(scan: Scan, outcome: UnitOutcome, now: dt.datetime) -> IngestStats:
    """Write one unit's outcome. Must run inside a transaction (the caller's)."""
    stats = IngestStats()
    account = scan.account
    unit = outcome.unit.region
    state, _ = AccountRegion.objects.get_or_create(account=account, region=unit)
    # One writer per account×unit at a time: two scans of the same account (or a retried task
    # racing its original) serialize here and each compares against what the other wrote.
    state = AccountRegion.objects.select_for_update().get(pk=state.pk)
    if state.last_scan_id is not None and state.last_scan_id > scan.pk:
        # A newer scan already wrote this unit; older observations must not overwrite it.
        stats.skipped = True
        return stats

    check_pks = _check_ids(r.check_id for r in outcome.results)
    resource_ids, changed_resources, gone_resources = _write_resources(
        account, unit, outcome.resources, now, stats
    )

    existing: dict[tuple[int, int], tuple[int, str, str, dt.datetime | None]] = {
        (check_id, resource_id): (pk, status, ev_digest, resolved_at)
        for pk, check_id, resource_id, status, ev_digest, resolved_at in Finding.objects.filter(
            resource__account=account, resource__scan_unit=unit
        ).values_list(
            "pk", "control_check_id", "resource_id", "status", "evidence_digest", "resolved_at"
        )
    }
    create: list[Finding] = []
    update: list[tuple[Finding, tuple[str, ...]]] = []
    events: list[FindingEvent] = []
    reopened: list[int] = []
    seen: set[tuple[int, int]] = set()
    for result in outcome.results:
        key = (check_pks[result.check_id], resource_ids[result.resource_arn])
        if key in seen:
            raise ValueError(f"{result.check_id} judged {result.resource_arn} twice")
        seen.add(key)
        evidence = result.evidence
        ev_digest = digest(evidence)
        stats.findings_total += 1
        stats.findings_failed += result.status == Finding.Status.FAIL
        row = existing.get(key)
        if row is None:
            create.append(
                Finding(
                    control_check_id=key[0],
                    resource_id=key[1],
                    account=account,
                    region=outcome.resources[result.resource_arn].region,
                    status=result.status,
                    evidence=evidence,
                    evidence_digest=ev_digest,
                    first_seen=now,
                    status_changed_at=now,
                    last_scan=scan,
                )
            )
            continue
        pk, status, old_digest, resolved_at = row
        was_open = status == Finding.Status.FAIL and resolved_at is None
        if (
            status == result.status
            and old_digest == ev_digest
            and (result.status == Finding.Status.PASS or was_open)
        ):
            continue  # confirmed, nothing to write
        finding = Finding(
            pk=pk,
            status=result.status,
            evidence=evidence,
            evidence_digest=ev_digest,
            status_changed_at=now,
            resolved_at=None,
            last_scan=scan,
            acceptance=None,
        )
        fields: tuple[str, ...] = ("evidence", "evidence_digest", "last_scan")
        if result.status == Finding.Status.PASS and status == Finding.Status.FAIL:
            # Fixed (or, when it was resolved because its resource was gone, back and fixed).
            finding.resolved_at = resolved_at or now
            fields += ("status", "status_changed_at", "resolved_at", "acceptance")
            if was_open:
                stats.findings_resolved += 1
                stats.fixed.append(pk)
                events.append(
                    FindingEvent(
                        finding_id=pk, kind="resolved", at=now, scan=scan, evidence=evidence
                    )
                )
        elif result.status == Finding.Status.FAIL and not was_open:
            # Failing again: it passed before, or its resource was gone and is back.
            fields += ("status", "status_changed_at", "resolved_at")
            stats.findings_reopened += 1
            reopened.append(pk)
            events.append(
                FindingEvent(finding_id=pk, kind="reopened", at=now, scan=scan, evidence=evidence)
            )
        stats.findings_changed += 1
        update.append((finding, fields))

    if create:
        # PostgreSQL and SQLite return the new primary keys from a bulk insert.
        Finding.objects.bulk_create(create, batch_size=BATCH)
        new_fail_ids = [f.pk for f in create if f.status == Finding.Status.FAIL]
        stats.newly_failing.extend(new_fail_ids)
        events.extend(
            FindingEvent(finding_id=pk, kind="opened", at=now, scan=scan) for pk in new_fail_ids
        )
        stats.findings_new = len(create)
    # Group updates by the set of fields they change: one bulk_update per group.
    groups: dict[tuple[str, ...], list[Finding]] = {}
    for finding, changed_fields in update:
        groups.setdefault(changed_fields, []).append(finding)
    for changed_fields, findings in groups.items():
        Finding.objects.bulk_update(findings, list(changed_fields), batch_size=BATCH)

    if gone_resources:
        gone = Finding.objects.filter(
            resource_id__in=gone_resources, status=Finding.Status.FAIL, resolved_at__isnull=True
        )
        gone_ids = list(gone.values_list("pk", flat=True))
        gone.update(resolved_at=now, acceptance=None, status_changed_at=now)
        stats.gone.extend(gone_ids)
        events.extend(
            FindingEvent(finding_id=pk, kind="gone", at=now, scan=scan) for pk in gone_ids
        )
    if events:
        FindingEvent.objects.bulk_create(events, batch_size=BATCH)

    # Zones follow the resources; coverage follows zones and new or reopened failures.
    if changed_resources or gone_resources:
        refresh_memberships_for(changed_resources + gone_resources)
    stats.newly_failing.extend(reopened)
    to_cover = Q(pk__in=stats.newly_failing)
    if changed_resources:
        to_cover |= Q(resource_id__in=changed_resources)
    if stats.newly_failing or changed_resources:
        refresh_coverage(Finding.objects.filter(to_cover))

    AccountRegion.objects.filter(pk=state.pk).update(last_scan=scan, last_scanned_at=now)
    return stats
