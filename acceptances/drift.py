"""Drift alerts: after a scan, tell each person watching a zone what newly fails there and what
got fixed, in one email.

What a watcher hears about, across every zone they watch (each finding once):

* newly failing findings of the scan (``ScanChange`` new_failure) that no acceptance covered,
* fixed findings, and failures resolved because their resource is gone,

each at or above the minimum severity of a watch whose zone holds the finding's resource (the
built-in zone holds everything). Nothing to report: no email.

Newly failing findings are listed by control, per benchmark the watch chose (the default one
when it chose none; disabled ones are left out): a check deciding controls in several
benchmarks gives one line per control in each, and a resource is listed once under a control
however many of its checks newly fail there.

Exactly once: before its email goes out, each (scan, watcher) is claimed with a ``DriftAlert``
row (``INSERT ... ON CONFLICT DO NOTHING RETURNING``), committed on its own; only the run whose
insert wins sends. After the claim:

* the mail server cannot be reached (the connection does not open): the email certainly did not
  leave, so the claim is released (deleted) and the task retries later;
* the server was reached but sending failed (refused recipient, connection lost mid-message):
  the server may have taken it, so the claim stays, with the error, and it is never resent.
  "Never two" wins over "always one": the scan page still lists every change;
* the sender dies between claim and send: the claim stays without ``sent_at``; never resent.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection
from django.db import connection, transaction
from django.utils import timezone

from acceptances.models import DriftAlert, Zone, ZoneMembership, ZoneWatch
from cspm.email import send_templated
from findings.models import SEVERITY_RANK, Benchmark, Check, Control, Scan, ScanChange
from findings.queries import ChangeRow, get_default_benchmark, get_scan_changes

logger = logging.getLogger(__name__)

# Items listed per section of an email; the rest are counted, with a link to the scan page.
MAX_ITEMS = 100

REPORTED_KINDS = (ScanChange.Kind.NEW_FAILURE, ScanChange.Kind.FIXED, ScanChange.Kind.GONE)


def scan_url(scan_id: int) -> str:
    return f"{settings.SITE_URL}/scans/{scan_id}/"


def resource_url(resource_id: int) -> str:
    return f"{settings.SITE_URL}/resources/{resource_id}/"


def control_url(control_pk: int) -> str:
    return f"{settings.SITE_URL}/controls/{control_pk}/"


@dataclass
class Digest:
    """What one watcher's email about one scan lists."""

    user_id: int
    email: str
    name: str
    new_failures: list[ChangeRow] = field(default_factory=list)
    fixed: list[ChangeRow] = field(default_factory=list)
    zones: list[str] = field(default_factory=list)
    # Change id -> the benchmarks (pks) whose controls list it: those of the watches it matched.
    benchmarks_of: dict[int, set[int]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.new_failures and not self.fixed


@dataclass
class AlertReport:
    """What a run decided and what came of it (addresses)."""

    scan_id: int
    digests: dict[int, Digest] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)
    # Claimed by an earlier or concurrent run: not ours to send.
    already_claimed: list[str] = field(default_factory=list)
    # Sending failed after reaching the server: kept claimed, not resent (see the module doc).
    failed: list[str] = field(default_factory=list)
    # The server could not be reached: released, to be tried again.
    released: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WatchRule:
    zone: Zone
    rank: int  # minimum severity rank
    benchmarks: frozenset[int]  # benchmark pks whose controls list the findings


def _watch_rules() -> dict[int, list[WatchRule]]:
    """user id -> the watches of the active watchers who may read findings, each with its
    zone, minimum severity rank and (enabled) benchmarks: the default one when none is."""
    rules: dict[int, list[WatchRule]] = defaultdict(list)
    watches = (
        ZoneWatch.objects.select_related("zone", "user")
        .prefetch_related("benchmarks")
        .filter(user__is_active=True)
    )
    default = get_default_benchmark()
    allowed: dict[int, bool] = {}
    for watch in watches:
        user = watch.user
        if user.pk not in allowed:
            # Roles may have changed since the watch began: alerts list findings.
            allowed[user.pk] = bool(user.email) and user.has_perm("findings.view_finding")
        if allowed[user.pk]:
            chosen = frozenset(b.pk for b in watch.benchmarks.all() if b.enabled)
            if not chosen and default is not None:
                chosen = frozenset({default.pk})
            rules[user.pk].append(
                WatchRule(watch.zone, SEVERITY_RANK.get(watch.min_severity, 0), chosen)
            )
    return rules


def _zones_of(resource_ids: set[int], zone_ids: set[int]) -> dict[int, set[int]]:
    """resource id -> the watched (non built-in) zones holding it."""
    zones: dict[int, set[int]] = defaultdict(set)
    ids = sorted(resource_ids)
    for start in range(0, len(ids), 5000):
        pairs = ZoneMembership.objects.filter(
            resource_id__in=ids[start : start + 5000], zone_id__in=zone_ids
        ).values_list("resource_id", "zone_id")
        for resource_id, zone_id in pairs:
            zones[resource_id].add(zone_id)
    return zones


def plan_drift_alerts(scan_id: int) -> dict[int, Digest]:
    """user id -> the digest each watcher is owed for the scan (only non-empty ones)."""
    rules = _watch_rules()
    if not rules:
        return {}
    changes = [
        c
        for c in get_scan_changes(scan_id, kinds=REPORTED_KINDS)
        # An accepted new failure is a decision already taken, not news.
        if not (c.kind == ScanChange.Kind.NEW_FAILURE and c.accepted)
    ]
    if not changes:
        return {}
    watched = {r.zone.pk for rs in rules.values() for r in rs if not r.zone.is_builtin}
    zones_of = _zones_of({c.resource_id for c in changes if c.resource_id}, watched)
    users = get_user_model().objects.in_bulk(list(rules))
    digests: dict[int, Digest] = {}
    for user_id, watches in rules.items():
        user = users[user_id]
        digest = Digest(user_id, user.email, user.get_full_name() or user.get_username())
        matched_zones: set[str] = set()
        for change in changes:
            # Each finding once, however many of the user's zones hold it.
            holders = [
                rule
                for rule in watches
                if (rule.zone.is_builtin or rule.zone.pk in zones_of.get(change.resource_id, ()))
                and change.severity_rank >= rule.rank
            ]
            if not holders:
                continue
            matched_zones.update(rule.zone.name for rule in holders)
            if change.kind == ScanChange.Kind.NEW_FAILURE:
                digest.new_failures.append(change)
                digest.benchmarks_of[change.id] = set().union(*(r.benchmarks for r in holders))
            else:
                digest.fixed.append(change)
        if not digest.empty:
            digest.zones = sorted(matched_zones)
            digests[user_id] = digest
    return digests


def _item(change: ChangeRow) -> dict[str, Any]:
    """What an email says about one change: plain values."""
    first = change.controls[0] if change.controls else None
    return {
        "kind": change.kind,
        "control_refs": change.control_refs or change.check_id,
        "control_title": first.title if first else change.check_id,
        "control_url": control_url(first.pk) if first else "",
        "resource": change.resource_label,
        "resource_arn": change.resource_arn,
        "resource_type": change.resource_type,
        "region": change.region,
        "account_id": change.account_id,
        "severity": change.severity.capitalize() if change.severity else "Unrated",
        "summary": change.evidence_summary,
        "resource_url": resource_url(change.resource_id) if change.resource_id else "",
    }


def _benchmark_sections(digest: Digest) -> list[dict[str, Any]]:
    """The newly failing findings by benchmark, then control (benchmark order, catalog
    order): one line per control, each resource once under it. The cut at ``MAX_ITEMS``
    counts resource lines per benchmark."""
    wanted = set().union(*digest.benchmarks_of.values()) if digest.benchmarks_of else set()
    if not wanted:
        return []
    checks = {c.check_id for c in digest.new_failures}
    controls_of: dict[tuple[str, int], list[Control]] = defaultdict(list)
    for link in (
        Check.controls.through.objects.filter(
            check__check_id__in=sorted(checks), control__benchmark_id__in=sorted(wanted)
        )
        .select_related("check", "control")
        .order_by("control__position")
    ):
        controls_of[(link.check.check_id, link.control.benchmark_id)].append(link.control)
    benchmarks = sorted(
        Benchmark.objects.filter(pk__in=wanted),
        key=lambda b: (b.slug, Control.sort_key(b.version)),
    )
    sections = []
    for benchmark in benchmarks:
        lines: dict[int, dict[str, Any]] = {}
        for change in digest.new_failures:
            if benchmark.pk not in digest.benchmarks_of.get(change.id, ()):
                continue
            for control in controls_of.get((change.check_id, benchmark.pk), []):
                line = lines.setdefault(
                    control.pk,
                    {
                        "control": control,
                        "ref": control.ref,
                        "title": control.title,
                        "severity": control.get_severity_display(),
                        "control_url": control_url(control.pk),
                        "resources": {},
                    },
                )
                key = change.resource_id or change.resource_arn
                # A resource once per control, however many of its checks newly fail.
                line["resources"].setdefault(key, _item(change))
        ordered = sorted(lines.values(), key=lambda line: line["control"].position)
        shown, budget = [], MAX_ITEMS
        total = sum(len(line["resources"]) for line in ordered)
        for line in ordered:
            if budget <= 0:
                break
            resources = list(line["resources"].values())[:budget]
            budget -= len(resources)
            shown.append({**line, "resources": resources})
        if ordered:
            sections.append(
                {
                    "benchmark": f"{benchmark.name} v{benchmark.version}",
                    "controls": shown,
                    "more": max(0, total - MAX_ITEMS),
                }
            )
    # A failure no chosen benchmark's control reads still counts: listed by its check.
    others = [
        c
        for c in digest.new_failures
        if not any((c.check_id, b) in controls_of for b in digest.benchmarks_of.get(c.id, ()))
    ]
    if others:
        by_check: dict[str, dict[str, Any]] = {}
        for change in others[:MAX_ITEMS]:
            line = by_check.setdefault(
                change.check_id,
                {
                    "ref": change.check_id,
                    "title": "(a check none of your benchmarks' controls reads)",
                    "severity": change.severity.capitalize() if change.severity else "Unrated",
                    "control_url": "",
                    "resources": {},
                },
            )
            line["resources"].setdefault(change.resource_id or change.resource_arn, _item(change))
        sections.append(
            {
                "benchmark": "Other checks",
                "controls": [
                    {**x, "resources": list(x["resources"].values())} for x in by_check.values()
                ],
                "more": max(0, len(others) - MAX_ITEMS),
            }
        )
    return sections


def _context(scan: Scan, digest: Digest) -> dict[str, Any]:
    return {
        "new_by_benchmark": _benchmark_sections(digest),
        "name": digest.name,
        "scan": scan,
        "account": scan.account,
        "scan_url": scan_url(scan.pk),
        "zones": digest.zones,
        "new_count": len(digest.new_failures),
        "fixed_count": len(digest.fixed),
        "new_failures": [_item(c) for c in digest.new_failures[:MAX_ITEMS]],
        "new_more": max(0, len(digest.new_failures) - MAX_ITEMS),
        "fixed": [_item(c) for c in digest.fixed[:MAX_ITEMS]],
        "fixed_more": max(0, len(digest.fixed) - MAX_ITEMS),
    }


def _claim(scan_id: int, digest: Digest, now) -> int | None:
    """Insert the (scan, watcher) claim and commit it; its id if this run won, else None.

    As ``notifications._claim_many``: RETURNING lists only the row actually inserted, on
    PostgreSQL (where a concurrent insert of the same key waits for the other transaction, then
    skips the row if it committed) and on SQLite (one writer at a time) alike.
    """
    table = DriftAlert._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} "  # noqa: S608 - the table name comes from model metadata
            "(scan_id, user_id, email, claimed_at, new_failures, fixed, error) "
            "VALUES (%s, %s, %s, %s, %s, %s, '') "
            "ON CONFLICT (scan_id, user_id) DO NOTHING RETURNING id",
            [
                scan_id,
                digest.user_id,
                digest.email,
                DriftAlert._meta.get_field("claimed_at").get_db_prep_save(now, connection),
                len(digest.new_failures),
                len(digest.fixed),
            ],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def send_drift_alerts(scan_id: int) -> AlertReport:
    """Email each watcher what the scan changed in their zones; at most once per watcher.

    Run outside a transaction (as the task does): each claim commits before its email leaves.
    Safe to run any number of times, concurrently too; see the module doc for failures.
    """
    report = AlertReport(scan_id=scan_id)
    scan = Scan.objects.select_related("account").filter(pk=scan_id).first()
    if scan is None or scan.state not in (Scan.State.SUCCEEDED, Scan.State.PARTIAL):
        return report  # gone, failed (it changed nothing), or not closed yet
    report.digests = plan_drift_alerts(scan_id)
    for digest in report.digests.values():
        claim = _claim(scan_id, digest, timezone.now())
        if claim is None:
            report.already_claimed.append(digest.email)
            continue
        _deliver(scan, digest, claim, report)
    return report


def _deliver(scan: Scan, digest: Digest, claim: int, report: AlertReport) -> None:
    mailer = get_connection()
    try:
        mailer.open()
    except Exception as exc:
        # Nothing left: releasing is safe, and lets the retry send it.
        DriftAlert.objects.filter(pk=claim).delete()
        report.released.append(digest.email)
        logger.warning(
            "Drift alert of scan %s to %s not sent, mail server unreachable (%s); will retry",
            scan.pk,
            digest.email,
            exc,
        )
        return
    try:
        send_templated("drift-alert", [digest.email], _context(scan, digest), connection=mailer)
    except Exception as exc:
        # The server may have taken it: keep the claim so it is never sent twice.
        DriftAlert.objects.filter(pk=claim).update(error=f"{type(exc).__name__}: {exc}"[:2000])
        report.failed.append(digest.email)
        logger.exception("Drift alert of scan %s to %s failed", scan.pk, digest.email)
    else:
        DriftAlert.objects.filter(pk=claim).update(sent_at=timezone.now())
        report.sent.append(digest.email)
    finally:
        try:
            mailer.close()
        except Exception:  # closing a broken connection must not hide the outcome
            logger.debug("closing the mail connection failed", exc_info=True)
