"""Fix plans: the decision to remove a risk source (ISO 31000), tracked until a scan sees it
done. A plan changes no count (its findings stay failing until fixed); it says who fixes what by
when, flags itself overdue, and closes itself when the fix is seen."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from acceptances.models import FixPlan, FixPlanEvent, Zone, ZoneMembership
from acceptances.services.history import _require
from cspm.roles import holds_a_role
from findings.models import Control, Finding, Resource

_TICKET_URL = URLValidator(schemes=["http", "https"])


def validate_fix_plan(
    *,
    control: Control,
    resource: Resource | None,
    zone: Zone | None,
    owner: AbstractBaseUser | None,
    due_on: dt.date | None,
    ticket_url: str,
    today: dt.date,
) -> None:
    """Every problem of a new plan at once, each under the field it concerns."""
    errors: dict[str, str] = {}
    if (resource is None) == (zone is None):
        errors["scope"] = "Plan the fix either for one resource or for one zone."
    elif (
        resource is not None
        and not Finding.objects.filter(resource=resource, control_check__controls=control).exists()
    ):
        errors["control"] = f"Control {control.ref} is not evaluated on {resource}."
    if not holds_a_role(owner):
        errors["owner"] = "The owner must be an active user with a role."
    if due_on is None:
        errors["due_on"] = "Choose the day the fix is due."
    elif due_on < today:
        errors["due_on"] = "The due date is in the past; choose today or a later day."
    if ticket_url:
        try:
            _TICKET_URL(ticket_url)
        except ValidationError:
            errors["ticket_url"] = "Give a full http:// or https:// address, or leave it empty."
    if not errors:
        open_plans = FixPlan.objects.filter(control=control, state=FixPlan.State.OPEN)
        if resource is not None and open_plans.filter(resource=resource).exists():
            errors["scope"] = "This finding already has an open fix plan."
        if zone is not None and open_plans.filter(zone=zone).exists():
            errors["scope"] = "This control already has an open fix plan in this zone."
    if errors:
        raise ValidationError(errors)


def plan_fix(
    *,
    actor: AbstractBaseUser,
    control: Control,
    owner: AbstractBaseUser,
    due_on: dt.date,
    resource: Resource | None = None,
    zone: Zone | None = None,
    ticket_url: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> FixPlan:
    """Record the decision to fix a finding (or a control in a zone) by a day. Analysts may."""
    _require(actor, "acceptances.add_fixplan")
    now = now or timezone.now()
    ticket_url = ticket_url.strip()
    validate_fix_plan(
        control=control,
        resource=resource,
        zone=zone,
        owner=owner,
        due_on=due_on,
        ticket_url=ticket_url,
        today=timezone.localdate(now),
    )
    try:
        with transaction.atomic():
            plan = FixPlan.objects.create(
                control=control,
                resource=resource,
                zone=zone,
                owner=owner,
                due_on=due_on,
                ticket_url=ticket_url,
                note=note.strip(),
                created_by=actor,
                created_at=now,
            )
            FixPlanEvent.objects.create(
                plan=plan, action=FixPlanEvent.Action.PLANNED, actor=actor, at=now, note=note
            )
    except IntegrityError as exc:
        # Two people planning the same fix at once: the database's one-open-plan rule decides.
        raise ValidationError({"scope": "This already has an open fix plan."}) from exc
    return plan


def cancel_fix_plan(
    *, actor: AbstractBaseUser, plan: FixPlan, note: str = "", now: dt.datetime | None = None
) -> FixPlan:
    """Drop an open plan. Its creator or owner may; approvers may cancel any."""
    if actor is None or not actor.is_active:
        raise PermissionDenied("You do not have permission to do this.")
    if not (
        actor.has_perm("acceptances.change_fixplan")
        or actor.pk in (plan.created_by_id, plan.owner_id)
    ):
        raise PermissionDenied("Only its creator, its owner or an approver may cancel a fix plan.")
    now = now or timezone.now()
    with transaction.atomic():
        # Conditional: a scan closing it at the same moment wins or loses cleanly.
        if not FixPlan.objects.filter(pk=plan.pk, state=FixPlan.State.OPEN).update(
            state=FixPlan.State.CANCELLED, closed_at=now
        ):
            raise ValidationError({"state": "This plan is closed already."})
        FixPlanEvent.objects.create(
            plan=plan, action=FixPlanEvent.Action.CANCELLED, actor=actor, at=now, note=note
        )
    plan.refresh_from_db()
    return plan


def _still_failing(plan: FixPlan) -> bool:
    failing = Finding.objects.filter(
        control_check__controls=plan.control_id,
        status=Finding.Status.FAIL,
        resolved_at__isnull=True,
    )
    if plan.resource_id is not None:
        return failing.filter(resource_id=plan.resource_id).exists()
    zone = plan.zone
    if not zone.is_builtin:
        failing = failing.filter(
            resource_id__in=ZoneMembership.objects.filter(zone=zone).values("resource_id")
        )
    return failing.exists()


def close_fixed_plans(scan_id: int, now: dt.datetime) -> list[int]:
    """Close the open plans whose fix the scan's results show: the finding passes (or its
    resource is gone); for a zone, no finding of the control in the zone fails. Run inside the
    scan's closing transaction; open plans are few, each check is one indexed lookup."""
    closed: list[int] = []
    for plan in FixPlan.objects.filter(state=FixPlan.State.OPEN).select_related("zone"):
        if _still_failing(plan):
            continue
        if FixPlan.objects.filter(pk=plan.pk, state=FixPlan.State.OPEN).update(
            state=FixPlan.State.DONE, closed_at=now, closed_by_scan_id=scan_id
        ):
            FixPlanEvent.objects.create(
                plan=plan,
                action=FixPlanEvent.Action.DONE,
                actor=None,
                at=now,
                note=f"Scan #{scan_id} saw no failing finding.",
            )
            closed.append(plan.pk)
    return closed
