"""Admin console for risk treatment.

Every change made here goes through ``acceptances.services``, the same code the UI and the API
use, so permissions, validation, coverage and history are the same whatever door is used.
History is read-only and nothing about a decision can be deleted.
"""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from acceptances import queries, risk, services
from acceptances.models import (
    AcceptanceChange,
    AcceptanceEvent,
    AppetiteRule,
    DriftAlert,
    ExpiryReminder,
    FixPlan,
    FixPlanEvent,
    OutboundEmail,
    RiskAcceptance,
    Zone,
    ZoneWatch,
)
from acceptances.zones import parse_rules
from cspm.admin_mixins import ReadOnlyAdminMixin

logger = logging.getLogger(__name__)


class AcceptanceEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AcceptanceEvent
    extra = 0
    can_delete = False
    fields = ("at", "action", "actor", "changes", "note")
    readonly_fields = fields
    ordering = ("-at", "-pk")


class AcceptanceChangeInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Proposed changes (four-eyes): decided with the actions of the acceptance list."""

    model = AcceptanceChange
    extra = 0
    can_delete = False
    fields = ("proposed_at", "proposed_by", "state", "what_changes", "note", "decided_by")
    readonly_fields = fields
    ordering = ("-proposed_at", "-pk")
    verbose_name_plural = "proposed changes (approve or reject them from the list's actions)"

    @admin.display(description="changes")
    def what_changes(self, obj: AcceptanceChange) -> str:
        rows = queries.get_change_rows(obj)
        return "; ".join(f"{name}: {old} → {new}" for name, (old, new) in rows.items())


class ExpiryReminderInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ExpiryReminder
    extra = 0
    can_delete = False
    fields = ("sent_at", "threshold_days", "expires_at", "recipients")
    readonly_fields = fields
    ordering = ("-sent_at",)
    verbose_name_plural = "expiry reminders sent"


class RiskAcceptanceForm(forms.ModelForm):
    class Meta:
        model = RiskAcceptance
        fields = (
            "control",
            "resource",
            "zone",
            "treatment",
            "reason",
            "reason_detail",
            "justification",
            "owner",
            "likelihood",
            "impact",
            "compensating_measures",
            "expires_at",
        )
        help_texts = {
            "likelihood": "1 to 5: "
            + "; ".join(f"{n} {w}" for n, (w, _) in risk.LIKELIHOOD_LEVELS.items()),
            "impact": "1 to 5: "
            + "; ".join(f"{n} {w}" for n, (w, _) in risk.IMPACT_LEVELS.items()),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A person assesses every new acceptance (old ones may stay unassessed until edited).
        for name in ("likelihood", "impact"):
            if name in self.fields:
                self.fields[name].required = self.instance.pk is None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        try:
            if self.instance.pk is not None:
                changes = {
                    name: data.get(name)
                    for name in self.changed_data
                    if name in services.EDITABLE_FIELDS
                }
                original = RiskAcceptance.objects.get(pk=self.instance.pk)
                services.validate_update(original, changes)
            else:
                services.validate_new_acceptance(
                    control=data.get("control"),
                    resource=data.get("resource"),
                    zone=data.get("zone"),
                    reason=data.get("reason", ""),
                    reason_detail=data.get("reason_detail", ""),
                    justification=data.get("justification", ""),
                    treatment=data.get("treatment", ""),
                    expires_at=data.get("expires_at"),
                    likelihood=data.get("likelihood"),
                    impact=data.get("impact"),
                )
        except ValidationError as exc:
            self._add_service_errors(exc)
        return data

    def _add_service_errors(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, exc)


@admin.register(RiskAcceptance)
class RiskAcceptanceAdmin(admin.ModelAdmin):
    form = RiskAcceptanceForm
    list_display = (
        "control",
        "scope",
        "state",
        "reason",
        "owner",
        "owner_signed_off_at",
        "residual_rating",
        "expires_at",
        "covered",
        "created_by",
        "created_at",
    )
    list_filter = (
        "state",
        "residual_rating",
        "reason",
        "treatment",
        "zone",
        "control__benchmark",
    )
    search_fields = ("control__ref", "control__title", "justification", "resource__name")
    date_hierarchy = "created_at"
    autocomplete_fields = ()
    raw_id_fields = ("resource",)
    list_select_related = ("control", "resource", "zone", "owner", "created_by")
    inlines = [AcceptanceChangeInline, AcceptanceEventInline, ExpiryReminderInline]
    actions = [
        "approve_selected",
        "sign_off_selected",
        "revoke_selected",
        "approve_pending_changes",
        "reject_pending_changes",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RiskAcceptance]:
        return super().get_queryset(request).annotate(_covered=Count("covered_findings"))

    @admin.display(description="covers", ordering="_covered")
    def covered(self, obj: RiskAcceptance) -> int:
        return getattr(obj, "_covered", 0)

    @admin.display(description="scope")
    def scope(self, obj: RiskAcceptance) -> str:
        return obj.scope_label

    def get_readonly_fields(self, request: HttpRequest, obj: RiskAcceptance | None = None):
        system = (
            "state",
            "created_by",
            "created_at",
            "updated_at",
            "approved_by",
            "approved_at",
            "owner_signed_off_at",
            "signoff_reminded_at",
            "revoked_by",
            "revoked_at",
            "warned_at",
            "handled_at",
            "stale_since",
            "residual_rating",
            "renewals",
        )
        if obj is None:
            return ()
        # Scope and control define the decision; change them by revoking and accepting anew.
        return ("control", "resource", "zone", *system)

    def get_fields(self, request: HttpRequest, obj: RiskAcceptance | None = None):
        fields = list(RiskAcceptanceForm.Meta.fields)
        if obj is not None:
            fields += list(self.get_readonly_fields(request, obj)[3:])
        return fields

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("acceptances.change_riskacceptance") or request.user.has_perm(
            "acceptances.extend_riskacceptance"
        )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Decisions are revoked, never deleted: their history must survive.
        return False

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        if not request.user.has_perm("acceptances.approve_riskacceptance"):
            actions.pop("approve_selected", None)
            actions.pop("approve_pending_changes", None)
        if not request.user.has_perm("acceptances.revoke_riskacceptance"):
            actions.pop("revoke_selected", None)
        return actions

    def save_model(self, request: HttpRequest, obj: RiskAcceptance, form, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            created = services.accept_risk(
                actor=request.user,
                control=data["control"],
                resource=data.get("resource"),
                zone=data.get("zone"),
                owner=data["owner"],
                reason=data["reason"],
                reason_detail=data.get("reason_detail", ""),
                justification=data["justification"],
                treatment=data["treatment"],
                expires_at=data.get("expires_at"),
                likelihood=data.get("likelihood"),
                impact=data.get("impact"),
                compensating_measures=data.get("compensating_measures", ""),
            )
            obj.pk = created.pk
            return
        changes = {
            name: data[name] for name in form.changed_data if name in services.EDITABLE_FIELDS
        }
        # The same service as the UI and the API: with four-eyes on, what widens or prolongs
        # an approved acceptance is proposed here too, not applied.
        updated = services.update_acceptance(
            RiskAcceptance.objects.get(pk=obj.pk), actor=request.user, **changes
        )
        if updated.proposed_change is not None:
            fields = ", ".join(updated.proposed_change.terms)
            self.message_user(
                request,
                f"Proposed, not applied: {fields}. Another approver must approve the change "
                "(action “Approve pending changes”); the approved terms stay in force until then.",
                messages.WARNING,
            )

    def _run(self, request: HttpRequest, queryset, action, verb: str) -> None:
        done = 0
        for acceptance in queryset:
            try:
                action(acceptance, actor=request.user)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                text = "; ".join(getattr(exc, "messages", [str(exc)]))
                self.message_user(request, f"{acceptance}: {text}", messages.ERROR)
        if done:
            self.message_user(request, f"{verb} {done} acceptance(s).", messages.SUCCESS)

    @admin.action(description="Approve selected proposals")
    def approve_selected(self, request: HttpRequest, queryset) -> None:
        self._run(request, queryset, services.approve_acceptance, "Approved")

    @admin.action(description="Sign off selected: accept their residual risk (their owner only)")
    def sign_off_selected(self, request: HttpRequest, queryset) -> None:
        # The service refuses anyone but each acceptance's named owner, superusers included.
        self._run(request, queryset, services.sign_off_acceptance, "Signed off")

    @admin.action(description="Revoke selected acceptances")
    def revoke_selected(self, request: HttpRequest, queryset) -> None:
        self._run(request, queryset, services.revoke_acceptance, "Revoked")

    def _decide_pending(self, request: HttpRequest, queryset, decide, verb: str) -> None:
        def on_pending(acceptance: RiskAcceptance, *, actor) -> None:
            pending = queries.get_pending_change(acceptance)
            if pending is None:
                raise ValidationError("No change awaits approval.")
            decide(pending, actor=actor)

        self._run(request, queryset, on_pending, verb)

    @admin.action(description="Approve pending changes of selected acceptances")
    def approve_pending_changes(self, request: HttpRequest, queryset) -> None:
        self._decide_pending(
            request, queryset, services.approve_acceptance_change, "Approved the change of"
        )

    @admin.action(description="Reject (or withdraw) pending changes of selected acceptances")
    def reject_pending_changes(self, request: HttpRequest, queryset) -> None:
        self._decide_pending(
            request, queryset, services.reject_acceptance_change, "Rejected the change of"
        )


@admin.register(AcceptanceEvent)
class AcceptanceEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "acceptance", "action", "actor", "note")
    list_filter = ("action",)
    date_hierarchy = "at"
    list_select_related = ("acceptance__control", "actor")


class ZoneForm(forms.ModelForm):
    class Meta:
        model = Zone
        fields = ("name", "description", "rules")
        help_texts = {
            "rules": (
                'e.g. {"regions": ["eu-west-1"], '
                '"tags": ["Environment=prod", "Team in (web, api)"]}'
            )
        }

    def clean_rules(self) -> Any:
        rules = self.cleaned_data.get("rules")
        try:
            parse_rules(rules)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["rules"]) from None
        return rules


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):
    form = ZoneForm
    list_display = ("name", "is_builtin", "rule_summary", "resource_count", "membership_updated_at")
    search_fields = ("name", "description")
    readonly_fields = (
        "is_builtin",
        "created_by",
        "created_at",
        "updated_at",
        "membership_updated_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Zone]:
        return super().get_queryset(request).annotate(_members=Count("memberships"))

    @admin.display(description="resources", ordering="_members")
    def resource_count(self, obj: Zone) -> int:
        return getattr(obj, "_members", 0)

    @admin.display(description="rules")
    def rule_summary(self, obj: Zone) -> str:
        if not obj.rules:
            return "everything"
        return "; ".join(f"{k}: {', '.join(v)}" for k, v in obj.rules.items())

    def has_change_permission(self, request: HttpRequest, obj: Zone | None = None) -> bool:
        if obj is not None and obj.is_builtin:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Zone | None = None) -> bool:
        if obj is not None and (obj.is_builtin or obj.acceptances.exists()):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Zone, form, change: bool) -> None:
        saved = services.save_zone(
            actor=request.user,
            name=form.cleaned_data["name"],
            description=form.cleaned_data.get("description", ""),
            rules=form.cleaned_data.get("rules"),
            zone=Zone.objects.get(pk=obj.pk) if change else None,
        )
        obj.pk = saved.pk


class ZoneWatchForm(forms.ModelForm):
    class Meta:
        model = ZoneWatch
        fields = ("user", "zone", "min_severity", "benchmarks")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        user = data.get("user")
        if user is not None and (not user.is_active or not user.has_perm("findings.view_finding")):
            self.add_error("user", f"{user} may not read findings, so cannot watch a zone.")
        elif user is not None and not user.email:
            self.add_error("user", f"{user} has no email address to send alerts to.")
        return data


@admin.register(ZoneWatch)
class ZoneWatchAdmin(admin.ModelAdmin):
    """Who hears about drift in which zone. Saved through ``services.watch_zone``."""

    form = ZoneWatchForm
    list_display = ("user", "zone", "min_severity", "created_at")
    list_filter = ("zone", "min_severity")
    search_fields = ("user__username", "user__email", "zone__name")
    list_select_related = ("user", "zone")

    def get_readonly_fields(self, request: HttpRequest, obj: ZoneWatch | None = None):
        # A watch is (user, zone): change the severity here, or delete it and add another.
        return ("user", "zone", "created_at") if obj is not None else ("created_at",)

    def save_model(self, request: HttpRequest, obj: ZoneWatch, form, change: bool) -> None:
        try:
            saved = services.watch_zone(
                obj.user,
                obj.zone,
                actor=request.user,
                min_severity=obj.min_severity,
                benchmarks=form.cleaned_data.get("benchmarks") or [],
            )
        except (PermissionDenied, ValidationError) as exc:
            self.message_user(request, "; ".join(_messages(exc)), messages.ERROR)
            return
        obj.pk = saved.pk

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        # The benchmarks were set by the service (which refuses disabled ones).
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request: HttpRequest, obj: ZoneWatch) -> None:
        services.unwatch_zone(obj.user, obj.zone, actor=request.user)


def _messages(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return [m for messages_ in exc.message_dict.values() for m in messages_]
    return [str(exc)]


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """The outbox: emails kept with the changes they tell of, as sent or still waiting (with
    the last error): read-only (beat sends what is left)."""

    list_display = ("created_at", "template", "address", "sent_at", "attempts", "last_error")
    list_filter = (("sent_at", admin.EmptyFieldListFilter), "template")
    search_fields = ("address", "template")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(DriftAlert)
class DriftAlertAdmin(admin.ModelAdmin):
    """The drift alert emails, as claimed and sent: read-only (they are the exactly-once claims)."""

    list_display = ("claimed_at", "scan", "email", "new_failures", "fixed", "sent_at", "error")
    list_filter = (("sent_at", admin.EmptyFieldListFilter),)
    search_fields = ("email", "user__username")
    date_hierarchy = "claimed_at"
    list_select_related = ("scan__account", "user")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class FixPlanEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = FixPlanEvent
    extra = 0
    can_delete = False
    fields = ("at", "action", "actor", "note")
    readonly_fields = fields
    ordering = ("-at", "-pk")


@admin.register(FixPlan)
class FixPlanAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: plans are made and cancelled on the Fix plans page (through the services),
    and closed by scans."""

    list_display = ("pk", "control", "scope_label", "owner", "due_on", "state", "closed_at")
    list_filter = ("state",)
    search_fields = ("control__ref", "resource__name", "resource__arn", "zone__name", "note")
    date_hierarchy = "due_on"
    list_select_related = ("control", "resource", "zone", "owner")
    inlines = [FixPlanEventInline]


class AppetiteRuleForm(forms.ModelForm):
    class Meta:
        model = AppetiteRule
        fields = (
            "name",
            "description",
            "zone",
            "severity",
            "min_rating",
            "max_term_days",
            "allow_never",
            "max_renewals",
            "approver_role",
        )
        widgets = {
            "approver_role": forms.Select(
                choices=[("", "Any approver"), ("approver", "An approver"), ("admin", "An admin")]
            )
        }

    def clean(self) -> dict[str, Any]:
        """Values a rule can sensibly hold: a term of at least a day and at most ten years,
        and no "never" under a term limit (they would contradict each other)."""
        data = super().clean()
        days = data.get("max_term_days")
        if days is not None and not 1 <= days <= 3650:
            self.add_error("max_term_days", "A term of 1 to 3650 days; empty for no limit.")
        if days is not None and data.get("allow_never"):
            self.add_error(
                "allow_never",
                f"A rule limiting the term to {days} days cannot allow an acceptance with no "
                "end: untick it, or clear the term.",
            )
        renewals = data.get("max_renewals")
        if renewals is not None and renewals > 100:
            self.add_error("max_renewals", "At most 100 renewals; empty for no limit.")
        return data


@admin.register(AppetiteRule)
class AppetiteRuleAdmin(admin.ModelAdmin):
    """Risk appetite (admins manage it): the services refuse what the rules forbid, naming them."""

    form = AppetiteRuleForm
    list_display = (
        "name",
        "zone",
        "severity",
        "min_rating",
        "max_term_days",
        "allow_never",
        "max_renewals",
        "approver_role",
    )
    list_filter = ("severity", "min_rating", "zone")
    search_fields = ("name", "description")
    readonly_fields = ("created_at", "updated_at")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(recheck_appetite, robust=True)
        messages.info(
            request,
            "Acceptances in force are checked against the new risk appetite: those it would "
            "refuse are flagged for re-review (their owners are told).",
        )


def recheck_appetite() -> None:
    """After a rule is saved: flag what the appetite now refuses, on a worker; with the broker
    down, here (one bounded pass over the acceptances in force), so no change goes unchecked.
    Only a broker outage runs it here: any other error is the task's own (eager mode runs the
    task in this process already), logged by the robust on_commit, never a 500 for a rule that
    is saved."""
    from kombu.exceptions import OperationalError as BrokerConnectionError

    from cspm.celery import app as celery_app

    try:
        celery_app.tasks["acceptances.check_appetite"].delay()
    except BrokerConnectionError:
        logger.warning("Broker unreachable: checking the risk appetite in this process.")
        from acceptances.services.compensation import check_appetite

        check_appetite()
