"""Compensating controls that are checked, and re-review on material change (issue 14).

Both are decided after every scan (``acceptances.hooks.on_scan_closed``, inside the transaction
that closes the scan), and both only ever act on what the last scans stored in ``Finding``:

* An acceptance may name other controls of its benchmark as compensating
  (``CompensatingControl``). Without a resource, one holds while no finding of it fails in the
  acceptance's own scope; with a resource, that control must pass on that resource. While any
  fails the acceptance is *suspended*: it covers nothing, so its findings count as failing again
  at once; when all pass again it resumes. A control whose service was denied in a scan is not
  evaluated by that scan: its findings keep their stored status (ingest leaves them alone), so
  the verdict stays the previous one.
* When an acceptance becomes active, ``take_review_baseline`` keeps the evidence of each finding
  it covers (resource-scoped) or its zone's size (zone-scoped). A later scan that sees other
  evidence, or the zone grown past ``CSPM_REVIEW_ZONE_GROWTH``, flags it "needs re-review";
  nothing else changes until a person marks it reviewed (or edits or revokes it).

Every transition is claimed with a conditional UPDATE (on ``state``, or on
``review_flagged_at IS NULL``), so a retried or duplicated after-scan task records and emails
each suspension, resumption and flag exactly once; the emails go out after the commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from acceptances import outbox
from acceptances.models import (
    AcceptanceEvent,
    CompensatingControl,
    ReviewBaseline,
    RiskAcceptance,
    ZoneMembership,
    ZoneWatch,
)
from acceptances.services.coverage import _cover, _findings_in_scope, _uncover
from acceptances.services.history import _record, _require
from findings.models import SEVERITY_RANK, Control, Finding, Resource

logger = logging.getLogger(__name__)

# States in which compensating controls and baselines are checked: an acceptance in force, or
# one suspended by a failing compensating control (so that it can resume).
CHECKED_STATES = (RiskAcceptance.State.ACTIVE, RiskAcceptance.State.SUSPENDED)

# A compensating control as a caller names it: the control, and optionally one resource.
Named = tuple[Control, Resource | None]


def _label(control: Control, resource: Resource | None) -> str:
    if resource is None:
        return control.ref
    return f"{control.ref} on {resource.name or resource.arn}"


def compensating_labels(acceptance: RiskAcceptance) -> list[str]:
    """The acceptance's compensating controls as the history records them."""
    rows = acceptance.compensating_controls.select_related("control", "resource")
    return [_label(row.control, row.resource) for row in rows]


# --- Naming compensating controls ----------------------------------------------------------------


def validate_compensating_controls(
    accepted: Control, named: Sequence[Named], *, field: str = "compensating_controls"
) -> None:
    """Every named control is another automated control of the accepted control's benchmark,
    and a named resource has a finding of it; raises ValidationError keyed by ``field``."""
    problems: list[str] = []
    seen: set[tuple[int, int | None]] = set()
    for control, resource in named:
        key = (control.pk, getattr(resource, "pk", None))
        label = _label(control, resource)
        if key in seen:
            problems.append(f"{label} is named twice.")
            continue
        seen.add(key)
        if control.pk == accepted.pk:
            problems.append(f"{control.ref} is the accepted control itself: it cannot compensate.")
        elif control.benchmark_id != accepted.benchmark_id:
            problems.append(f"{control.ref} is not a control of the accepted control's benchmark.")
        elif not control.checks.exists():
            problems.append(f"{control.ref} is not checked by any scan: it cannot be verified.")
        elif resource is not None and not (
            Finding.objects.filter(resource=resource, control_check__controls=control).exists()
        ):
            problems.append(
                f"{control.ref} is not evaluated on {resource.name or resource.arn}: "
                "there is no finding of it there to check."
            )
        elif resource is not None and resource.gone_at is not None:
            problems.append(f"{resource.name or resource.arn} is gone.")
    if problems:
        raise ValidationError({field: problems})


def _replace_rows(
    acceptance: RiskAcceptance, named: Sequence[Named], now: dt.datetime
) -> tuple[list[str], list[str]]:
    """Put ``named`` in place of the acceptance's compensating controls; (before, after)."""
    before = compensating_labels(acceptance)
    kept = {
        (row.control_id, row.resource_id): row for row in acceptance.compensating_controls.all()
    }
    wanted = {(control.pk, getattr(resource, "pk", None)) for control, resource in named}
    acceptance.compensating_controls.exclude(
        pk__in=[row.pk for key, row in kept.items() if key in wanted]
    ).delete()
    for control, resource in named:
        if (control.pk, getattr(resource, "pk", None)) not in kept:
            row = CompensatingControl.objects.create(
                acceptance=acceptance, control=control, resource=resource
            )
            failing = _failing_findings(acceptance, row)
            row.checked_at = now
            row.failing_since = now if failing else None
            row.save(update_fields=["checked_at", "failing_since"])
    return before, compensating_labels(acceptance)


def add_initial_compensation(
    acceptance: RiskAcceptance, named: Sequence[Named], now: dt.datetime
) -> list[str]:
    """Create the compensating controls of a new acceptance (validated by the caller); return
    their labels for its CREATED or PROPOSED event."""
    return _replace_rows(acceptance, named, now)[1]


@transaction.atomic
def set_compensating_controls(
    acceptance: RiskAcceptance,
    *,
    actor: AbstractBaseUser,
    controls: Sequence[Named] | None,
    measures: str | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> RiskAcceptance:
    """Replace the compensating controls of an acceptance (``controls``; None keeps them) and,
    given, its compensating measures in words.

    Permission as for editing it. Recorded in the history with the lists before and after; the
    verdicts are taken at once, and suspension or resumption follows right away, as after a
    scan (a newly named control that already fails suspends the acceptance now, not later).
    """
    _require(actor, "acceptances.change_riskacceptance")
    now = now or timezone.now()
    acceptance = RiskAcceptance.objects.select_for_update().get(pk=acceptance.pk)
    if not acceptance.is_live:
        raise ValidationError(
            {"state": f"This acceptance is {acceptance.state}: its terms can no longer change."}
        )
    if controls is None:
        before = after = compensating_labels(acceptance)
    else:
        validate_compensating_controls(acceptance.control, controls)
        before, after = _replace_rows(acceptance, controls, now)
    changes: dict[str, list[Any]] = {}
    if before != after:
        changes["compensating_controls"] = [before, after]
    if measures is not None and measures.strip() != acceptance.compensating_measures:
        changes["compensating_measures"] = [acceptance.compensating_measures, measures.strip()]
        acceptance.compensating_measures = measures.strip()
        acceptance.save(update_fields=["compensating_measures", "updated_at"])
    if changes:
        _record(acceptance, AcceptanceEvent.Action.EDITED, actor, now, changes, note)
        _check_one(acceptance, now)
        acceptance.refresh_from_db()
    return acceptance


# --- Checking them after each scan ---------------------------------------------------------------


def _failing_findings(acceptance: RiskAcceptance, row: CompensatingControl) -> list[Finding]:
    """Open failures of the compensating control where it must hold (a few, for the reader)."""
    if row.resource_id is not None:
        findings = Finding.objects.filter(
            resource_id=row.resource_id, control_check__controls=row.control_id
        )
    else:
        draft = RiskAcceptance(
            control_id=row.control_id,
            resource_id=acceptance.resource_id,
            zone_id=acceptance.zone_id,
        )
        draft.zone = acceptance.zone
        findings = _findings_in_scope(draft)
    failing = findings.filter(
        status=Finding.Status.FAIL, resolved_at__isnull=True, resource__gone_at__isnull=True
    ).select_related("resource")
    return list(failing.order_by("pk")[:20])


@dataclass
class _Failure:
    control: str
    resources: list[str]

    def describe(self) -> str:
        return f"{self.control} fails on {', '.join(self.resources)}"


def _verdicts(acceptance: RiskAcceptance, now: dt.datetime) -> list[_Failure]:
    """Check every compensating control of the acceptance; store each verdict; the failures."""
    failures: list[_Failure] = []
    for row in acceptance.compensating_controls.select_related("control", "resource"):
        failing = _failing_findings(acceptance, row)
        if row.resource_id is not None and row.resource.gone_at is not None:
            # The compensation itself is gone: it can no longer be verified.
            failures.append(_Failure(row.control.ref, [f"{_resource_label(row.resource)} (gone)"]))
            failing_now = True
        else:
            failing_now = bool(failing)
            if failing:
                labels = sorted({_resource_label(f.resource) for f in failing})
                failures.append(_Failure(row.control.ref, labels))
        since = (row.failing_since or now) if failing_now else None
        CompensatingControl.objects.filter(pk=row.pk).update(checked_at=now, failing_since=since)
    return failures


def _resource_label(resource: Resource) -> str:
    return resource.name or resource.arn


def _check_one(acceptance: RiskAcceptance, now: dt.datetime) -> str | None:
    """Suspend or resume one acceptance as its compensating controls say; what it did."""
    failures = _verdicts(acceptance, now)
    if failures and acceptance.state == RiskAcceptance.State.ACTIVE:
        # The claim: of two runs (a retried task, two scans closing together) one wins.
        if not RiskAcceptance.objects.filter(
            pk=acceptance.pk, state=RiskAcceptance.State.ACTIVE
        ).update(state=RiskAcceptance.State.SUSPENDED, suspended_at=now, updated_at=now):
            return None
        acceptance.state, acceptance.suspended_at = RiskAcceptance.State.SUSPENDED, now
        note = "; ".join(failure.describe() for failure in failures) + "."
        _record(
            acceptance,
            AcceptanceEvent.Action.SUSPENDED,
            None,
            now,
            {
                "state": ["active", "suspended"],
                "suspended_at": [None, now.isoformat()],
                "failing": [None, [f.describe() for f in failures]],
            },
            note,
        )
        _uncover(acceptance, now)
        _notify(acceptance.pk, "acceptance-suspended", {"failures": note}, watchers=True)
        return "suspended"
    if not failures and acceptance.state == RiskAcceptance.State.SUSPENDED:
        # Its owner changed while it was suspended: it resumes awaiting the new owner's
        # sign-off, covering nothing until then.
        signed = acceptance.owner_signed_off_at is not None
        after = RiskAcceptance.State.ACTIVE if signed else RiskAcceptance.State.AWAITING_OWNER
        if not RiskAcceptance.objects.filter(
            pk=acceptance.pk, state=RiskAcceptance.State.SUSPENDED
        ).update(state=after, suspended_at=None, updated_at=now):
            return None
        before = acceptance.suspended_at
        acceptance.state, acceptance.suspended_at = after, None
        _record(
            acceptance,
            AcceptanceEvent.Action.RESUMED,
            None,
            now,
            {
                "state": ["suspended", str(after)],
                "suspended_at": [before.isoformat() if before else None, None],
            },
            "Every compensating control passes again.",
        )
        if signed:
            _cover(acceptance, now)
        _notify(acceptance.pk, "acceptance-resumed", {}, watchers=True)
        return "resumed"
    return None


def check_acceptance(acceptance: RiskAcceptance, now: dt.datetime) -> str | None:
    """Check one acceptance's compensating controls now (inside the caller's transaction):
    "suspended", "resumed" or None."""
    return _check_one(acceptance, now)


@dataclass
class CompensationReport:
    suspended: list[int]
    resumed: list[int]


def check_compensation(
    now: dt.datetime | None = None, *, scan_id: int | None = None
) -> CompensationReport:
    """After a scan: suspend acceptances whose compensating controls fail, resume those whose
    controls all pass again. Every account's acceptances are checked (a zone spans accounts;
    findings of accounts the scan did not touch are unchanged, so their verdicts are too).
    Safe to run twice: the second run finds every acceptance already in its state."""
    now = now or timezone.now()
    report = CompensationReport([], [])
    candidates = (
        RiskAcceptance.objects.filter(state__in=CHECKED_STATES, compensating_controls__isnull=False)
        .distinct()
        .select_related("zone")
        .order_by("pk")
    )
    for acceptance in candidates:
        with transaction.atomic():
            done = _check_one(acceptance, now)
        if done == "suspended":
            report.suspended.append(acceptance.pk)
        elif done == "resumed":
            report.resumed.append(acceptance.pk)
    return report


# --- Re-review on material change ----------------------------------------------------------------


def zone_size(acceptance: RiskAcceptance) -> int:
    """Current resources in the acceptance's zone (the built-in one holds every resource)."""
    if acceptance.zone.is_builtin:
        return Resource.objects.filter(gone_at__isnull=True).count()
    return ZoneMembership.objects.filter(
        zone_id=acceptance.zone_id, resource__gone_at__isnull=True
    ).count()


def take_review_baseline(acceptance: RiskAcceptance, now: dt.datetime) -> None:
    """What the acceptance was decided on, to notice a material change later: the evidence of
    each finding it covers (resource-scoped) or its zone's size (zone-scoped).

    Called wherever an acceptance becomes active by a person's decision (created without
    four-eyes, approved, renewed, signed off) and when it is marked reviewed; not on resuming
    after a suspension (the decision is the same). Replaces any earlier baseline.
    """
    ReviewBaseline.objects.filter(acceptance=acceptance).delete()
    if acceptance.zone_id is not None:
        size = zone_size(acceptance)
        RiskAcceptance.objects.filter(pk=acceptance.pk).update(baseline_zone_size=size)
        acceptance.baseline_zone_size = size
        return
    covered = Finding.objects.filter(acceptance=acceptance).values_list(
        "pk", "evidence_digest", "evidence"
    )
    ReviewBaseline.objects.bulk_create(
        ReviewBaseline(
            acceptance=acceptance,
            finding_id=pk,
            evidence_digest=digest,
            evidence=evidence or {},
            taken_at=now,
        )
        for pk, digest, evidence in covered
    )


def zone_grew(before: int, after: int) -> bool:
    """Whether a zone grew past ``CSPM_REVIEW_ZONE_GROWTH`` = (percent, resources): by more
    than that percentage of its baseline size and by at least that many resources. Both, so
    that a zone of 2 growing to 3 (+50 %) or one of 10,000 gaining 30 raises no flag."""
    percent, minimum = settings.CSPM_REVIEW_ZONE_GROWTH
    grown = after - before
    return grown >= minimum and grown * 100 > percent * before


def _review_reason(acceptance: RiskAcceptance) -> dict[str, Any]:
    if acceptance.zone_id is not None:
        if acceptance.baseline_zone_size is None:
            return {}
        after = zone_size(acceptance)
        if zone_grew(acceptance.baseline_zone_size, after):
            return {"zone_size": [acceptance.baseline_zone_size, after]}
        return {}
    changed = []
    baselines = (
        ReviewBaseline.objects.filter(acceptance=acceptance)
        .select_related("finding__resource")
        .order_by("pk")
    )
    for baseline in baselines:
        finding = baseline.finding
        # A fix (the finding passes, or its resource is gone) is not a change to re-review:
        # the acceptance goes stale instead (refresh_staleness).
        if finding.status != Finding.Status.FAIL or finding.resolved_at is not None:
            continue
        if finding.evidence_digest != baseline.evidence_digest:
            changed.append(
                {
                    "finding": finding.pk,
                    "resource": _resource_label(finding.resource),
                    "before": baseline.evidence,
                    "after": finding.evidence,
                }
            )
    return {"findings": changed} if changed else {}


def check_reviews(now: dt.datetime | None = None) -> list[int]:
    """After a scan: flag acceptances whose accepted configuration changed; return their ids.

    Only the flag, its history entry and one email to the owner: coverage stays until a person
    decides. Safe to run twice: the flag is claimed with ``review_flagged_at IS NULL``.
    """
    now = now or timezone.now()
    flagged: list[int] = []
    unflagged = RiskAcceptance.objects.filter(
        state__in=CHECKED_STATES, review_flagged_at__isnull=True
    )
    # Resource-scoped: only those with a covered finding whose evidence moved, found in one
    # query (most scans change nothing, and an acceptance-by-acceptance walk would cost one
    # query per acceptance after every scan).
    moved = ReviewBaseline.objects.filter(
        finding__status=Finding.Status.FAIL, finding__resolved_at__isnull=True
    ).exclude(finding__evidence_digest=F("evidence_digest"))
    candidates = (
        unflagged.filter(
            Q(baseline_zone_size__isnull=False, zone__isnull=False)
            | Q(pk__in=moved.values("acceptance_id"))
        )
        .select_related("zone")
        .order_by("pk")
    )
    for acceptance in candidates:
        reason = _review_reason(acceptance)
        if reason and _flag_for_review(acceptance, reason, now):
            flagged.append(acceptance.pk)
    return flagged


def _flag_for_review(acceptance: RiskAcceptance, reason: dict[str, Any], now: dt.datetime) -> bool:
    """Flag one acceptance "needs re-review", record it and tell its owner once: the flag is
    claimed with ``review_flagged_at IS NULL``, so a second run (or worker) flags nothing."""
    with transaction.atomic():
        if not RiskAcceptance.objects.filter(
            pk=acceptance.pk, review_flagged_at__isnull=True
        ).update(review_flagged_at=now, review_reason=reason, updated_at=now):
            return False
        _record(
            acceptance,
            AcceptanceEvent.Action.REVIEW_FLAGGED,
            None,
            now,
            {"review_flagged_at": [None, now.isoformat()], "review_reason": [{}, reason]},
            describe_review_reason(reason),
        )
        _notify(
            acceptance.pk,
            "acceptance-review",
            {"summary": describe_review_reason(reason), "reason": reason},
            watchers=False,
        )
    return True


def check_appetite(now: dt.datetime | None = None) -> list[int]:
    """After the risk appetite changed (a rule added, tightened or widened in scope): flag the
    acceptances in force whose terms it would now refuse, naming the rule; return their ids.

    Nothing else changes: coverage stays until a person decides (shorten it, revoke it, or mark
    it reviewed: a considered exception to the new rule, on the record). A proposal is checked
    again when it is approved, so only decided acceptances are read. The rules and the zones
    holding each resource are read once, not per acceptance."""
    from acceptances import appetite
    from acceptances.models import AppetiteRule, Zone, ZoneMembership

    now = now or timezone.now()
    rules = list(AppetiteRule.objects.all())
    if not rules:
        return []
    live = list(
        RiskAcceptance.objects.filter(
            state__in=(
                RiskAcceptance.State.AWAITING_OWNER,
                RiskAcceptance.State.ACTIVE,
                RiskAcceptance.State.SUSPENDED,
            ),
            review_flagged_at__isnull=True,
        )
        .select_related("control", "zone", "resource")
        .order_by("pk")
    )
    builtin = set(Zone.objects.filter(is_builtin=True).values_list("pk", flat=True))
    zones_of: dict[int, set[int]] = {}
    memberships = ZoneMembership.objects.filter(
        resource_id__in={a.resource_id for a in live if a.resource_id is not None}
    ).values_list("resource_id", "zone_id")
    for resource_id, zone_id in memberships:
        zones_of.setdefault(resource_id, set()).add(zone_id)
    flagged: list[int] = []
    for acceptance in live:
        zone_ids = set(builtin)
        if acceptance.zone_id is not None:
            zone_ids.add(acceptance.zone_id)
        if acceptance.resource_id is not None:
            zone_ids |= zones_of.get(acceptance.resource_id, set())
        lim = appetite.limits(
            rule
            for rule in rules
            if appetite.applies(
                rule, zone_ids, acceptance.control.severity, acceptance.residual_rating
            )
        )
        try:
            appetite.check_term(lim, acceptance.expires_at, now)
        except ValidationError as exc:
            reason = {"appetite": " ".join(exc.messages)}
            if _flag_for_review(acceptance, reason, now):
                flagged.append(acceptance.pk)
    return flagged


def describe_review_reason(reason: dict[str, Any]) -> str:
    if "appetite" in reason:
        return f"The risk appetite changed since the decision: {reason['appetite']}"
    if "zone_size" in reason:
        before, after = reason["zone_size"]
        return f"The zone grew from {before} to {after} resources since the decision."
    resources = sorted({item["resource"] for item in reason.get("findings", [])})
    return f"The accepted configuration changed on {', '.join(resources)}."


def evidence_diff(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """What changed between two evidence documents, key by key (``a.b.c``), for the reader:
    [{"path", "before", "after"}] with a missing side as None."""
    if isinstance(before, dict) and isinstance(after, dict):
        rows: list[dict[str, Any]] = []
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}.{key}" if path else str(key)
            rows.extend(evidence_diff(before.get(key), after.get(key), sub))
        return rows
    if before == after:
        return []
    return [{"path": path or "(whole)", "before": before, "after": after}]


def may_mark_reviewed(acceptance: RiskAcceptance, actor: AbstractBaseUser | None) -> bool:
    return (
        actor is not None
        and actor.is_active
        and (
            actor.pk == acceptance.owner_id or actor.has_perm("acceptances.approve_riskacceptance")
        )
    )


@transaction.atomic
def mark_reviewed(
    acceptance: RiskAcceptance,
    *,
    actor: AbstractBaseUser,
    note: str,
    now: dt.datetime | None = None,
) -> RiskAcceptance:
    """A person looked at what changed and keeps the acceptance: the flag clears and a new
    baseline is taken. The owner or an approver; a note saying why is required."""
    if not may_mark_reviewed(acceptance, actor):
        raise PermissionDenied("Only the acceptance's owner or an approver can mark it reviewed.")
    now = now or timezone.now()
    acceptance = RiskAcceptance.objects.select_for_update().get(pk=acceptance.pk)
    if acceptance.review_flagged_at is None:
        raise ValidationError({"state": "This acceptance does not need a re-review."})
    if not (note or "").strip():
        raise ValidationError({"note": "Say what you checked and why the acceptance still holds."})
    before_flag, before_reason = acceptance.review_flagged_at, acceptance.review_reason
    acceptance.review_flagged_at = None
    acceptance.review_reason = {}
    acceptance.save(update_fields=["review_flagged_at", "review_reason", "updated_at"])
    _record(
        acceptance,
        AcceptanceEvent.Action.REVIEWED,
        actor,
        now,
        {
            "review_flagged_at": [before_flag.isoformat(), None],
            "review_reason": [before_reason, {}],
        },
        note.strip(),
    )
    take_review_baseline(acceptance, now)
    return acceptance


# --- Emails -------------------------------------------------------------------------------------


def _people(acceptance: RiskAcceptance, *, watchers: bool) -> dict[str, AbstractBaseUser]:
    """The owner and, with ``watchers``, the watchers of the zones holding the scope: active
    users with an email, one per address."""
    people = [acceptance.owner]
    if watchers:
        if acceptance.zone_id is not None:
            zone_ids: Iterable[int] = [acceptance.zone_id]
        else:
            zone_ids = list(
                ZoneMembership.objects.filter(resource_id=acceptance.resource_id).values_list(
                    "zone_id", flat=True
                )
            )
        watches: QuerySet[ZoneWatch] = ZoneWatch.objects.filter(
            Q(zone_id__in=zone_ids) | Q(zone__is_builtin=True)
        ).select_related("user")
        # As drift alerts: a watcher who asked only from some severity up hears of the
        # controls at or above it.
        rank = SEVERITY_RANK.get(acceptance.control.severity, 0)
        people.extend(
            watch.user
            for watch in watches.order_by("pk")
            if SEVERITY_RANK.get(watch.min_severity, 0) <= rank
        )
    chosen: dict[str, AbstractBaseUser] = {}
    for person in people:
        if person.is_active and person.email:
            chosen.setdefault(person.email, person)
    return chosen


def _notify(acceptance_id: int, template: str, extra: dict[str, Any], *, watchers: bool) -> None:
    """Keep one email per address with the transition, sent after the commit of the transaction
    that claimed it (a rolled-back run mails nobody; the claim makes a retried run mail nobody;
    a run that stops after the commit leaves them to beat)."""
    acceptance = RiskAcceptance.objects.select_related("control", "resource", "zone", "owner").get(
        pk=acceptance_id
    )
    scope = (
        f"zone {acceptance.zone.name}"
        if acceptance.zone_id is not None
        else _resource_label(acceptance.resource)
    )
    context = {
        "control_ref": acceptance.control.ref,
        "control_title": acceptance.control.title,
        "scope": scope,
        "owner": acceptance.owner.get_full_name() or acceptance.owner.get_username(),
        "url": f"{settings.SITE_URL}{reverse('acceptance-detail', args=[acceptance.pk])}",
        **extra,
    }
    recipients = {
        address: person.get_full_name() or person.get_username()
        for address, person in _people(acceptance, watchers=watchers).items()
    }
    if not recipients:
        logger.warning("Acceptance %s: nobody to tell of %s", acceptance_id, template)
        return
    # Kept with the transition and sent after its commit; what a stopped process or a mail
    # server that is down leaves unsent, beat sends later (``acceptances.outbox``).
    outbox.enqueue(template, recipients, context)
