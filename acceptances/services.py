"""Every write about risk treatment: zones, acceptances, coverage and their history.

Services take model instances and plain values (never a request, form or serializer), check the
actor's permission, validate, run in one transaction and write history. The UI, the API and the
admin console all come through here, so the rules hold whatever door a change uses.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from acceptances.models import (
    AcceptanceEvent,
    Reason,
    RiskAcceptance,
    Treatment,
    Zone,
    ZoneMembership,
    ZoneWatch,
)
from acceptances.zones import ZoneRules, normalize_rules, parse_rules
from cspm.bulk import insert_rows
from cspm.roles import holds_a_role
from findings.models import Check, CloudAccount, Control, Finding, Resource, ScanChange, Severity

EXPIRY_PRESETS = {"7": 7, "30": 30, "60": 60, "90": 90}

# Fields a person may edit on an acceptance, and how they appear in the history.
OWNER_MESSAGE = "The owner must be an active user with a role."
EDITABLE_FIELDS = ("justification", "reason", "reason_detail", "owner", "expires_at", "treatment")


def _require(actor: AbstractBaseUser | None, perm: str) -> None:
    if actor is None or not actor.is_active or not actor.has_perm(perm):
        raise PermissionDenied(f"You do not have permission to do this ({perm}).")


def _history_value(value: Any) -> Any:
    """JSON-friendly form of a field value for the history."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if hasattr(value, "get_username"):
        return value.get_username()
    return value


def _record(
    acceptance: RiskAcceptance,
    action: str,
    actor: AbstractBaseUser | None,
    at: dt.datetime,
    changes: dict[str, list[Any]] | None = None,
    note: str = "",
) -> AcceptanceEvent:
    return AcceptanceEvent.objects.create(
        acceptance=acceptance,
        action=action,
        actor=actor,
        at=at,
        changes=changes or {},
        note=note,
    )


# --- Expiry -----------------------------------------------------------------------------------


def expiry_from_preset(
    preset: str, now: dt.datetime, on_date: dt.date | None = None
) -> dt.datetime | None:
    """Turn a UI/API expiry choice into a moment: "7"/"30"/"60"/"90" days, "date", or "never".

    A chosen date means "until the end of that day" in the server's time zone.
    """
    if preset in EXPIRY_PRESETS:
        return now + dt.timedelta(days=EXPIRY_PRESETS[preset])
    if preset == "never":
        return None
    if preset == "date":
        if on_date is None:
            raise ValidationError({"expires_on": "Choose the date the acceptance ends."})
        end_of_day = dt.datetime.combine(on_date, dt.time(23, 59, 59))
        return timezone.make_aware(end_of_day, timezone.get_default_timezone())
    raise ValidationError(
        {"expiry": f"Unknown expiry '{preset}'; use 7, 30, 60, 90, date or never."}
    )


def _validate_expiry(expires_at: dt.datetime | None, now: dt.datetime) -> None:
    if expires_at is not None and expires_at <= now:
        raise ValidationError({"expires_at": "The expiry must be in the future."})


# --- Zones ------------------------------------------------------------------------------------


def _resources_matching(rules: ZoneRules) -> QuerySet[Resource]:
    resources = Resource.objects.filter(gone_at__isnull=True)
    if rules.account_ids:
        resources = resources.filter(account__account_id__in=rules.account_ids)
    if rules.regions:
        resources = resources.filter(region__in=rules.regions)
    if rules.resource_types:
        resources = resources.filter(resource_type__in=rules.resource_types)
    for index, rule in enumerate(rules.tags):
        # KeyTransform takes the key as a value, so keys with ":" or "__" are safe.
        alias = f"_tag{index}"
        if rule.op == "exists":
            resources = resources.filter(tags__has_key=rule.key)
            continue
        resources = resources.annotate(**{alias: KeyTransform(rule.key, "tags")})
        if rule.op == "eq":
            resources = resources.filter(**{alias: rule.values[0]})
        elif rule.op == "in":
            resources = resources.filter(**{f"{alias}__in": rule.values})
        else:  # ne: a missing tag is "not equal" too
            resources = resources.exclude(**{alias: rule.values[0]})
    return resources


def matching_resources(rules: Any) -> QuerySet[Resource]:
    """The current resources a rule set matches (validates the rules first)."""
    return _resources_matching(parse_rules(rules))


def preview_zone(rules: Any) -> int:
    """How many current resources a rule set matches (validates the rules first)."""
    return resources_matching(rules).count()


def resources_matching(rules: Any) -> QuerySet[Resource]:
    """The current resources a rule set matches (validates the rules first)."""
    return _resources_matching(parse_rules(rules))


def _apply_membership(zone: Zone, wanted: set[int], current: set[int]) -> tuple[set, set]:
    added, removed = wanted - current, current - wanted
    if removed:
        ZoneMembership.objects.filter(zone=zone, resource_id__in=removed).delete()
    if added:
        # The caller computed "added" against the current rows under the unit's lock, so the
        # rows are new: insert them with COPY on PostgreSQL.
        insert_rows(ZoneMembership, ["zone_id", "resource_id"], ((zone.pk, pk) for pk in added))
    return added, removed


@transaction.atomic
def refresh_zone_membership(zone: Zone, now: dt.datetime | None = None) -> tuple[int, int]:
    """Re-evaluate a zone's rules into ZoneMembership; return (added, removed).

    Findings of resources that entered or left the zone get their coverage recomputed. The
    built-in zone holds everything by definition and stores no rows.
    """
    now = now or timezone.now()
    Zone.objects.filter(pk=zone.pk).update(membership_updated_at=now)
    if zone.is_builtin:
        return 0, 0
    wanted = set(_resources_matching(parse_rules(zone.rules)).values_list("pk", flat=True))
    current = set(zone.memberships.values_list("resource_id", flat=True))
    added, removed = _apply_membership(zone, wanted, current)
    if (added or removed) and zone.acceptances.filter(state=RiskAcceptance.State.ACTIVE).exists():
        refresh_coverage(Finding.objects.filter(resource__zone_memberships__zone=zone))
        refresh_coverage(Finding.objects.filter(resource_id__in=removed))
    return len(added), len(removed)


@transaction.atomic
def save_zone(
    *,
    actor: AbstractBaseUser,
    name: str,
    rules: Any,
    description: str = "",
    zone: Zone | None = None,
) -> Zone:
    """Create or edit a zone; its membership and the coverage it drives follow at once."""
    _require(actor, "acceptances.change_zone" if zone else "acceptances.add_zone")
    if zone is not None and zone.is_builtin:
        raise ValidationError(
            {"rules": "The built-in zone 'Entire infrastructure' cannot be edited."}
        )
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A zone needs a name."})
    if Zone.objects.filter(name__iexact=name).exclude(pk=zone.pk if zone else None).exists():
        raise ValidationError({"name": f"A zone named '{name}' already exists."})
    parsed = parse_rules(rules)
    if zone is None:
        zone = Zone(created_by=actor)
    zone.name = name
    zone.description = description
    zone.rules = normalize_rules(parsed)
    zone.save()
    refresh_zone_membership(zone)
    return zone


def refresh_memberships_for_unit(account_id: int, scan_unit: str) -> int:
    """Re-evaluate every zone for the resources of one account×unit (after a scan wrote them).

    Returns how many memberships changed.
    """
    changed = 0
    for zone in Zone.objects.filter(is_builtin=False):
        wanted = set(
            _resources_matching(parse_rules(zone.rules))
            .filter(account_id=account_id, scan_unit=scan_unit)
            .values_list("pk", flat=True)
        )
        current = set(
            zone.memberships.filter(
                resource__account_id=account_id, resource__scan_unit=scan_unit
            ).values_list("resource_id", flat=True)
        )
        added, removed = _apply_membership(zone, wanted, current)
        changed += len(added) + len(removed)
    return changed


# --- Watching zones ---------------------------------------------------------------------------


def _may_manage_watch(actor: AbstractBaseUser | None, user: AbstractBaseUser) -> None:
    """Anyone who may read zones watches for themselves; only admins for someone else."""
    if actor is not None and actor.pk == user.pk:
        _require(actor, "acceptances.view_zone")
    else:
        _require(actor, "acceptances.add_zonewatch")


@transaction.atomic
def watch_zone(
    user: AbstractBaseUser, zone: Zone, *, actor: AbstractBaseUser, min_severity: str = ""
) -> ZoneWatch:
    """Subscribe ``user`` to drift alerts about ``zone`` (or change the minimum severity).

    Idempotent: watching a zone again only updates the severity.
    """
    _may_manage_watch(actor, user)
    if min_severity not in ("", *Severity.values):
        raise ValidationError(
            {
                "min_severity": f"Unknown severity '{min_severity}'; use one of "
                f"{', '.join(Severity.values)}, or none for every severity."
            }
        )
    # Alerts list findings: refuse to mail them to someone who may not read them.
    if not user.is_active or not user.has_perm("findings.view_finding"):
        raise ValidationError({"user": f"{user} may not read findings, so cannot watch a zone."})
    if not user.email:
        raise ValidationError({"user": f"{user} has no email address to send alerts to."})
    watch, created = ZoneWatch.objects.get_or_create(
        user=user, zone=zone, defaults={"min_severity": min_severity}
    )
    if not created and watch.min_severity != min_severity:
        watch.min_severity = min_severity
        watch.save(update_fields=["min_severity"])
    return watch


@transaction.atomic
def unwatch_zone(user: AbstractBaseUser, zone: Zone, *, actor: AbstractBaseUser) -> bool:
    """Stop ``user``'s drift alerts about ``zone``; False if they were not watching it."""
    _may_manage_watch(actor, user)
    deleted, _ = ZoneWatch.objects.filter(user=user, zone=zone).delete()
    return bool(deleted)


# --- Coverage ---------------------------------------------------------------------------------


def _covering_acceptance() -> Subquery:
    """The active acceptance that covers the outer finding, if any.

    A resource-scoped acceptance wins over a zone-scoped one; then the oldest.
    """
    # Two levels down: OuterRef(OuterRef(...)) reaches the finding, not the acceptance.
    in_zone = ZoneMembership.objects.filter(resource_id=OuterRef(OuterRef("resource_id"))).values(
        "zone_id"
    )
    return Subquery(
        RiskAcceptance.objects.filter(
            state=RiskAcceptance.State.ACTIVE, control__checks=OuterRef("control_check_id")
        )
        .filter(
            Q(resource_id=OuterRef("resource_id"))
            | Q(zone_id__in=in_zone)
            | Q(zone__is_builtin=True)
        )
        .order_by(F("zone_id").asc(nulls_first=True), "pk")
        .values("pk")[:1]
    )


def refresh_coverage(findings: QuerySet[Finding]) -> int:
    """Recompute which acceptance covers each of ``findings``; return how many are covered.

    Only open failures can be covered; anything else loses its link.
    """
    open_failures = Q(status=Finding.Status.FAIL, resolved_at__isnull=True)
    findings.exclude(open_failures).exclude(acceptance__isnull=True).update(acceptance=None)
    findings.filter(open_failures).update(acceptance=_covering_acceptance())
    return findings.filter(acceptance__isnull=False).count()


def _findings_in_scope(acceptance: RiskAcceptance) -> QuerySet[Finding]:
    findings = Finding.objects.filter(control_check__controls=acceptance.control_id)
    if acceptance.resource_id is not None:
        return findings.filter(resource_id=acceptance.resource_id)
    if acceptance.zone.is_builtin:
        return findings
    return findings.filter(
        resource_id__in=ZoneMembership.objects.filter(zone_id=acceptance.zone_id).values(
            "resource_id"
        )
    )


def _check_ids(control_id: int) -> list[int]:
    return list(Check.objects.filter(controls=control_id).values_list("pk", flat=True))


def _cover(acceptance: RiskAcceptance) -> int:
    """Link the open failures in the acceptance's scope that nothing covers yet."""
    checks = _check_ids(acceptance.control_id)
    if not checks:
        return 0
    open_uncovered = Finding.objects.filter(
        control_check_id__in=checks,
        status=Finding.Status.FAIL,
        resolved_at__isnull=True,
        acceptance__isnull=True,
    )
    if acceptance.resource_id is not None:
        return open_uncovered.filter(resource_id=acceptance.resource_id).update(
            acceptance=acceptance
        )
    if acceptance.zone.is_builtin:
        return open_uncovered.update(acceptance=acceptance)
    # A zone may hold a hundred thousand findings of the control: one UPDATE joined to the
    # membership table (the ORM would select the ids in a subquery and join them back).
    finding, membership = Finding._meta.db_table, ZoneMembership._meta.db_table
    placeholders = ", ".join(["%s"] * len(checks))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {finding} SET acceptance_id = %s FROM {membership} m "  # noqa: S608
            f"WHERE m.zone_id = %s AND {finding}.resource_id = m.resource_id "
            f"AND {finding}.control_check_id IN ({placeholders}) "
            f"AND {finding}.status = 'fail' AND {finding}.resolved_at IS NULL "
            f"AND {finding}.acceptance_id IS NULL",
            [acceptance.pk, acceptance.zone_id, *checks],
        )
        return cursor.rowcount


def _uncover(acceptance: RiskAcceptance) -> None:
    """Unlink the acceptance's findings; other active acceptances may still cover some."""
    if not Finding.objects.filter(acceptance=acceptance).update(acceptance=None):
        return
    # Only acceptances of a control sharing a check can cover these findings: resource-scoped
    # ones first (they win), then zone-scoped ones, each covering what is still uncovered.
    others = (
        RiskAcceptance.objects.filter(
            state=RiskAcceptance.State.ACTIVE,
            control__checks__in=_check_ids(acceptance.control_id),
        )
        .exclude(pk=acceptance.pk)
        .distinct()
        .order_by(F("zone_id").asc(nulls_first=True), "pk")
    )
    for other in others.select_related("zone"):
        _cover(other)


def count_would_cover(
    control: Control, resource: Resource | None = None, zone: Zone | None = None
) -> int:
    """How many open failing findings an acceptance of this scope would cover."""
    draft = RiskAcceptance(control=control, resource=resource, zone=zone)
    return (
        _findings_in_scope(draft)
        .filter(status=Finding.Status.FAIL, resolved_at__isnull=True)
        .count()
    )


# --- Acceptances ------------------------------------------------------------------------------


def _validate_scope(
    control: Control, resource: Resource | None, zone: Zone | None, exclude_pk: int | None = None
) -> None:
    if (resource is None) == (zone is None):
        raise ValidationError({"scope": "Accept the risk either for one resource or for one zone."})
    if resource is not None and resource.gone_at is not None:
        raise ValidationError({"resource": "This resource is gone; there is nothing to accept."})
    if (
        resource is not None
        and not Finding.objects.filter(resource=resource, control_check__controls=control).exists()
    ):
        raise ValidationError(
            {
                "control": f"Control {control.ref} is not evaluated on {resource} "
                f"({resource.resource_type}); there is no finding of it to accept."
            }
        )
    live = RiskAcceptance.objects.filter(control=control, state__in=RiskAcceptance.LIVE_STATES)
    if exclude_pk is not None:
        live = live.exclude(pk=exclude_pk)
    if resource is not None and live.filter(resource=resource).exists():
        raise ValidationError(
            {"resource": f"Control {control.ref} already has a live acceptance on this resource."}
        )
    if zone is not None and live.filter(zone=zone).exists():
        raise ValidationError(
            {"zone": f"Control {control.ref} already has a live acceptance in zone {zone}."}
        )


def _validate_reason(reason: str, reason_detail: str, justification: str, treatment: str) -> None:
    errors: dict[str, str] = {}
    if reason not in Reason.values:
        errors["reason"] = f"Unknown reason '{reason}'; use one of {', '.join(Reason.values)}."
    elif reason == Reason.CUSTOM and not reason_detail.strip():
        errors["reason_detail"] = "Say in a few words what the custom reason is."
    if not (justification or "").strip():
        errors["justification"] = "Explain why this risk is acceptable."
    if treatment not in Treatment.values:
        errors["treatment"] = f"Unknown treatment '{treatment}'."
    if errors:
        raise ValidationError(errors)


def validate_new_acceptance(
    *,
    control: Control | None,
    resource: Resource | None,
    zone: Zone | None,
    reason: str,
    reason_detail: str,
    justification: str,
    treatment: str,
    expires_at: dt.datetime | None,
    now: dt.datetime | None = None,
    account: CloudAccount | None = None,
) -> None:
    """Every rule a new acceptance must meet; raises ValidationError keyed by field.

    ``account``, when the caller works within one (the UI and API do), must hold the resource.
    """
    errors: dict[str, list[str]] = {}
    if account is not None and resource is not None and resource.account_id != account.pk:
        errors["resource"] = [f"{resource} is not a resource of account {account}."]
    checks = [
        lambda: _validate_reason(reason, reason_detail or "", justification or "", treatment),
        lambda: _validate_expiry(expires_at, now or timezone.now()),
    ]
    if control is None:
        errors["control"] = ["Choose the control whose risk is accepted."]
    else:
        checks.append(lambda: _validate_scope(control, resource, zone))
    # Report every problem at once, each beside its field.
    for validate in checks:
        try:
            validate()
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def validate_update(
    acceptance: RiskAcceptance, changes: dict[str, Any], now: dt.datetime | None = None
) -> None:
    """Every rule an edit must meet (without saving); raises ValidationError keyed by field."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    if acceptance.state == RiskAcceptance.State.REVOKED:
        raise ValidationError(
            {"state": "A revoked acceptance cannot be changed; create a new one."}
        )
    merged = {name: changes.get(name, getattr(acceptance, name)) for name in EDITABLE_FIELDS}
    _validate_reason(
        merged["reason"],
        merged["reason_detail"] or "",
        merged["justification"] or "",
        merged["treatment"],
    )
    reaccept = acceptance.state == RiskAcceptance.State.EXPIRED
    if "expires_at" in changes or reaccept:
        _validate_expiry(merged["expires_at"], now or timezone.now())
    if reaccept:
        _validate_scope(acceptance.control, acceptance.resource, acceptance.zone, acceptance.pk)
    if not holds_a_role(merged["owner"]):
        raise ValidationError({"owner": OWNER_MESSAGE})


@transaction.atomic
def accept_risk(
    *,
    actor: AbstractBaseUser,
    control: Control,
    owner: AbstractBaseUser,
    reason: str,
    justification: str,
    resource: Resource | None = None,
    zone: Zone | None = None,
    expires_at: dt.datetime | None = None,
    reason_detail: str = "",
    treatment: str = Treatment.RETAIN,
    now: dt.datetime | None = None,
    account: CloudAccount | None = None,
) -> RiskAcceptance:
    """Record a treatment decision for a control on one resource or in one zone.

    With approval required, it starts as proposed and covers nothing until approved.
    """
    _require(actor, "acceptances.add_riskacceptance")
    now = now or timezone.now()
    validate_new_acceptance(
        control=control,
        resource=resource,
        zone=zone,
        reason=reason,
        reason_detail=reason_detail,
        justification=justification,
        treatment=treatment,
        expires_at=expires_at,
        now=now,
        account=account,
    )
    if not holds_a_role(owner):
        raise ValidationError({"owner": OWNER_MESSAGE})
    proposed = settings.CSPM_REQUIRE_APPROVAL
    acceptance = RiskAcceptance(
        control=control,
        resource=resource,
        zone=zone,
        treatment=treatment,
        reason=reason,
        reason_detail=reason_detail.strip(),
        justification=justification.strip(),
        owner=owner,
        created_by=actor,
        expires_at=expires_at,
        state=RiskAcceptance.State.PROPOSED if proposed else RiskAcceptance.State.ACTIVE,
    )
    try:
        # A savepoint, so that losing a race to a concurrent identical acceptance leaves the
        # outer transaction usable and the caller gets the same clear message.
        with transaction.atomic():
            acceptance.save()
    except IntegrityError:
        _validate_scope(control, resource, zone)
        raise
    snapshot = {name: [None, _history_value(getattr(acceptance, name))] for name in EDITABLE_FIELDS}
    _record(
        acceptance,
        AcceptanceEvent.Action.PROPOSED if proposed else AcceptanceEvent.Action.CREATED,
        actor,
        now,
        snapshot,
    )
    if not proposed:
        _cover(acceptance)
    return acceptance


@transaction.atomic
def accept_risk_for_resources(
    *,
    actor: AbstractBaseUser,
    control: Control,
    resources: list[Resource],
    owner: AbstractBaseUser,
    reason: str,
    justification: str,
    expires_at: dt.datetime | None = None,
    reason_detail: str = "",
    treatment: str = Treatment.RETAIN,
    now: dt.datetime | None = None,
) -> list[RiskAcceptance]:
    """One resource-scoped acceptance per selected resource, all or none.

    Each is its own decision (its own history, expiry and renewal), as if accepted one by one;
    a problem with any resource refuses the whole selection, naming the resources at fault.
    """
    if not resources:
        raise ValidationError({"resources": "Select at least one resource."})
    now = now or timezone.now()
    created: list[RiskAcceptance] = []
    problems: list[str] = []
    for resource in resources:
        try:
            with transaction.atomic():
                created.append(
                    accept_risk(
                        actor=actor,
                        control=control,
                        owner=owner,
                        reason=reason,
                        justification=justification,
                        resource=resource,
                        expires_at=expires_at,
                        reason_detail=reason_detail,
                        treatment=treatment,
                        now=now,
                    )
                )
        except ValidationError as exc:
            scope_errors = {
                k: v for k, v in exc.message_dict.items() if k in ("resource", "control", "scope")
            }
            if len(scope_errors) != len(exc.message_dict):
                # Reason, justification, expiry: the same for every resource; say it once.
                raise
            problems.extend(f"{resource}: {m}" for msgs in scope_errors.values() for m in msgs)
    if problems:
        raise ValidationError({"resources": problems})
    return created


def _lock(acceptance: RiskAcceptance) -> RiskAcceptance:
    return RiskAcceptance.objects.select_for_update().get(pk=acceptance.pk)


@transaction.atomic
def approve_acceptance(
    acceptance: RiskAcceptance, *, actor: AbstractBaseUser, now: dt.datetime | None = None
) -> RiskAcceptance:
    """Four-eyes: an approver other than the creator turns a proposal active."""
    _require(actor, "acceptances.approve_riskacceptance")
    now = now or timezone.now()
    acceptance = _lock(acceptance)
    if acceptance.state != RiskAcceptance.State.PROPOSED:
        raise ValidationError({"state": "Only a proposed acceptance can be approved."})
    if acceptance.created_by_id == actor.pk:
        raise PermissionDenied("An acceptance must be approved by someone other than its creator.")
    if acceptance.expires_at is not None and acceptance.expires_at <= now:
        raise ValidationError({"expires_at": "This proposal's expiry has passed; edit it first."})
    acceptance.state = RiskAcceptance.State.ACTIVE
    acceptance.approved_by = actor
    acceptance.approved_at = now
    acceptance.save(update_fields=["state", "approved_by", "approved_at", "updated_at"])
    _record(
        acceptance, AcceptanceEvent.Action.APPROVED, actor, now, {"state": ["proposed", "active"]}
    )
    _cover(acceptance)
    return acceptance


@transaction.atomic
def revoke_acceptance(
    acceptance: RiskAcceptance,
    *,
    actor: AbstractBaseUser,
    note: str = "",
    now: dt.datetime | None = None,
) -> RiskAcceptance:
    """End an acceptance now; its findings fail again in every view at once."""
    _require(actor, "acceptances.revoke_riskacceptance")
    now = now or timezone.now()
    acceptance = _lock(acceptance)
    if not acceptance.is_live:
        raise ValidationError({"state": f"This acceptance is already {acceptance.state}."})
    before = acceptance.state
    acceptance.state = RiskAcceptance.State.REVOKED
    acceptance.revoked_at = now
    acceptance.revoked_by = actor
    acceptance.save(update_fields=["state", "revoked_at", "revoked_by", "updated_at"])
    _record(
        acceptance, AcceptanceEvent.Action.REVOKED, actor, now, {"state": [before, "revoked"]}, note
    )
    _uncover(acceptance)
    return acceptance


@transaction.atomic
def update_acceptance(
    acceptance: RiskAcceptance,
    *,
    actor: AbstractBaseUser,
    note: str = "",
    now: dt.datetime | None = None,
    **changes: Any,
) -> RiskAcceptance:
    """Edit justification, reason, owner, treatment or expiry; every change goes to history.

    Moving the expiry later is an extension and needs the extend permission; re-accepting an
    expired acceptance makes it active again with a new expiry.
    """
    now = now or timezone.now()
    acceptance = _lock(acceptance)
    validate_update(acceptance, changes, now)
    diff = {
        name: [_history_value(getattr(acceptance, name)), _history_value(value)]
        for name, value in changes.items()
        if getattr(acceptance, name) != value
    }
    if not diff:
        return acceptance
    is_extension = "expires_at" in diff
    reaccept = acceptance.state == RiskAcceptance.State.EXPIRED
    if is_extension or reaccept:
        _require(actor, "acceptances.extend_riskacceptance")
    else:
        _require(actor, "acceptances.change_riskacceptance")
    for name, value in changes.items():
        setattr(acceptance, name, value)
    if reaccept:
        acceptance.state = RiskAcceptance.State.ACTIVE
        acceptance.handled_at = None
        diff["state"] = ["expired", "active"]
    if is_extension:
        # A new expiry date means new reminders.
        acceptance.warned_at = None
    acceptance.save()
    if reaccept:
        action = AcceptanceEvent.Action.REACCEPTED
    elif is_extension:
        action = AcceptanceEvent.Action.EXTENDED
    else:
        action = AcceptanceEvent.Action.EDITED
    _record(acceptance, action, actor, now, diff, note)
    if reaccept:
        _cover(acceptance)
    return acceptance


def expire_due_acceptances(now: dt.datetime | None = None) -> list[int]:
    """Expire every active acceptance whose expiry has passed; reopen its findings at once.

    Each acceptance is claimed with a conditional UPDATE (state still active), so two workers
    or two beat ticks never expire, record or notify the same one twice.
    """
    now = now or timezone.now()
    due = list(
        RiskAcceptance.objects.filter(
            state=RiskAcceptance.State.ACTIVE, expires_at__lte=now
        ).values_list("pk", flat=True)
    )
    expired: list[int] = []
    for pk in due:
        with transaction.atomic():
            claimed = RiskAcceptance.objects.filter(
                pk=pk, state=RiskAcceptance.State.ACTIVE, expires_at__lte=now
            ).update(state=RiskAcceptance.State.EXPIRED, handled_at=now, updated_at=now)
            if not claimed:
                continue
            acceptance = RiskAcceptance.objects.get(pk=pk)
            _record(
                acceptance,
                AcceptanceEvent.Action.EXPIRED,
                None,
                now,
                {"state": ["active", "expired"]},
            )
            _uncover(acceptance)
            expired.append(pk)
    return expired


def refresh_staleness(
    now: dt.datetime | None = None, *, scan_id: int | None = None
) -> tuple[int, int]:
    """Flag live acceptances that cover nothing any more; unflag those needed again.

    An acceptance is no longer needed when no open failure is left in its scope: every finding
    it was about now passes, or its resources are gone. People retire it (revoke) or keep it,
    e.g. while a fix is being rolled back; the flag and its history entry tell them. Returns
    (newly stale, needed again). ``scan_id``: the scan whose close runs this; the acceptances it
    flags are recorded among that scan's changes.
    """
    now = now or timezone.now()
    stale = needed = 0
    for acceptance in RiskAcceptance.objects.filter(state__in=RiskAcceptance.LIVE_STATES):
        has_failures = (
            _findings_in_scope(acceptance)
            .filter(
                status=Finding.Status.FAIL,
                resolved_at__isnull=True,
                resource__gone_at__isnull=True,
            )
            .exists()
        )
        with transaction.atomic():
            # Conditional updates, so two scans finishing together flag (and record) it once.
            if (
                not has_failures
                and acceptance.stale_since is None
                and RiskAcceptance.objects.filter(
                    pk=acceptance.pk, stale_since__isnull=True
                ).update(stale_since=now)
            ):
                _record(
                    acceptance,
                    AcceptanceEvent.Action.STALE,
                    None,
                    now,
                    {"stale_since": [None, now.isoformat()]},
                    "Every finding it covered now passes or is gone.",
                )
                if scan_id is not None:
                    # In the flag's own transaction: recorded exactly when it is flagged.
                    ScanChange.objects.create(
                        scan_id=scan_id,
                        kind=ScanChange.Kind.STALE_ACCEPTANCE,
                        acceptance=acceptance,
                        at=now,
                    )
                stale += 1
            elif (
                has_failures
                and acceptance.stale_since is not None
                and RiskAcceptance.objects.filter(
                    pk=acceptance.pk, stale_since__isnull=False
                ).update(stale_since=None)
            ):
                _record(
                    acceptance,
                    AcceptanceEvent.Action.EDITED,
                    None,
                    now,
                    {"stale_since": [acceptance.stale_since.isoformat(), None]},
                    "Findings in its scope fail again: it is needed again.",
                )
                needed += 1
    return stale, needed
