"""Acceptances: proposing, approving, editing and revoking a risk treatment decision."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from acceptances.models import (
    AcceptanceEvent,
    Reason,
    RiskAcceptance,
    Treatment,
    Zone,
)
from acceptances.services.coverage import _cover, _uncover
from acceptances.services.expiry import _validate_expiry
from acceptances.services.history import EDITABLE_FIELDS, _history_value, _record, _require
from cspm.roles import holds_a_role
from findings.models import CloudAccount, Control, Finding, Resource

OWNER_MESSAGE = "The owner must be an active user with a role."


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


def accept_risk_in_scope(
    *, by_zone: bool, zone: Zone | None = None, resources: Iterable[Resource] = (), **common: Any
) -> list[RiskAcceptance]:
    """The accept-risk dialog's choice: one acceptance for the control within ``zone``, or
    one per selected resource (see ``accept_risk`` and ``accept_risk_for_resources``; the other
    arguments are theirs)."""
    if by_zone:
        return [accept_risk(zone=zone, **common)]
    return accept_risk_for_resources(resources=list(resources), **common)


def default_zone() -> Zone | None:
    """The zone a new acceptance is offered first: the built-in one, which holds everything."""
    return Zone.objects.filter(is_builtin=True).first()


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
    # Ending earlier (see validate_shortening) is recorded as an edit, not as an extension.
    ended_earlier = is_extension and (
        acceptance.expires_at is None
        or (changes["expires_at"] is not None and changes["expires_at"] < acceptance.expires_at)
    )
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
    elif is_extension and not ended_earlier:
        action = AcceptanceEvent.Action.EXTENDED
    else:
        action = AcceptanceEvent.Action.EDITED
    _record(acceptance, action, actor, now, diff, note)
    if reaccept:
        _cover(acceptance)
    return acceptance
