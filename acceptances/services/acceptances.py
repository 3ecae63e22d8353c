"""Acceptances: proposing, approving, editing and revoking a risk treatment decision.

With four-eyes on (``CSPM_REQUIRE_APPROVAL``), a change that widens or prolongs an approved
acceptance (a later or no expiry, a renewal, new wording of the decision) is proposed, not
applied: an ``AcceptanceChange`` waits for an approver other than its proposer, and meanwhile
the approved terms stay in force. A change that narrows it (an earlier expiry, a revocation) or
only says who answers for it (the owner) applies at once.

Owner sign-off (ISO/IEC 27001 6.1.3): the named owner accepts the residual risk with their own
login (``sign_off_acceptance``). Until then an acceptance "awaits its owner" and covers nothing.
Creating it, renewing it or naming oneself owner counts as the owner's sign-off when the person
doing it is the owner. With four-eyes on, approval and sign-off are both needed, in any order.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from acceptances import appetite, risk
from acceptances.models import (
    AcceptanceChange,
    AcceptanceEvent,
    Reason,
    RiskAcceptance,
    Treatment,
    Zone,
)
from acceptances.services.compensation import (
    Named,
    add_initial_compensation,
    check_acceptance,
    take_review_baseline,
    validate_compensating_controls,
)
from acceptances.services.coverage import _cover, _uncover
from acceptances.services.expiry import _validate_expiry
from acceptances.services.history import (
    ASSESSMENT_FIELDS,
    EDITABLE_FIELDS,
    _history_value,
    _record,
    _require,
)
from acceptances.services.signoff import request_signoff
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
        errors["reason_detail"] = (
            f"The reason is “{Reason.CUSTOM.label}”: say in a few words what it is."
        )
    if not (justification or "").strip():
        errors["justification"] = "Explain why this risk is acceptable."
    if treatment not in Treatment.values:
        errors["treatment"] = f"Unknown treatment '{treatment}'."
    if errors:
        raise ValidationError(errors)


def assessment(
    control: Control | None, likelihood: object, impact: object, *, default: bool = True
) -> tuple[int, int, str]:
    """Likelihood, impact and the residual rating they give; both omitted (and ``default``):
    the defaults from the control's severity (callers other than a person: commands, seeding).
    Raises ValidationError keyed by the level that is wrong."""
    if likelihood is None and impact is None and default:
        if control is None:
            raise ValidationError({"likelihood": "Rate the likelihood, 1 to 5."})
        likelihood, impact = risk.default_assessment(control.severity)
    errors: dict[str, str] = {}
    levels: dict[str, int] = {}
    for name, value in (("likelihood", likelihood), ("impact", impact)):
        if value is None:
            errors[name] = f"Rate the {name}, 1 to 5."
            continue
        try:
            levels[name] = risk.validate_level(value, name)
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise ValidationError(errors)
    return (
        levels["likelihood"],
        levels["impact"],
        risk.rating(levels["likelihood"], levels["impact"]),
    )


def appetite_limits(
    control: Control,
    resource: Resource | None,
    zone: Zone | None,
    likelihood: int | None,
    impact: int | None,
) -> appetite.Limits:
    """The risk appetite for an acceptance of ``control`` on this scope and assessment (an
    unassessed one is judged by the defaults of its control's severity)."""
    if likelihood is None or impact is None:
        likelihood, impact = risk.default_assessment(control.severity)
    return appetite.limits_for(
        control=control, resource=resource, zone=zone, rating=risk.rating(likelihood, impact)
    )


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
    likelihood: object = None,
    impact: object = None,
) -> None:
    """Every rule a new acceptance must meet, risk appetite included; raises ValidationError
    keyed by field.

    ``account``, when the caller works within one (the UI and API do), must hold the resource.
    """
    errors: dict[str, list[str]] = {}
    now = now or timezone.now()
    if account is not None and resource is not None and resource.account_id != account.pk:
        errors["resource"] = [f"{resource} is not a resource of account {account}."]
    checks = [
        lambda: _validate_reason(reason, reason_detail or "", justification or "", treatment),
        lambda: _validate_expiry(expires_at, now),
    ]
    if control is None:
        errors["control"] = ["Choose the control whose risk is accepted."]
    else:
        checks.append(lambda: _validate_scope(control, resource, zone))

        def within_appetite() -> None:
            levels = assessment(control, likelihood, impact)
            lim = appetite_limits(control, resource, zone, *levels[:2])
            appetite.check_term(lim, expires_at, now)

        checks.append(within_appetite)
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
    assessed = any(name in changes for name in ASSESSMENT_FIELDS)
    if assessed:
        # An assessment is changed, never taken away: both levels stay rated.
        assessment(acceptance.control, merged["likelihood"], merged["impact"], default=False)
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
    if "expires_at" in changes or reaccept or assessed:
        # Risk appetite, for the terms as they would stand: any new end, a renewal, and a new
        # assessment (a higher rating may bring a stricter rule into play).
        lim = appetite_limits(
            acceptance.control,
            acceptance.resource,
            acceptance.zone,
            merged["likelihood"],
            merged["impact"],
        )
        appetite.check_term(lim, merged["expires_at"], now or timezone.now())
        if reaccept:
            appetite.check_renewal(lim, acceptance.renewals)


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
    compensating_controls: Sequence[Named] = (),
    likelihood: int | None = None,
    impact: int | None = None,
    compensating_measures: str = "",
) -> RiskAcceptance:
    """Record a treatment decision for a control on one resource or in one zone.

    ``likelihood`` and ``impact`` (1 to 5) assess the residual risk; the UI and API require
    them, other callers may omit both for the defaults of the control's severity. The risk
    appetite must allow the end. With approval required, it starts as proposed and covers
    nothing until approved; so it does when an appetite rule names a role that must approve
    and the creator does not hold it. Unless the creator is the owner, it then awaits the
    owner's sign-off. ``compensating_controls``: (control, resource or None) pairs checked after
    every scan (``acceptances.services.compensation``); ``compensating_measures``: the others,
    in words.
    """
    _require(actor, "acceptances.add_riskacceptance")
    now = now or timezone.now()
    validate_new_acceptance(
        likelihood=likelihood,
        impact=impact,
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
    validate_compensating_controls(control, compensating_controls)
    likelihood, impact, rating = assessment(control, likelihood, impact)
    lim = appetite_limits(control, resource, zone, likelihood, impact)
    proposed = settings.CSPM_REQUIRE_APPROVAL or not _holds_approver_role(actor, lim)
    # Creating it is the owner's sign-off when the creator is the owner.
    signed_off_at = now if owner.pk == actor.pk else None
    if proposed:
        state = RiskAcceptance.State.PROPOSED
    elif signed_off_at is not None:
        state = RiskAcceptance.State.ACTIVE
    else:
        state = RiskAcceptance.State.AWAITING_OWNER
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
        state=state,
        owner_signed_off_at=signed_off_at,
        likelihood=likelihood,
        impact=impact,
        residual_rating=rating,
        compensating_measures=(compensating_measures or "").strip(),
    )
    try:
        # A savepoint, so that losing a race to a concurrent identical acceptance leaves the
        # outer transaction usable and the caller gets the same clear message.
        with transaction.atomic():
            acceptance.save()
    except IntegrityError:
        _validate_scope(control, resource, zone)
        raise
    snapshot = {
        name: [None, _history_value(getattr(acceptance, name))]
        for name in (*EDITABLE_FIELDS, "residual_rating")
    }
    if compensating_controls:
        snapshot["compensating_controls"] = [
            None,
            add_initial_compensation(acceptance, compensating_controls, now),
        ]
    snapshot["state"] = [None, state]
    if signed_off_at is not None:
        snapshot["owner_signed_off_at"] = [None, _history_value(signed_off_at)]
    _record(
        acceptance,
        AcceptanceEvent.Action.PROPOSED if proposed else AcceptanceEvent.Action.CREATED,
        actor,
        now,
        snapshot,
    )
    if state == RiskAcceptance.State.ACTIVE:
        _came_into_force(acceptance, now)
    elif state == RiskAcceptance.State.AWAITING_OWNER:
        request_signoff(acceptance)
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
    compensating_controls: Sequence[Named] = (),
    likelihood: int | None = None,
    impact: int | None = None,
    compensating_measures: str = "",
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
                        compensating_controls=compensating_controls,
                        likelihood=likelihood,
                        impact=impact,
                        compensating_measures=compensating_measures,
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


def _came_into_force(acceptance: RiskAcceptance, now: dt.datetime) -> None:
    """It is active now (created by its owner, approved and signed off, renewed): it covers its
    findings, keeps their evidence for re-review, and is suspended at once if a compensating
    control already fails (not only after the next scan)."""
    _cover(acceptance, now)
    take_review_baseline(acceptance, now)
    if acceptance.compensating_controls.exists():
        check_acceptance(acceptance, now)


def _lock(acceptance: RiskAcceptance) -> RiskAcceptance:
    return RiskAcceptance.objects.select_for_update().get(pk=acceptance.pk)


class SelfApprovalRefused(PermissionDenied):
    """Four-eyes: the person who chose the terms tried to approve them."""


def _refusing_self_approval(approve):
    """Record each refused self-approval (``APPROVAL_REFUSED``, with the actor) in a
    transaction of its own, after the approval's transaction has rolled back, then refuse.

    The approval runs in ``transaction.atomic``: an event written inside it would be rolled
    back with the refusal. Recorded here, it stands whichever door the attempt came through
    (page, API, admin console: they all call the service), unless the caller itself wraps the
    call in a transaction it rolls back.
    """

    @functools.wraps(approve)
    def approving(target, *, actor: AbstractBaseUser, **kwargs: Any) -> RiskAcceptance:
        try:
            return approve(target, actor=actor, **kwargs)
        except SelfApprovalRefused as exc:
            acceptance = target if isinstance(target, RiskAcceptance) else target.acceptance
            with transaction.atomic():
                _record(
                    acceptance,
                    AcceptanceEvent.Action.APPROVAL_REFUSED,
                    actor,
                    kwargs.get("now") or timezone.now(),
                    {},
                    str(exc),
                )
            raise

    return approving


@_refusing_self_approval
@transaction.atomic
def approve_acceptance(
    acceptance: RiskAcceptance, *, actor: AbstractBaseUser, now: dt.datetime | None = None
) -> RiskAcceptance:
    """Four-eyes: an approver other than the creator approves a proposal. It is in force
    (active) if its owner has signed it off already, else it now awaits the owner. A refused
    self-approval is recorded in the history (``_refusing_self_approval``)."""
    _require(actor, "acceptances.approve_riskacceptance")
    now = now or timezone.now()
    acceptance = _lock(acceptance)
    if acceptance.state != RiskAcceptance.State.PROPOSED:
        raise ValidationError({"state": "Only a proposed acceptance can be approved."})
    if acceptance.created_by_id == actor.pk:
        raise SelfApprovalRefused(
            "An acceptance must be approved by someone other than its creator."
        )
    if acceptance.events.filter(
        actor=actor, action__in=[AcceptanceEvent.Action.EDITED, AcceptanceEvent.Action.EXTENDED]
    ).exists():
        # Otherwise one person would have chosen the terms in force alone.
        raise SelfApprovalRefused(
            "You changed this proposal's terms: someone else must approve it."
        )
    if acceptance.expires_at is not None and acceptance.expires_at <= now:
        raise ValidationError({"expires_at": "This proposal's expiry has passed; edit it first."})
    # Risk appetite as of now: the approver's role, and the term (rules may have changed
    # since it was proposed).
    lim = appetite_limits(
        acceptance.control,
        acceptance.resource,
        acceptance.zone,
        acceptance.likelihood,
        acceptance.impact,
    )
    appetite.check_approver(lim, appetite.roles_of(actor))
    appetite.check_term(lim, acceptance.expires_at, now)
    signed = acceptance.owner_signed_off_at is not None
    acceptance.state = (
        RiskAcceptance.State.ACTIVE if signed else RiskAcceptance.State.AWAITING_OWNER
    )
    acceptance.approved_by = actor
    acceptance.approved_at = now
    acceptance.save(update_fields=["state", "approved_by", "approved_at", "updated_at"])
    _record(
        acceptance,
        AcceptanceEvent.Action.APPROVED,
        actor,
        now,
        {"state": ["proposed", acceptance.state]},
    )
    if signed:
        _came_into_force(acceptance, now)
    else:
        request_signoff(acceptance)
    return acceptance


SIGNOFF_STATES = (RiskAcceptance.State.PROPOSED, RiskAcceptance.State.AWAITING_OWNER)


@transaction.atomic
def sign_off_acceptance(
    acceptance: RiskAcceptance,
    *,
    actor: AbstractBaseUser,
    note: str = "",
    now: dt.datetime | None = None,
) -> RiskAcceptance:
    """The named owner accepts the residual risk (ISO/IEC 27001 6.1.3), with their own login.

    Only the owner may: nobody signs off for someone else, whatever their role. Awaiting the
    owner, it comes into force at once and covers its findings; still a proposal (four-eyes),
    the sign-off is recorded and it comes into force when an approver approves it.
    """
    now = now or timezone.now()
    acceptance = _lock(acceptance)
    if actor is None or not actor.is_active or actor.pk != acceptance.owner_id:
        raise PermissionDenied(
            f"Only the acceptance's owner, {acceptance.owner}, may accept its residual risk."
        )
    if acceptance.owner_signed_off_at is not None:
        raise ValidationError(
            {
                "state": "The owner already accepted this residual risk on "
                f"{timezone.localtime(acceptance.owner_signed_off_at):%Y-%m-%d %H:%M}."
            }
        )
    if acceptance.state not in SIGNOFF_STATES:
        raise ValidationError(
            {
                "state": "Only an acceptance awaiting its owner's sign-off can be signed off; "
                f"this one is {acceptance.get_state_display().lower()}."
            }
        )
    if acceptance.expires_at is not None and acceptance.expires_at <= now:
        raise ValidationError({"expires_at": "Its end has passed; renew it instead."})
    before = acceptance.state
    acceptance.owner_signed_off_at = now
    changes: dict[str, list[Any]] = {"owner_signed_off_at": [None, _history_value(now)]}
    if before == RiskAcceptance.State.AWAITING_OWNER:
        acceptance.state = RiskAcceptance.State.ACTIVE
        changes["state"] = [before, acceptance.state]
    acceptance.save(update_fields=["state", "owner_signed_off_at", "updated_at"])
    _record(acceptance, AcceptanceEvent.Action.SIGNED_OFF, actor, now, changes, note)
    if acceptance.state == RiskAcceptance.State.ACTIVE:
        _came_into_force(acceptance, now)
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
    pending = _pending_change(acceptance)
    if pending is not None:
        _decide(pending, AcceptanceChange.State.REJECTED, actor, now, "The acceptance was revoked.")
    _uncover(acceptance, now)
    return acceptance


def _holds_approver_role(actor: AbstractBaseUser, lim: appetite.Limits) -> bool:
    try:
        appetite.check_approver(lim, appetite.roles_of(actor))
    except ValidationError:
        return False
    return True


def _widens(
    acceptance: RiskAcceptance,
    name: str,
    value: Any,
    changes: dict[str, Any] | None = None,
    second_approval: bool | None = None,
) -> bool:
    """Whether changing ``name`` to ``value`` widens or prolongs the approved acceptance, so
    that, with four-eyes on (or ``second_approval``: an appetite rule's approver role the
    actor lacks), a second approver must approve it first."""
    if second_approval is None:
        second_approval = settings.CSPM_REQUIRE_APPROVAL
    if not second_approval or acceptance.state == RiskAcceptance.State.PROPOSED:
        # Off, or not approved yet: the approval of the proposal covers its final terms.
        return False
    if acceptance.state == RiskAcceptance.State.EXPIRED:
        return True  # a renewal, whatever else it changes
    if name == "owner":
        return False  # who answers for the risk: it covers nothing more
    if name == "expires_at":
        current = acceptance.expires_at
        return current is not None and (value is None or value > current)
    if name in ASSESSMENT_FIELDS:
        # A lower likelihood or impact is a stronger claim (a lower residual rating); a higher
        # one only says the risk is worse. Both levels go together: either lowered widens.
        changes = changes or {name: value}
        for level in ASSESSMENT_FIELDS:
            before = getattr(acceptance, level)
            after = changes.get(level, before)
            if before is None or (after is not None and after < before):
                return True
        return False
    return True  # the decision's wording: justification, reason, its detail, treatment


def _diff(acceptance: RiskAcceptance, changes: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        name: [_history_value(getattr(acceptance, name)), _history_value(value)]
        for name, value in changes.items()
        if getattr(acceptance, name) != value
    }


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
    expired acceptance makes it active again with a new expiry. With four-eyes on, what widens
    or prolongs an approved acceptance is proposed instead (see ``_widens``): the returned
    acceptance keeps its approved terms and carries the proposal as ``proposed_change`` (None
    when everything applied at once).
    """
    now = now or timezone.now()
    acceptance = _lock(acceptance)
    acceptance.proposed_change = None
    validate_update(acceptance, changes, now)
    diff = _diff(acceptance, changes)
    if not diff:
        return acceptance
    if "expires_at" in diff or acceptance.state == RiskAcceptance.State.EXPIRED:
        _require(actor, "acceptances.extend_riskacceptance")
    else:
        _require(actor, "acceptances.change_riskacceptance")
    merged = {name: changes.get(name, getattr(acceptance, name)) for name in ASSESSMENT_FIELDS}
    lim = appetite_limits(
        acceptance.control,
        acceptance.resource,
        acceptance.zone,
        merged["likelihood"],
        merged["impact"],
    )
    # An appetite rule's approver role the actor lacks asks a second approval of what widens,
    # as four-eyes does.
    second = settings.CSPM_REQUIRE_APPROVAL or not _holds_approver_role(actor, lim)
    proposed = {
        name: changes[name]
        for name in diff
        if _widens(acceptance, name, changes[name], changes, second_approval=second)
    }
    if proposed:
        acceptance.proposed_change = _propose(acceptance, proposed, actor, now, note)
    immediate = {name: changes[name] for name in diff if name not in proposed}
    if immediate:
        _apply(acceptance, immediate, actor, now, note)
    return acceptance


def _apply(
    acceptance: RiskAcceptance,
    changes: dict[str, Any],
    actor: AbstractBaseUser,
    now: dt.datetime,
    note: str,
    action: str | None = None,
    signed_by: tuple[int, ...] = (),
) -> None:
    """Put ``changes`` in force on the locked ``acceptance``, with its history and coverage.

    A new owner, a renewal or a new assessment asks the owner to sign off again, unless the
    owner is the person
    making it (``actor``, or one of ``signed_by``: the proposer of an approved change): an
    acceptance in force then awaits its owner and its findings fail again until they do.
    """
    diff = _diff(acceptance, changes)
    before = acceptance.state
    reaccept = before == RiskAcceptance.State.EXPIRED
    owner_changed = "owner" in diff
    is_extension = "expires_at" in diff
    ended_earlier = is_extension and (
        acceptance.expires_at is None
        or (changes["expires_at"] is not None and changes["expires_at"] < acceptance.expires_at)
    )
    for name, value in changes.items():
        setattr(acceptance, name, value)
    reassessed = False
    if any(name in diff for name in ASSESSMENT_FIELDS):
        rating = risk.rating(acceptance.likelihood, acceptance.impact)
        reassessed = True
        if rating != acceptance.residual_rating:
            diff["residual_rating"] = [acceptance.residual_rating, rating]
            acceptance.residual_rating = rating
    if reaccept:
        # Counted against the risk appetite's renewals (``validate_update``).
        diff["renewals"] = [acceptance.renewals, acceptance.renewals + 1]
        acceptance.renewals += 1
    # A new owner, a renewal or a new assessment asks the owner to accept the residual risk
    # again, unless the owner is the one making the change.
    if owner_changed or reaccept or reassessed:
        signed = acceptance.owner_id in {actor.pk, *signed_by}
        signed_off_at = now if signed else None
        if acceptance.owner_signed_off_at != signed_off_at:
            diff["owner_signed_off_at"] = [
                _history_value(acceptance.owner_signed_off_at),
                _history_value(signed_off_at),
            ]
        acceptance.owner_signed_off_at = signed_off_at
        acceptance.signoff_reminded_at = None
        if reaccept:
            acceptance.handled_at = None
            acceptance.state = (
                RiskAcceptance.State.ACTIVE if signed else RiskAcceptance.State.AWAITING_OWNER
            )
        elif before == RiskAcceptance.State.ACTIVE and not signed:
            acceptance.state = RiskAcceptance.State.AWAITING_OWNER
        elif before == RiskAcceptance.State.AWAITING_OWNER and signed:
            acceptance.state = RiskAcceptance.State.ACTIVE
        # A suspended acceptance stays suspended: it resumes only once signed off again.
    if acceptance.state != before:
        diff["state"] = [before, acceptance.state]
    if is_extension:
        # A new expiry date means new reminders.
        acceptance.warned_at = None
    acceptance.save()
    if action is None:
        if reaccept:
            action = AcceptanceEvent.Action.REACCEPTED
        elif is_extension and not ended_earlier:
            action = AcceptanceEvent.Action.EXTENDED
        else:
            # Ending earlier (see validate_shortening) is recorded as an edit, not an extension.
            action = AcceptanceEvent.Action.EDITED
    _record(acceptance, action, actor, now, diff, note)
    if acceptance.state == RiskAcceptance.State.ACTIVE and before != RiskAcceptance.State.ACTIVE:
        _came_into_force(acceptance, now)
    elif before == RiskAcceptance.State.ACTIVE and acceptance.state != before:
        _uncover(acceptance, now)
    if acceptance.state == RiskAcceptance.State.AWAITING_OWNER and (
        before != acceptance.state or owner_changed
    ):
        request_signoff(acceptance)


# --- Proposed changes (four-eyes on widening changes) -------------------------------------------


def _encode(name: str, value: Any) -> Any:
    """A term as stored in ``AcceptanceChange.terms`` (JSON)."""
    if name == "expires_at":
        return value.isoformat() if value is not None else None
    if name == "owner":
        return value.pk
    return value


def _decode(name: str, value: Any) -> Any:
    if name == "expires_at":
        return parse_datetime(value) if value is not None else None
    if name == "owner":
        return get_user_model().objects.get(pk=value)
    return value


def _pending_change(acceptance: RiskAcceptance) -> AcceptanceChange | None:
    return (
        AcceptanceChange.objects.select_for_update()
        .filter(acceptance=acceptance, state=AcceptanceChange.State.PENDING)
        .first()
    )


def _propose(
    acceptance: RiskAcceptance,
    changes: dict[str, Any],
    actor: AbstractBaseUser,
    now: dt.datetime,
    note: str,
) -> AcceptanceChange:
    pending = _pending_change(acceptance)
    if pending is not None:
        raise ValidationError(
            {
                "pending_change": f"A change proposed by {pending.proposed_by} on "
                f"{pending.proposed_at:%Y-%m-%d %H:%M} awaits approval: have it approved or "
                "rejected (or withdraw it) first."
            }
        )
    change = AcceptanceChange.objects.create(
        acceptance=acceptance,
        terms={name: _encode(name, value) for name, value in changes.items()},
        before={name: _encode(name, getattr(acceptance, name)) for name in changes},
        renews=acceptance.state == RiskAcceptance.State.EXPIRED,
        note=note,
        proposed_by=actor,
        proposed_at=now,
    )
    diff = _diff(acceptance, changes)
    if any(name in diff for name in ASSESSMENT_FIELDS):
        merged = {name: changes.get(name, getattr(acceptance, name)) for name in ASSESSMENT_FIELDS}
        rating = risk.rating(merged["likelihood"], merged["impact"])
        if rating != acceptance.residual_rating:
            diff["residual_rating"] = [acceptance.residual_rating, rating]
    if change.renews:
        diff["state"] = ["expired", "active"]
    _record(acceptance, AcceptanceEvent.Action.CHANGE_PROPOSED, actor, now, diff, note)
    return change


def _decide(
    change: AcceptanceChange,
    state: str,
    actor: AbstractBaseUser,
    now: dt.datetime,
    note: str,
) -> None:
    change.state = state
    change.decided_by = actor
    change.decided_at = now
    change.decision_note = note
    change.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    if state != AcceptanceChange.State.APPROVED:
        action = (
            AcceptanceEvent.Action.CHANGE_WITHDRAWN
            if state == AcceptanceChange.State.WITHDRAWN
            else AcceptanceEvent.Action.CHANGE_REJECTED
        )
        _record(change.acceptance, action, actor, now, {}, note)


def _locked_change(change: AcceptanceChange) -> tuple[AcceptanceChange, RiskAcceptance]:
    # The acceptance first, as every other service locks it: no deadlock with an edit.
    acceptance = RiskAcceptance.objects.select_for_update().get(pk=change.acceptance_id)
    change = AcceptanceChange.objects.select_for_update().get(pk=change.pk)
    change.acceptance = acceptance
    if not change.is_pending:
        raise ValidationError(
            {"state": f"This change is no longer awaiting approval ({change.get_state_display()})."}
        )
    return change, acceptance


@_refusing_self_approval
@transaction.atomic
def approve_acceptance_change(
    change: AcceptanceChange,
    *,
    actor: AbstractBaseUser,
    note: str = "",
    now: dt.datetime | None = None,
) -> RiskAcceptance:
    """Four-eyes: an approver other than the proposer puts the proposed terms in force. A
    refused self-approval is recorded in the history (``_refusing_self_approval``)."""
    _require(actor, "acceptances.approve_riskacceptance")
    now = now or timezone.now()
    change, acceptance = _locked_change(change)
    if change.proposed_by_id == actor.pk:
        raise SelfApprovalRefused(
            f"A change must be approved by someone other than its proposer "
            f"(the change proposed on {change.proposed_at:%Y-%m-%d %H:%M})."
        )
    terms = {name: _decode(name, value) for name, value in change.terms.items()}
    # The rules again, as of now: the proposed expiry may have passed meanwhile, another
    # acceptance may have taken the scope of an expired one, the owner may have left, the
    # risk appetite may not allow it (or not this approver).
    validate_update(acceptance, terms, now)
    merged = {name: terms.get(name, getattr(acceptance, name)) for name in ASSESSMENT_FIELDS}
    lim = appetite_limits(
        acceptance.control,
        acceptance.resource,
        acceptance.zone,
        merged["likelihood"],
        merged["impact"],
    )
    appetite.check_approver(lim, appetite.roles_of(actor))
    _decide(change, AcceptanceChange.State.APPROVED, actor, now, note)
    proposal = f"Proposed by {change.proposed_by} on {change.proposed_at:%Y-%m-%d %H:%M}."
    _apply(
        acceptance,
        terms,
        actor,
        now,
        " ".join(part for part in (proposal, note) if part),
        action=AcceptanceEvent.Action.CHANGE_APPROVED,
        signed_by=(change.proposed_by_id,),
    )
    return acceptance


@transaction.atomic
def reject_acceptance_change(
    change: AcceptanceChange,
    *,
    actor: AbstractBaseUser,
    note: str = "",
    now: dt.datetime | None = None,
) -> RiskAcceptance:
    """Refuse a proposed change (an approver), or withdraw it (its proposer): the approved
    terms simply stay."""
    now = now or timezone.now()
    change, acceptance = _locked_change(change)
    if change.proposed_by_id == actor.pk:
        _decide(change, AcceptanceChange.State.WITHDRAWN, actor, now, note)
    else:
        _require(actor, "acceptances.approve_riskacceptance")
        _decide(change, AcceptanceChange.State.REJECTED, actor, now, note)
    return acceptance
