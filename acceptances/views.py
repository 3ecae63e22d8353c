"""Treatment pages: accept a risk (the dialog), the acceptances list and detail, zones.

Views parse the form and call one service; the services check the role again, validate and
write the history. Errors come back keyed by field and are shown beside it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from acceptances import queries, risk, services, wording
from acceptances.benchmarks import across_benchmarks, carry_over
from acceptances.forms import (
    AcceptanceFilterForm,
    AcceptRiskForm,
    AttestationForm,
    AuditFilterForm,
    CompensationForm,
    ExtendForm,
    FixPlanForm,
    PreviewForm,
    ReviewedForm,
    RevokeForm,
    ShortenForm,
    WatchForm,
    ZoneForm,
)
from acceptances.models import (
    AcceptanceChange,
    AcceptanceEvent,
    FixPlan,
    RiskAcceptance,
    Zone,
    ZoneWatch,
)
from acceptances.services import compensation
from acceptances.zones import RULE_KEYS as RULE_FIELDS
from cspm.api.base import streaming_export
from findings.models import Benchmark, Control
from findings.queries import benchmarks as findings_benchmarks

PAGE_SIZE = 50


def _read(perm: str):
    return permission_required(perm, raise_exception=True)


def _errors_to_form(form, exc: ValidationError) -> None:
    """Put a service's errors beside the fields they name (the rest on top of the form)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.message_dict.items():
        name = {
            "expires_at": "expires_on",
            "resource": "resources",
            # The service names the list; the form shows it beside its first row.
            "compensating_controls": "compensating_control_0",
        }.get(field, field)
        for error in errors:
            # Zone rule errors read "tags: ..." and belong beside that rule's field.
            prefix, _, rest = error.partition(": ")
            if field == "rules" and prefix in form.fields:
                form.add_error(prefix, rest)
            else:
                form.add_error(name if name in form.fields else None, error)


def _as_id(raw: str | None) -> int | None:
    """An id from a query or form value, or None: "abc" or "1.5" must not reach a lookup
    (the database layer raises ValueError on them, a 500)."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw)
    return None


# --- Accept risk ------------------------------------------------------------------------------


@_read("acceptances.add_riskacceptance")
def accept_risk(request: HttpRequest) -> HttpResponse:
    """The accept-risk dialog: GET shows it for a control (and a selection), POST saves."""
    now = timezone.now()
    if request.method == "POST":
        form = AcceptRiskForm(request.POST)
    else:
        control_id = _as_id(request.GET.get("control"))
        if control_id is None:
            return HttpResponseBadRequest("control: an id (a whole number) is required.")
        control = get_object_or_404(Control, pk=control_id)
        resources = [r for r in request.GET.getlist("resource") if _as_id(r)]
        initial = {
            "control": control,
            "owner": request.user,
            "scope": AcceptRiskForm.SCOPE_RESOURCES if resources else AcceptRiskForm.SCOPE_ZONE,
            "resources": resources,
            "zone": request.GET.get("zone") or services.default_zone(),
            "expiry": "30",
        }
        form = AcceptRiskForm(initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            common = {
                "actor": request.user,
                "control": data["control"],
                "owner": data["owner"],
                "reason": data["reason"],
                "reason_detail": data["reason_detail"],
                "justification": data["justification"],
                "treatment": data["treatment"],
                "expires_at": data["expires_at"],
                "likelihood": data["likelihood"],
                "impact": data["impact"],
                "compensating_measures": data["compensating_measures"],
                "now": now,
                "compensating_controls": form.compensating,
            }
            created = services.accept_risk_in_scope(
                by_zone=data["scope"] == AcceptRiskForm.SCOPE_ZONE,
                zone=data["zone"],
                resources=data["resources"] or (),
                **common,
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            state = created[0].get_state_display().lower()
            covered = sum(a.covered_findings.count() for a in created)
            text = (
                f"Risk of {data['control'].ref} accepted ({state}): "
                f"{len(created)} acceptance{'s' if len(created) != 1 else ''}, "
                f"{covered} finding{'s' if covered != 1 else ''} covered."
            )
            messages.success(request, text)
            if request.htmx:
                # The page behind the dialog refreshes its counts and list in place.
                response = render(
                    request, "acceptances/_accept_done.html", {"text": text, "created": created}
                )
                return trigger_client_event(response, "posture-changed")
            return redirect("control-detail", pk=data["control"].pk)
    control = form.cleaned_data.get("control") if form.is_bound and form.is_valid() else None
    if control is None:
        control = (
            form.initial.get("control")
            or Control.objects.filter(pk=_as_id(request.POST.get("control")) or 0).first()
        )
    context = {
        "form": form,
        "control": control,
        "selected": _selected(form),
        "preview": _preview(form, control),
    }
    template = "acceptances/_accept_form.html" if request.htmx else "acceptances/accept.html"
    return render(request, template, context, status=400 if form.is_bound else 200)


def _selected(form: AcceptRiskForm):
    from findings.models import Resource

    ids = form.data.getlist("resources") if form.is_bound else form.initial.get("resources", [])
    ids = [i for i in ids if _as_id(str(i))]
    return list(Resource.objects.filter(pk__in=ids).order_by("name")[:200])


def _preview(form: AcceptRiskForm, control: Control | None) -> dict:
    """How many findings the scope would cover, before saving."""
    if control is None:
        return {}
    if form.is_bound:
        return _count(PreviewForm(form.data))
    zone = form.initial.get("zone")
    data = {
        "control": control.pk,
        "scope": form.initial.get("scope"),
        "zone": getattr(zone, "pk", zone),
        "resources": form.initial.get("resources", []),
    }
    return _count(PreviewForm(data))


def _count(preview: PreviewForm) -> dict:
    if not preview.is_valid():
        return {"error": "Choose a scope to see what it covers."}
    data = preview.cleaned_data
    return services.preview_cover(
        data["control"],
        by_zone=data["scope"] == AcceptRiskForm.SCOPE_ZONE,
        zone=data.get("zone"),
        resources=data.get("resources") or (),
    )


@_read("acceptances.add_riskacceptance")
def accept_assessment(request: HttpRequest) -> HttpResponse:
    """The dialog's assessment panel (rating, matrix, what the risk appetite allows) and its
    expiry choices, recomputed as the scope or the assessment changes."""
    form = AcceptRiskForm(request.POST if request.method == "POST" else request.GET)
    return render(request, "acceptances/_assessment.html", {"form": form, "oob": True})


@_read("acceptances.add_riskacceptance")
def accept_preview(request: HttpRequest) -> HttpResponse:
    """The live count in the dialog, recomputed as the scope changes."""
    form = PreviewForm(request.POST if request.method == "POST" else request.GET)
    return render(request, "acceptances/_cover_preview.html", {"preview": _count(form)})


# --- Acceptances ------------------------------------------------------------------------------


@_read("acceptances.view_riskacceptance")
def acceptance_list(request: HttpRequest) -> HttpResponse:
    form = AcceptanceFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    acceptances = queries.get_acceptances(
        zone=filters.get("zone"),
        control_ref=filters.get("control", ""),
        reason=filters.get("reason", ""),
        owner=filters.get("owner"),
        state=filters.get("state", ""),
        expires_within_days=filters.get("expires_within"),
        needs_review=bool(filters.get("needs_review")),
        hygiene=filters.get("hygiene", ""),
        sort=filters.get("sort", ""),
        now=timezone.now(),
    )
    page = Paginator(acceptances, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "acceptances/acceptance_list.html",
        {
            "form": form,
            "page": page,
            "now": timezone.now(),
            "waiting": filters.get("sort") == "waiting",
        },
    )


@_read("acceptances.view_riskacceptance")
def hygiene_page(request: HttpRequest) -> HttpResponse:
    """Exception hygiene: the numbers auditors and security leads ask for, each a link to the
    list behind it. Whoever may read acceptances reads it."""
    from acceptances.hygiene import get_hygiene

    return render(request, "acceptances/hygiene.html", {"h": get_hygiene(timezone.now())})


def _change_lines(change: AcceptanceChange) -> list[str]:
    rows = queries.get_change_rows(change)
    return wording.describe_changes(rows, wording.people_named([rows]))


def _detail_context(request: HttpRequest, acceptance: RiskAcceptance, **forms) -> dict:
    user = request.user
    pending = queries.get_pending_change(acceptance)
    awaits_signoff = (
        acceptance.state in services.SIGNOFF_STATES and acceptance.owner_signed_off_at is None
    )
    return {
        "acceptance": acceptance,
        "pending_change": pending,
        "pending_lines": _change_lines(pending) if pending else [],
        "pending_by": wording.person(pending.proposed_by) if pending else "",
        "pending_when": wording.when(pending.proposed_at) if pending else "",
        # Four-eyes: the proposer may withdraw it, never approve it.
        "can_decide_change": pending is not None
        and pending.proposed_by_id != user.pk
        and user.has_perm("acceptances.approve_riskacceptance"),
        "can_withdraw_change": pending is not None and pending.proposed_by_id == user.pk,
        "events": wording.describe_events(
            # Decisions: coverage counts are the register's (``acceptances.register``).
            acceptance.events.exclude(action=AcceptanceEvent.Action.COVERAGE)
            .select_related("actor")
            .order_by("-at", "-pk")
        ),
        "covered": acceptance.covered_findings.count(),
        "across": across_benchmarks(acceptance),
        "likelihood_words": risk.LIKELIHOOD_LEVELS.get(acceptance.likelihood, ("",))[0],
        "impact_words": risk.IMPACT_LEVELS.get(acceptance.impact, ("",))[0],
        "revoke_form": forms.get("revoke_form") or RevokeForm(auto_id="revoke_%s"),
        "extend_form": forms.get("extend_form")
        or ExtendForm(initial={"expiry": "30"}, auto_id="extend_%s", acceptance=acceptance),
        "shorten_form": forms.get("shorten_form")
        or ShortenForm(auto_id="shorten_%s", acceptance=acceptance),
        "can_shorten": acceptance.is_live and user.has_perm("acceptances.extend_riskacceptance"),
        # The owner's sign-off: only the named owner, with their own login, ever gets the button.
        "awaits_signoff": awaits_signoff,
        "can_sign_off": awaits_signoff and acceptance.owner_id == user.pk,
        "can_approve": acceptance.state == RiskAcceptance.State.PROPOSED
        and user.has_perm("acceptances.approve_riskacceptance")
        and acceptance.created_by_id != user.pk,
        "can_revoke": acceptance.is_live and user.has_perm("acceptances.revoke_riskacceptance"),
        "can_extend": acceptance.state
        in (
            RiskAcceptance.State.ACTIVE,
            RiskAcceptance.State.PROPOSED,
            RiskAcceptance.State.AWAITING_OWNER,
            RiskAcceptance.State.SUSPENDED,
            RiskAcceptance.State.EXPIRED,
        )
        and user.has_perm("acceptances.extend_riskacceptance"),
        "now": timezone.now(),
        **_compensation_context(request, acceptance, **forms),
    }


def _compensation_context(request: HttpRequest, acceptance: RiskAcceptance, **forms) -> dict:
    """The compensating controls with their verdicts, the suspension banner, and the re-review
    flag with a readable before/after of what changed."""
    user = request.user
    rows = list(acceptance.compensating_controls.select_related("control", "resource"))
    suspension = None
    if acceptance.state == RiskAcceptance.State.SUSPENDED:
        suspension = acceptance.events.filter(action="suspended").order_by("-at", "-pk").first()
    reason = acceptance.review_reason or {}
    review_findings = [
        {**item, "diff": compensation.evidence_diff(item.get("before"), item.get("after"))}
        for item in reason.get("findings", [])
    ]
    initial: dict = {"compensating_measures": acceptance.compensating_measures}
    for i, row in enumerate(rows[:3]):
        initial[f"compensating_control_{i}"] = row.control
        initial[f"compensating_resource_{i}"] = row.resource.arn if row.resource else ""
    return {
        "compensating": rows,
        "suspension": suspension,
        "review_findings": review_findings,
        "review_zone_size": reason.get("zone_size"),
        "review_summary": compensation.describe_review_reason(reason) if reason else "",
        "can_mark_reviewed": acceptance.review_flagged_at is not None
        and compensation.may_mark_reviewed(acceptance, user),
        "reviewed_form": forms.get("reviewed_form") or ReviewedForm(auto_id="reviewed_%s"),
        "can_edit_compensation": acceptance.is_live
        and user.has_perm("acceptances.change_riskacceptance"),
        "compensation_form": forms.get("compensation_form")
        or CompensationForm(
            initial=initial,
            auto_id="compensation_%s",
            benchmark_id=acceptance.control.benchmark_id,
            exclude_control=acceptance.control_id,
        ),
    }


@require_POST
@_read("acceptances.view_riskacceptance")
def acceptance_compensation(request: HttpRequest, pk: int) -> HttpResponse:
    """Replace the compensating controls and measures (as editing the acceptance)."""
    acceptance = get_object_or_404(RiskAcceptance.objects.select_related("control"), pk=pk)
    if not request.user.has_perm("acceptances.change_riskacceptance"):
        raise PermissionDenied("Only approvers and admins may change an acceptance's terms.")
    form = CompensationForm(
        request.POST,
        auto_id="compensation_%s",
        benchmark_id=acceptance.control.benchmark_id,
        exclude_control=acceptance.control_id,
    )
    if form.is_valid():
        try:
            updated = compensation.set_compensating_controls(
                acceptance,
                actor=request.user,
                controls=form.compensating,
                measures=form.cleaned_data["compensating_measures"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            text = "Compensating controls saved."
            if updated.state == RiskAcceptance.State.SUSPENDED:
                text += " One fails now: the acceptance is suspended."
            return _acted(request, acceptance, text)
    context = _detail_context(request, acceptance, compensation_form=form)
    return render(request, "acceptances/acceptance_detail.html", context, status=400)


@require_POST
@_read("acceptances.view_riskacceptance")
def acceptance_reviewed(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark reviewed: the owner or an approver keeps the acceptance after a material change."""
    acceptance = get_object_or_404(RiskAcceptance, pk=pk)
    form = ReviewedForm(request.POST, auto_id="reviewed_%s")
    if form.is_valid():
        try:
            compensation.mark_reviewed(
                acceptance, actor=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            return _acted(request, acceptance, "Marked reviewed: a new baseline is taken.")
    context = _detail_context(request, acceptance, reviewed_form=form)
    return render(request, "acceptances/acceptance_detail.html", context, status=400)


@_read("acceptances.view_riskacceptance")
def acceptance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    acceptance = get_object_or_404(
        RiskAcceptance.objects.select_related(
            "control", "zone", "resource", "owner", "created_by", "approved_by", "revoked_by"
        ),
        pk=pk,
    )
    return render(
        request, "acceptances/acceptance_detail.html", _detail_context(request, acceptance)
    )


def _acted(request: HttpRequest, acceptance: RiskAcceptance, text: str) -> HttpResponse:
    messages.success(request, text)
    url = reverse("acceptance-detail", args=[acceptance.pk])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_POST
@_read("acceptances.view_riskacceptance")
def acceptance_approve(request: HttpRequest, pk: int) -> HttpResponse:
    acceptance = get_object_or_404(RiskAcceptance, pk=pk)
    try:
        approved = services.approve_acceptance(acceptance, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("acceptance-detail", pk=pk)
    if approved.state == RiskAcceptance.State.AWAITING_OWNER:
        text = f"Approved: it covers its findings once its owner, {approved.owner}, signs it off."
    else:
        text = "Approved: the acceptance now covers its findings."
    return _acted(request, acceptance, text)


@require_POST
@_read("acceptances.view_riskacceptance")
def acceptance_sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner accepts the residual risk: one click, with their own login."""
    acceptance = get_object_or_404(RiskAcceptance, pk=pk)
    try:
        signed = services.sign_off_acceptance(acceptance, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("acceptance-detail", pk=pk)
    if signed.state == RiskAcceptance.State.ACTIVE:
        text = "Signed off: you accepted the residual risk; it now covers its findings."
    else:
        text = "Signed off: you accepted the residual risk; it covers its findings once approved."
    return _acted(request, acceptance, text)


@require_POST
@_read("acceptances.view_riskacceptance")
def acceptance_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    acceptance = get_object_or_404(RiskAcceptance, pk=pk)
    if not request.user.has_perm("acceptances.revoke_riskacceptance"):
        raise PermissionDenied("Only approvers may revoke an acceptance.")
    form = RevokeForm(request.POST, auto_id="revoke_%s")
    if form.is_valid():
        try:
            services.revoke_acceptance(
                acceptance, actor=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
            messages.error(request, " ".join(exc.messages))
        else:
            return _acted(request, acceptance, "Revoked: its findings fail again.")
    context = _detail_context(request, acceptance, revoke_form=form)
    return render(request, "acceptances/acceptance_detail.html", context, status=400)


@require_POST
@_read("acceptances.view_riskacceptance")
def acceptance_extend(request: HttpRequest, pk: int) -> HttpResponse:
    """Extend a live acceptance, or renew an expired one, with a new end."""
    acceptance = get_object_or_404(RiskAcceptance, pk=pk)
    if not request.user.has_perm("acceptances.extend_riskacceptance"):
        raise PermissionDenied("Only approvers may extend or renew an acceptance.")
    form = ExtendForm(request.POST, auto_id="extend_%s", acceptance=acceptance)
    if form.is_valid():
        renewing = acceptance.state == RiskAcceptance.State.EXPIRED
        try:
            expires_at = form.cleaned_data["expires_at"]
            updated = services.update_acceptance(
                acceptance,
                actor=request.user,
                note=form.cleaned_data["note"],
                expires_at=expires_at,
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
            messages.error(request, " ".join(exc.messages))
        else:
            ends = f"until {expires_at:%Y-%m-%d}" if expires_at else "with no end"
            if updated.proposed_change is not None:
                verb = "renewal" if renewing else "extension"
                return _acted(
                    request,
                    acceptance,
                    f"Proposed the {verb} {ends}: another approver must approve it; "
                    "the approved terms stay in force until then.",
                )
            verb = "Renewed" if renewing else "Extended"
            return _acted(request, acceptance, f"{verb} {ends}.")
    context = _detail_context(request, acceptance, extend_form=form)
    return render(request, "acceptances/acceptance_detail.html", context, status=400)


@require_POST
@_read("acceptances.view_riskacceptance")
def acceptance_change_decide(
    request: HttpRequest, pk: int, change_pk: int, decision: str
) -> HttpResponse:
    """Approve or reject (or, its proposer, withdraw) a proposed change of an acceptance."""
    change = get_object_or_404(AcceptanceChange, pk=change_pk, acceptance_id=pk)
    note = request.POST.get("note", "")[:2000]
    try:
        if decision == "approve":
            services.approve_acceptance_change(change, actor=request.user, note=note)
            text = "Change approved: its terms are in force."
        else:
            services.reject_acceptance_change(change, actor=request.user, note=note)
            withdrawn = change.proposed_by_id == request.user.pk
            text = "Change withdrawn." if withdrawn else "Change rejected: the terms stay."
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("acceptance-detail", pk=pk)
    return _acted(request, change.acceptance, text)


@require_POST
@_read("acceptances.view_riskacceptance")
def acceptance_shorten(request: HttpRequest, pk: int) -> HttpResponse:
    """End a live acceptance earlier than planned (its own action: "Extend" never shortens)."""
    acceptance = get_object_or_404(RiskAcceptance, pk=pk)
    if not request.user.has_perm("acceptances.extend_riskacceptance"):
        raise PermissionDenied("Only approvers may change when an acceptance ends.")
    form = ShortenForm(request.POST, auto_id="shorten_%s", acceptance=acceptance)
    if form.is_valid():
        expires_at = form.cleaned_data["expires_at"]
        try:
            services.update_acceptance(
                acceptance,
                actor=request.user,
                note=form.cleaned_data["note"],
                expires_at=expires_at,
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
            messages.error(request, " ".join(exc.messages))
        else:
            return _acted(request, acceptance, f"It now ends earlier, on {expires_at:%Y-%m-%d}.")
    context = _detail_context(request, acceptance, shorten_form=form)
    return render(request, "acceptances/acceptance_detail.html", context, status=400)


# --- Audit log -------------------------------------------------------------------------------

AUDIT_FIELDS = ["at", "by", "action", "acceptance", "control", "scope", "changes", "note"]


@_read("acceptances.view_riskacceptance")
def audit_log(request: HttpRequest) -> HttpResponse:
    """Every decision across acceptances, newest first; filterable, paged, exportable.

    Whoever may read acceptances (viewers too) reads it: it holds nothing their detail pages
    do not already show."""
    form = AuditFilterForm(request.GET or None)
    valid = form.is_bound and form.is_valid()
    events = queries.get_audit_events(**(form.query() if valid else {}))
    fmt = request.GET.get("export", "")
    if fmt in ("csv", "json") and (valid or not form.is_bound):
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return streaming_export(
            lambda: _audit_rows(events, plain=fmt == "csv"),
            AUDIT_FIELDS,
            fmt,
            f"audit-log-{stamp}",
        )
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = wording.describe_events(page.object_list)
    return render(
        request,
        "acceptances/audit_log.html",
        {"form": form, "page": page},
        status=400 if form.is_bound and not valid else 200,
    )


def _audit_rows(events, *, plain: bool):
    """Export rows in chunks (the people named in a chunk's diffs are read once per chunk).

    CSV cells hold the plain words; JSON keeps the recorded diff exactly, beside them."""
    chunk = 1000
    last = None
    while True:
        batch = (
            events
            if last is None
            else events.filter(Q(at__lt=last[0]) | Q(at=last[0], pk__lt=last[1]))
        )
        batch = wording.describe_events(batch[:chunk])
        for event in batch:
            a = event.acceptance
            row = {
                "at": event.at.isoformat(),
                "by": event.actor.get_username() if event.actor else "system",
                "action": event.get_action_display(),
                "acceptance": a.pk,
                "control": a.control.ref,
                "scope": a.scope_label,
                "changes": "; ".join(event.lines) if plain else event.lines,
                "note": event.note,
            }
            if not plain:
                row["diff"] = event.changes
            yield row
        if len(batch) < chunk:
            return
        last = (batch[-1].at, batch[-1].pk)


# --- Zones ------------------------------------------------------------------------------------


@_read("acceptances.view_zone")
def zone_list(request: HttpRequest) -> HttpResponse:
    zones = Zone.objects.annotate(members=Count("memberships"))
    watches = {w.zone_id: w for w in ZoneWatch.objects.filter(user=request.user)}
    return render(
        request,
        "acceptances/zone_list.html",
        {
            "zones": [(zone, watches.get(zone.pk)) for zone in zones],
            "can_add": request.user.has_perm("acceptances.add_zone"),
            "watch_form": WatchForm(),
        },
    )


@require_POST
@_read("acceptances.view_zone")
def zone_watch(request: HttpRequest, pk: int) -> HttpResponse:
    """Watch a zone for drift alerts (or change the minimum severity of a watch)."""
    zone = get_object_or_404(Zone, pk=pk)
    form = WatchForm(request.POST)
    if form.is_valid():
        try:
            services.watch_zone(
                request.user,
                zone,
                actor=request.user,
                min_severity=form.cleaned_data["min_severity"],
                benchmarks=form.cleaned_data["benchmarks"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"You now hear about drift in zone {zone} after each scan.")
    else:
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
    return _back_to_zones(request, zone)


@require_POST
@_read("acceptances.view_zone")
def zone_unwatch(request: HttpRequest, pk: int) -> HttpResponse:
    zone = get_object_or_404(Zone, pk=pk)
    if services.unwatch_zone(request.user, zone, actor=request.user):
        messages.success(request, f"You no longer hear about zone {zone}.")
    return _back_to_zones(request, zone)


def _back_to_zones(request: HttpRequest, zone: Zone) -> HttpResponse:
    """Back to the page the watch form was on: the zone's own page or the list."""
    if request.POST.get("back") == "zone":
        return redirect("zone-edit", pk=zone.pk)
    return redirect("zone-list")


@_read("acceptances.view_zone")
def zone_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Define or edit a zone, with the live preview of the resources its rules match."""
    zone = get_object_or_404(Zone, pk=pk) if pk else None
    perm = "acceptances.change_zone" if zone else "acceptances.add_zone"
    can_edit = request.user.has_perm(perm) and not (zone and zone.is_builtin)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("You may not change this zone.")
        form = ZoneForm(request.POST)
        if form.is_valid():
            try:
                saved = services.save_zone(
                    actor=request.user,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    rules=form.rules(),
                    zone=zone,
                )
            except ValidationError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(
                    request, f"Zone {saved} saved: {saved.memberships.count()} resources."
                )
                return redirect("zone-edit", pk=saved.pk)
    else:
        form = ZoneForm(initial=ZoneForm.initial_for(zone) if zone else None)
    if not can_edit:
        # Shown read-only, with a line saying who may change it (not an editable-looking form).
        for field in form.fields.values():
            field.disabled = True
    preview = _zone_preview(form if form.is_bound else None, zone)
    return render(
        request,
        "acceptances/zone_form.html",
        {
            "zone": zone,
            "form": form,
            "can_edit": can_edit,
            "preview": preview,
            "acceptances": zone.acceptances.select_related("control").order_by("-pk")[:50]
            if zone
            else [],
            **(_zone_page(request, zone) if zone else {}),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _zone_page(request: HttpRequest, zone: Zone) -> dict:
    """The zone's posture (the overview's query, filtered to the zone) and who watches it."""
    from findings import queries as findings_queries

    benchmark = findings_queries.get_default_benchmark()
    rows = []
    if benchmark is not None:
        scope = findings_queries.PostureScope(zone_id=None if zone.is_builtin else zone.pk)
        rows = findings_queries.get_control_posture(benchmark, scope=scope)
    worst = sorted((r for r in rows if r.failing), key=lambda r: (-r.failing, r.control.ref))
    watchers = (
        zone.watches.select_related("user")
        .prefetch_related("benchmarks")
        .order_by("user__username")
    )
    return {
        "benchmark": benchmark,
        "totals": findings_queries.summarize_posture(rows),
        "worst": worst[:10],
        "watchers": [(wording.person(w.user), w) for w in watchers],
        "my_watch": next((w for w in watchers if w.user_id == request.user.pk), None),
        "watch_form": WatchForm(),
    }


def _zone_preview(form: ZoneForm | None, zone: Zone | None) -> dict:
    from findings.models import Resource

    if form is None:
        if zone is None:
            return {}
        if zone.is_builtin:
            return {"count": Resource.objects.filter(gone_at__isnull=True).count(), "sample": []}
        form = ZoneForm(ZoneForm.initial_for(zone))
    # The rules alone make the preview: a name not typed yet does not hide it.
    if not form.is_valid() and any(name in form.errors for name in RULE_FIELDS):
        return {}
    try:
        resources = services.resources_matching(form.rules())
    except ValidationError as exc:
        return _rule_errors(form, exc)
    return {
        "count": resources.count(),
        "sample": list(resources.select_related("account").order_by("name")[:20]),
    }


def _rule_errors(form: ZoneForm, exc: ValidationError) -> dict:
    """A rule set's errors split by the field that holds them ("tags: ..." beside Tag rules)."""
    beside: dict[str, list[str]] = {name: [] for name in RULE_FIELDS}
    general = []
    for error in exc.messages:
        prefix, _, rest = error.partition(": ")
        if prefix in beside:
            beside[prefix].append(rest)
        else:
            general.append(error)
    return {"errors": general, "beside": beside, "invalid": True}


@_read("acceptances.view_zone")
def zone_preview(request: HttpRequest) -> HttpResponse:
    form = ZoneForm(request.POST if request.method == "POST" else request.GET)
    preview = _zone_preview(form, None)
    # Rule errors go beside their fields (out of band); each call clears the fixed ones.
    return render(
        request,
        "acceptances/_zone_preview.html",
        {
            "preview": preview,
            "beside": preview.get("beside") or {name: [] for name in RULE_FIELDS},
            "live": True,
        },
    )


# --- Fix plans --------------------------------------------------------------------------------


@_read("acceptances.add_fixplan")
def fix_plan_new(request: HttpRequest) -> HttpResponse:
    """Plan a fix: a plain form page for a finding (control and resource) or a control in a
    zone. GET fills it from the query string; POST saves and returns to the control."""
    if request.method == "POST":
        form = FixPlanForm(request.POST)
    else:
        control_id = _as_id(request.GET.get("control"))
        if control_id is None:
            return HttpResponseBadRequest("control: an id (a whole number) is required.")
        control = get_object_or_404(Control, pk=control_id)
        resource_id = _as_id(request.GET.get("resource"))
        form = FixPlanForm(
            initial={
                "control": control,
                "resource": resource_id,
                "zone": None
                if resource_id
                else (request.GET.get("zone") or services.default_zone()),
                "owner": request.user,
            }
        )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = services.plan_fix(
                actor=request.user,
                control=data["control"],
                resource=data["resource"],
                zone=None if data["resource"] else data["zone"],
                owner=data["owner"],
                due_on=data["due_on"],
                ticket_url=data["ticket_url"],
                note=data["note"],
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(
                request,
                f"Fix of {plan.control.ref} on {plan.scope_label} planned until {plan.due_on}.",
            )
            return redirect("control-detail", pk=plan.control_id)
    control = form.cleaned_data.get("control") if form.is_bound and form.is_valid() else None
    if control is None:
        control = (
            form.initial.get("control")
            or Control.objects.filter(pk=_as_id(request.POST.get("control"))).first()
        )
    resource = form.initial.get("resource") or request.POST.get("resource")
    return render(
        request,
        "acceptances/fix_plan_form.html",
        {"form": form, "control": control, "for_resource": bool(resource)},
        status=400 if form.is_bound and form.errors else 200,
    )


@_read("acceptances.view_fixplan")
def fix_plan_list(request: HttpRequest) -> HttpResponse:
    """Open fix plans (overdue flagged), then the latest closed ones."""
    today = timezone.localdate()
    closed = (
        FixPlan.objects.exclude(state=FixPlan.State.OPEN)
        .select_related("control", "resource", "zone", "owner")
        .order_by("-closed_at", "-pk")[:50]
    )
    return render(
        request,
        "acceptances/fix_plan_list.html",
        {
            "open_plans": queries.get_open_fix_plans(),
            "closed_plans": closed,
            "today": today,
            "can_plan": request.user.has_perm("acceptances.add_fixplan"),
        },
    )


@require_POST
@_read("acceptances.view_fixplan")
def fix_plan_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(FixPlan, pk=pk)
    try:
        services.cancel_fix_plan(actor=request.user, plan=plan, note=request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Fix plan #{plan.pk} cancelled.")
    return redirect("fix-plan-list")


@require_POST
@_read("findings.view_finding")
def control_attest(request: HttpRequest, pk: int) -> HttpResponse:
    """Record an approver's attestation of a manual control; back to the control's page."""
    control = get_object_or_404(Control, pk=pk)
    if not request.user.has_perm("acceptances.approve_riskacceptance"):
        raise PermissionDenied("Only approvers may attest a manual control.")
    form = AttestationForm(request.POST)
    page = reverse("control-detail", args=[control.pk])
    if not form.is_valid():
        errors = "; ".join(
            f"{form.fields[name].label or name.replace('_', ' ').capitalize()}: {' '.join(e)}"
            for name, e in form.errors.items()
        )
        messages.error(request, f"Not attested. {errors}")
        return redirect(page)
    try:
        services.attest_control(
            actor=request.user,
            control=control,
            evidence=form.cleaned_data["evidence"],
            expires_at=form.expires_at(),
        )
    except ValidationError as exc:
        names = {"expires_at": "Holds until", "evidence": "Evidence", "control": "Control"}
        errors = "; ".join(
            f"{names.get(name, name)}: {' '.join(e)}" for name, e in exc.message_dict.items()
        )
        messages.error(request, f"Not attested. {errors}")
        return redirect(page)
    messages.success(request, "Attested: the control shows your decision until its end date.")
    return redirect(page)


@_read("acceptances.view_riskacceptance")
def benchmark_diff(request: HttpRequest) -> HttpResponse:
    """What moving to another benchmark version changes for this team: controls, findings
    newly read, and acceptances that carry over or would no longer apply."""
    benchmarks = list(Benchmark.objects.order_by("slug", "version"))
    benchmarks.sort(key=lambda b: (b.slug, Control.sort_key(b.version)))
    context: dict = {"benchmarks": benchmarks, "error": ""}
    old, new = request.GET.get("old", ""), request.GET.get("new", "")
    status = 200
    if old or new:
        chosen = {str(b.pk): b for b in benchmarks}
        if old not in chosen or new not in chosen:
            context["error"] = "Choose two loaded benchmarks."
            status = 400
        elif old == new:
            context["error"] = "Choose two different versions."
            status = 400
        else:
            diff = findings_benchmarks.diff_benchmarks(chosen[old], chosen[new])
            carried, lost = carry_over(diff)
            context.update(diff=diff, carried=carried, lost=lost)
        context.update(old=old, new=new)
    return render(request, "acceptances/benchmark_diff.html", context, status=status)
