"""Write one scan unit's outcome: resources, findings, their history, zones and coverage.

The caller runs this inside one transaction per unit, so a crashed or retried unit never leaves
half a region written. Only what changed is written: a re-scan that confirms a million findings
reads and compares them, and updates one AccountRegion row ("last seen" follows from it).
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import re
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
import psycopg
from django.core.exceptions import ValidationError
from django.db import connection

from cspm.bulk import insert_rows, update_rows, upsert_rows
from findings import hooks
from findings.models import (
    SEVERITY_RANK,
    AccountRegion,
    Check,
    CloudAccount,
    Finding,
    FindingEvent,
    Resource,
    Scan,
    ScanChange,
)
from findings.scanner import UnitOutcome
from findings.services.posture import queue_posture_recount

_JSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def to_json(value: Any) -> bytes:
    """Canonical JSON (sorted keys), fast: ingest serializes every result once.

    Safe to store: what PostgreSQL refuses (see ``db_json``) is left out."""
    try:
        raw = orjson.dumps(value, default=str, option=_JSON_OPTIONS)
    except orjson.JSONEncodeError:
        # A string that is not valid Unicode (a lone surrogate, from a JSON \ud800 escape in
        # an API response): serialize a copy with such characters replaced.
        raw = orjson.dumps(_valid_unicode(value), default=str, option=_JSON_OPTIONS)
    return db_json(raw)


# Cloud strings are anything their owners typed: a KMS key's description or a tag value may
# hold a NUL character, which PostgreSQL refuses in text (and, as \u0000, in jsonb), or a lone
# surrogate, which is not UTF-8 at all. The stored copy leaves NULs out and replaces what is not
# Unicode with "?", so that the unit lands instead of failing on its owner's odd byte.
_JSON_NUL = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def db_json(raw: bytes) -> bytes:
    """Serialized JSON without NUL characters (an escaped backslash before "u0000" stays)."""
    if b"\\u0000" not in raw:  # the usual case: one fast scan
        return raw
    return _JSON_NUL.sub(rb"\1", raw)


def db_text(value: str) -> str:
    """A string PostgreSQL text accepts: NULs left out, what is not Unicode replaced."""
    value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _valid_unicode(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, Mapping):
        return {_valid_unicode(str(k)): _valid_unicode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_valid_unicode(v) for v in value]
    return value


def digest(value: Any) -> str:
    """A short, stable digest of a JSON-serializable value."""
    return hashlib.blake2b(to_json(value), digest_size=16).hexdigest()


@dataclass
class IngestStats:
    skipped: bool = False
    # Seconds per phase (resources, load, compare, write, history, zones): where time goes.
    timings: dict[str, float] = field(default_factory=dict)
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
    findings_opened: int = 0  # new findings that fail
    findings_gone: int = 0  # open failures resolved because their resource is gone
    # The unit had no previous successful run: its results are a baseline, not changes.
    baseline: bool = False
    changes_recorded: int = 0  # ScanChange rows written


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


RESOURCE_COLUMNS = [
    "account_id",
    "region",
    "scan_unit",
    "resource_type",
    "arn",
    "name",
    "tags",
    "configuration",
    "digest",
    "first_seen",
    "gone_at",
]
FINDING_INSERT = [
    "control_check_id",
    "resource_id",
    "account_id",
    "region",
    "status",
    "evidence",
    "evidence_digest",
    "first_seen",
    "status_changed_at",
    "resolved_at",
    "last_scan_id",
    "acceptance_id",
]
FINDING_UPDATE = [
    "id",
    "status",
    "evidence",
    "evidence_digest",
    "status_changed_at",
    "resolved_at",
    "last_scan_id",
    "acceptance_id",
]
EVENT_COLUMNS = ["finding_id", "kind", "at", "scan_id", "evidence"]


def _unit_findings(account: CloudAccount, unit: str, services: Iterable[str]) -> Any:
    """The findings of the unit's resources from checks of ``services``."""
    return Finding.objects.filter(
        resource__account=account, resource__scan_unit=unit, control_check__service__in=services
    )


def _keep_unread_parts(
    refs: Mapping[str, Any], existing: Mapping[str, tuple], unread: set[int]
) -> dict[str, Any]:
    """Resources several services describe (the account: IAM, S3, CloudTrail, ...) keep, in
    their snapshot, what a failed service had written there before: top-level keys and tags
    the succeeded services did not report are carried over, so a denied service does not
    blank its part of the snapshot."""
    merged = dict(refs)
    keep = {existing[arn][0]: arn for arn in refs if arn in existing and existing[arn][0] in unread}
    if not keep:
        return merged
    stored = Resource.objects.filter(pk__in=keep).values_list("pk", "configuration", "tags")
    for pk, configuration, tags in stored:
        ref = refs[keep[pk]]
        merged[keep[pk]] = replace(
            ref,
            configuration={**(configuration or {}), **ref.configuration},
            tags={**(tags or {}), **ref.tags},
        )
    return merged


def _write_resources(
    account: CloudAccount,
    unit: str,
    refs: Mapping[str, Any],
    now: dt.datetime,
    stats: IngestStats,
    failed_services: Iterable[str] = (),
) -> tuple[dict[str, int], list[int], list[int]]:
    """Upsert the unit's resources; mark the unit's missing ones gone.

    A resource that a failed service judged is not marked gone when it is missing: that
    service was not read, so its absence proves nothing.

    Returns (arn -> id, ids of resources that changed, ids of resources now gone).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT arn, id, digest, gone_at IS NOT NULL FROM {Resource._meta.db_table} "  # noqa: S608
            "WHERE account_id = %s AND scan_unit = %s",
            [account.pk, unit],
        )
        # arn -> (id, digest, gone?); no timestamps to parse.
        existing = {row[0]: row[1:] for row in cursor.fetchall()}
    failed = sorted(failed_services)
    unread: set[int] = set()
    if failed:
        unread = set(_unit_findings(account, unit, failed).values_list("resource_id", flat=True))
        refs = _keep_unread_parts(refs, existing, unread)
    rows = []
    changed_arns = []
    for arn, ref in refs.items():
        res_digest = _resource_digest(ref)
        row = existing.get(arn)
        if row is not None and row[1] == res_digest and not row[2]:
            continue
        if row is not None:
            changed_arns.append(arn)
        rows.append(
            (
                account.pk,
                ref.region,
                unit,
                ref.resource_type,
                db_text(arn),
                db_text(ref.name)[:512],
                to_json(dict(ref.tags)).decode(),
                to_json(dict(ref.configuration)).decode(),
                res_digest,
                now,  # first_seen: kept on existing rows (see ``keep`` below)
                None,
            )
        )
    # An upsert on (account, arn): new rows, changed rows, and the rare resource that moved
    # from another unit, in one statement.
    written = upsert_rows(
        Resource, RESOURCE_COLUMNS, rows, ["account_id", "arn"], "arn", keep=["first_seen"]
    )
    gone_ids = [
        row[0]
        for arn, row in existing.items()
        if arn not in refs and not row[2] and row[0] not in unread
    ]
    if gone_ids:
        Resource.objects.filter(pk__in=gone_ids).update(gone_at=now)
    stats.resources_seen = len(refs)
    stats.resources_changed = len(changed_arns)
    stats.resources_new = len(rows) - len(changed_arns)
    stats.resources_gone = len(gone_ids)
    ids = {arn: row[0] for arn, row in existing.items()}
    ids.update(written)
    return ids, [ids[arn] for arn in changed_arns], gone_ids


# A finding's identity (check, resource) packed into one integer: dictionary keys that are
# plain ints make comparing a million results about twice as fast as tuple keys.
KEY_SHIFT = 40
KEY_MASK = (1 << KEY_SHIFT) - 1
# Stored state of a finding, as the load query encodes it.
PASSING, OPEN, RESOLVED = 0, 1, 2
FAIL, PASS = Finding.Status.FAIL.value, Finding.Status.PASS.value


def evidence_digest(raw: bytes) -> int:
    """A signed 64-bit digest of serialized evidence (fits a bigint column).

    CRC-32 and Adler-32 side by side: a change detector, not a security boundary (the status is
    compared on its own), and three times cheaper than a cryptographic hash per result.
    """
    value = (zlib.crc32(raw) << 32) | zlib.adler32(raw)
    return value - (1 << 64) if value >= 1 << 63 else value


def _existing_findings(account: CloudAccount, unit: str) -> dict[int, tuple[int, int]]:
    """The stored findings of the unit's resources: key -> (id * 4 + state, evidence digest).

    Plain integers only (no timestamps to parse): for a million rows the ORM's per-row overhead
    would dominate the re-scan. On PostgreSQL the columns come back as three binary arrays and
    the dictionary is built by C loops (``dict(zip(...))``).
    """
    finding, resource = Finding._meta.db_table, Resource._meta.db_table
    state = "CASE WHEN f.status = 'pass' THEN 0 WHEN f.resolved_at IS NULL THEN 1 ELSE 2 END"
    # Only table names from model metadata are interpolated; values are bound parameters.
    where = (
        f"FROM {finding} f WHERE f.resource_id IN (SELECT r.id FROM {resource} r "  # noqa: S608
        "WHERE r.account_id = %s AND r.scan_unit = %s)"
    )
    params = [1 << KEY_SHIFT, account.pk, unit]
    if connection.vendor == "postgresql":
        # Django's cursors bind client-side, which cannot ask for binary results.
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(
                f"SELECT array_agg((f.control_check_id * %s) + f.resource_id), "
                f"array_agg(f.id * 4 + {state}), array_agg(f.evidence_digest) {where}",
                params,
                binary=True,
            )
            keys, packed, digests = cursor.fetchone()
        return dict(zip(keys or [], zip(packed or [], digests or [], strict=True), strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (f.control_check_id * %s) + f.resource_id, f.id * 4 + {state}, "
            f"f.evidence_digest {where}",
            params,
        )
        return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}


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
    # Read under the lock: only a successful run sets it, so "never set" means this is the
    # unit's first successful run, and everything it finds is the baseline.
    stats.baseline = state.last_scanned_at is None

    clock = _Clock(stats.timings)
    check_pks = _check_ids(r.check_id for r in outcome.results)
    resource_ids, changed_resources, gone_resources = _write_resources(
        account, unit, outcome.resources, now, stats, outcome.failed_services
    )
    clock.lap("resources")
    # Millions of small tuples below trigger the cyclic garbage collector again and again
    # (each pass walks the whole heap); none of them form cycles, so pause it meanwhile.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _UnitIngest(
            scan=scan,
            outcome=outcome,
            now=now,
            stats=stats,
            clock=clock,
            state=state,
            check_pks=check_pks,
            resource_ids=resource_ids,
            changed_resources=changed_resources,
            gone_resources=gone_resources,
        ).run()
    finally:
        if collecting:
            gc.enable()


@dataclass
class _UnitIngest:
    """One account×unit's results written as named steps, in order (see ``run``): compare
    with what is stored, write what changed, resolve what is gone, let the treatment side
    follow (zones, coverage), record the scan's changes, mark the unit scanned. Each step
    reads the fields the earlier ones filled, so one can be changed without reading all."""

    scan: Scan
    outcome: UnitOutcome
    now: dt.datetime
    stats: IngestStats
    clock: _Clock
    state: AccountRegion
    check_pks: dict[str, int]
    resource_ids: dict[str, int]
    changed_resources: list[int]
    gone_resources: list[int]
    # Filled by compare(): rows to write, and (finding id, check id) of status changes for
    # the scan's change set (few per re-scan).
    inserts: list[tuple] = field(default_factory=list)
    status_changes: list[tuple] = field(default_factory=list)
    evidence_changes: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    fixed: list[tuple[int, int]] = field(default_factory=list)
    refailed: list[tuple[int, int]] = field(default_factory=list)
    # Filled by resolve_gone(): open failures on resources that went away.
    gone_findings: list[tuple[int, int]] = field(default_factory=list)

    @property
    def unit(self) -> str:
        return self.outcome.unit.region

    def run(self) -> IngestStats:
        self.compare()
        self.clock.lap("compare")
        self.write()
        self.clock.lap("write")
        self.resolve_gone()
        self.clock.lap("history")
        self.follow_treatment()
        self.clock.lap("zones and coverage")
        self.record_changes()
        self.hold_last_seen()
        self.mark_scanned()
        self.clock.lap("changes")
        # The unit moved the posture fingerprint: recount after the unit's commit.
        queue_posture_recount()
        return self.stats

    def compare(self) -> None:
        """Each result against the stored finding: new, confirmed, fixed, failing again, or
        new evidence."""
        scan, outcome, now, stats = self.scan, self.outcome, self.now, self.stats
        check_pks, resource_ids = self.check_pks, self.resource_ids
        existing = _existing_findings(scan.account, self.unit)
        self.clock.lap("load")
        inserts, status_changes, evidence_changes = (
            self.inserts,
            self.status_changes,
            self.evidence_changes,
        )
        events, fixed, refailed = self.events, self.fixed, self.refailed
        regions = {arn: ref.region for arn, ref in outcome.resources.items()}
        scan_pk, account_pk = scan.pk, scan.account.pk
        seen: set[int] = set()
        total = failed = 0
        dumps, options, crc32, adler32 = orjson.dumps, _JSON_OPTIONS, zlib.crc32, zlib.adler32
        # One pass, locals only: this loop runs once per result, a million times on a large
        # unit. (The digest is evidence_digest() inlined.)
        for result in outcome.results:
            key = (check_pks[result.check_id] << KEY_SHIFT) | resource_ids[result.resource_arn]
            if key in seen:
                raise ValueError(f"{result.check_id} judged {result.resource_arn} twice")
            seen.add(key)
            details = result.details
            evidence = {
                "summary": result.summary,
                "details": details if type(details) is dict else dict(details),
            }
            try:
                raw = dumps(evidence, default=str, option=options)
            except orjson.JSONEncodeError:
                raw = to_json(evidence)
            if b"\\u0000" in raw:
                raw = db_json(raw)
            ev_digest = (crc32(raw) << 32) | adler32(raw)
            if ev_digest >= 1 << 63:
                ev_digest -= 1 << 64
            status = result.status
            total += 1
            row = existing.get(key)
            if status == FAIL:
                failed += 1
            if row is None:
                inserts.append(
                    (
                        key >> KEY_SHIFT,
                        key & KEY_MASK,
                        account_pk,
                        regions[result.resource_arn],
                        status,
                        raw.decode(),
                        ev_digest,
                        now,
                        now,
                        None,
                        scan_pk,
                        None,
                    )
                )
                continue
            packed, old_digest = row
            old_state = packed & 3
            if old_digest == ev_digest and old_state == (OPEN if status == FAIL else PASSING):
                continue  # confirmed: nothing to write
            pk = packed >> 2
            stats.findings_changed += 1
            text = raw.decode()
            if status == PASS and old_state != PASSING:
                # Fixed (or, if it was resolved because its resource was gone, back and fixed).
                if old_state == OPEN:
                    stats.findings_resolved += 1
                    events.append((pk, "resolved", now, scan_pk, text))
                    fixed.append((pk, key >> KEY_SHIFT))
                status_changes.append((pk, status, text, ev_digest, now, now, scan_pk, None))
            elif status == FAIL and old_state != OPEN:
                # Failing again: it passed before, or its resource was gone and is back.
                stats.findings_reopened += 1
                events.append((pk, "reopened", now, scan_pk, text))
                refailed.append((pk, key >> KEY_SHIFT))
                status_changes.append((pk, status, text, ev_digest, now, None, scan_pk, None))
            else:  # same status, new evidence: status dates and coverage stay
                evidence_changes.append((pk, text, ev_digest, scan_pk))
        stats.findings_total, stats.findings_failed = total, failed

    def write(self) -> None:
        stats = self.stats
        if self.inserts:
            stats.findings_new = insert_rows(Finding, FINDING_INSERT, self.inserts)
            stats.findings_opened = sum(1 for row in self.inserts if row[4] == FAIL)
        update_rows(Finding, FINDING_UPDATE, self.status_changes)
        update_rows(
            Finding, ["id", "evidence", "evidence_digest", "last_scan_id"], self.evidence_changes
        )

    def resolve_gone(self) -> None:
        """Open failures on resources that went away are resolved; every status change of
        this unit goes into the findings' history."""
        now = self.now
        if self.gone_resources:
            gone = Finding.objects.filter(
                resource_id__in=self.gone_resources, status=FAIL, resolved_at__isnull=True
            )
            self.gone_findings = list(gone.values_list("pk", "control_check_id"))
            gone.update(resolved_at=now, acceptance=None, status_changed_at=now)
            self.stats.findings_gone = len(self.gone_findings)
            self.events.extend(
                (pk, "gone", now, self.scan.pk, "{}") for pk, _ in self.gone_findings
            )
        insert_rows(FindingEvent, EVENT_COLUMNS, self.events)

    def follow_treatment(self) -> None:
        """Zones follow the resources; coverage follows zones and new or reopened failures."""
        stats = self.stats
        hooks.on_unit_ingested(
            hooks.UnitIngested(
                account_id=self.scan.account.pk,
                unit=self.unit,
                scan_id=self.scan.pk,
                changed_resource_ids=self.changed_resources,
                zones_may_change=bool(
                    stats.resources_new or self.changed_resources or self.gone_resources
                ),
            )
        )

    def record_changes(self) -> None:
        if self.stats.baseline:
            return
        # After coverage, so each new failure records whether an acceptance already covers it.
        new_keys = [(row[0], row[1]) for row in self.inserts if row[4] == FAIL]
        self.stats.changes_recorded = _record_changes(
            self.scan,
            self.unit,
            self.now,
            new_keys,
            self.refailed,
            self.fixed,
            self.gone_findings,
        )

    def hold_last_seen(self) -> None:
        """Findings of a failed service were not seen by this run: they keep the last time
        they were (their unit's previous successful run), while the unit's last run moves on.
        Once their service is read again, they follow the unit again."""
        account, unit = self.scan.account, self.unit
        failed = sorted(self.outcome.failed_services)
        previous = self.state.last_scanned_at
        if failed and previous is not None:
            _unit_findings(account, unit, failed).filter(
                held_seen_at__isnull=True, resolved_at__isnull=True
            ).update(held_seen_at=previous)
        evaluated = sorted(self.outcome.evaluated_services)
        if evaluated:
            # Served by the partial index on held_seen_at: nearly always nothing to clear.
            _unit_findings(account, unit, evaluated).filter(held_seen_at__isnull=False).update(
                held_seen_at=None
            )

    def mark_scanned(self) -> None:
        AccountRegion.objects.filter(pk=self.state.pk).update(
            last_scan=self.scan, last_scanned_at=self.now
        )


def check_severities(check_pks: Iterable[int]) -> dict[int, str]:
    """check id -> the highest severity among the controls it evidences ("" for none)."""
    ranked: dict[int, str] = {}
    pairs = Check.controls.through.objects.filter(check_id__in=set(check_pks)).values_list(
        "check_id", "control__severity"
    )
    for check_pk, severity in pairs:
        if SEVERITY_RANK.get(severity, 0) > SEVERITY_RANK.get(ranked.get(check_pk, ""), 0):
            ranked[check_pk] = severity
    return ranked


def _new_failure_ids(
    scan: Scan, unit: str, now: dt.datetime, keys: list[tuple[int, int]]
) -> list[tuple[int, int, bool]]:
    """(finding id, check id, accepted?) of the failing findings this ingest inserted."""
    if not keys:
        return []
    if connection.vendor == "postgresql":
        # Joined on the unique (check, resource) index, one statement for any number of keys:
        # COPY does not return the ids it inserted.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT f.id, f.control_check_id, f.acceptance_id IS NOT NULL "  # noqa: S608
                f"FROM {Finding._meta.db_table} f "
                "JOIN unnest(%s::bigint[], %s::bigint[]) AS k(check_id, resource_id) "
                "ON f.control_check_id = k.check_id AND f.resource_id = k.resource_id",
                [[k[0] for k in keys], [k[1] for k in keys]],
            )
            return [(pk, check, bool(accepted)) for pk, check, accepted in cursor.fetchall()]
    # The embedded default holds small estates: the unit's rows this scan created.
    rows = Finding.objects.filter(
        resource__account_id=scan.account_id,
        resource__scan_unit=unit,
        last_scan=scan,
        first_seen=now,
        status=FAIL,
    ).values_list("pk", "control_check_id", "acceptance_id")
    return [(pk, check, accepted is not None) for pk, check, accepted in rows]


def _accepted_ids(finding_ids: list[int]) -> set[int]:
    accepted: set[int] = set()
    for start in range(0, len(finding_ids), 5000):
        accepted.update(
            Finding.objects.filter(
                pk__in=finding_ids[start : start + 5000], acceptance__isnull=False
            ).values_list("pk", flat=True)
        )
    return accepted


CHANGE_COLUMNS = ["scan_id", "kind", "finding_id", "acceptance_id", "accepted", "severity", "at"]


def _record_changes(
    scan: Scan,
    unit: str,
    now: dt.datetime,
    new_keys: list[tuple[int, int]],
    refailed: list[tuple[int, int]],
    fixed: list[tuple[int, int]],
    gone: list[tuple[int, int]],
) -> int:
    """Write the unit's change set (ScanChange rows) with one COPY; return how many.

    Called inside the unit's transaction, so the rows exist exactly when the unit's writes do.
    """
    inserted = _new_failure_ids(scan, unit, now, new_keys)
    accepted = _accepted_ids([pk for pk, _ in refailed])
    checks = {c for _, c, _ in inserted} | {c for _, c in [*refailed, *fixed, *gone]}
    if not checks:
        return 0
    severity = check_severities(checks)
    new_failure, fixed_kind, gone_kind = (
        ScanChange.Kind.NEW_FAILURE.value,
        ScanChange.Kind.FIXED.value,
        ScanChange.Kind.GONE.value,
    )
    rows = [
        (scan.pk, new_failure, pk, None, is_accepted, severity.get(check, ""), now)
        for pk, check, is_accepted in inserted
    ]
    rows.extend(
        (scan.pk, new_failure, pk, None, pk in accepted, severity.get(check, ""), now)
        for pk, check in refailed
    )
    rows.extend((scan.pk, fixed_kind, pk, None, False, severity.get(c, ""), now) for pk, c in fixed)
    rows.extend((scan.pk, gone_kind, pk, None, False, severity.get(c, ""), now) for pk, c in gone)
    return insert_rows(ScanChange, CHANGE_COLUMNS, rows)


class _Clock:
    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self.last, 3)
        self.last = now
