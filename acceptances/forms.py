"""Forms of the treatment pages: accept a risk, act on an acceptance, define a zone, filter.

Forms parse and check what a person typed; the rules of the domain (scope, reasons, expiry,
permissions) are the services' and come back as errors keyed by field, shown beside it.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from acceptances import appetite, risk
from acceptances.hygiene import HYGIENE_CHOICES
from acceptances.models import AcceptanceEvent, Reason, RiskAcceptance, Treatment, Zone
from acceptances.services import (
    EXPIRY_PRESETS,
    expiry_from_preset,
    extension_base,
    validate_extension,
    validate_shortening,
)
from acceptances.zones import MAX_TAG_RULE_LENGTH, MAX_TAG_RULES, RULE_KEYS
from cspm.roles import users_with_a_role
from findings.models import Benchmark, Control, Resource, Severity

EXPIRY_CHOICES = [
    *((key, f"{days} days") for key, days in EXPIRY_PRESETS.items()),
    ("date", "Until a date"),
    ("never", "No end"),
]


class LimitedRadioSelect(forms.RadioSelect):
    """Radio buttons some of which the risk appetite does not allow: shown disabled, with why
    (the value stays valid for the field, so a forged choice reaches the check that names the
    rule)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.disabled_values: dict[str, str] = {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        why = self.disabled_values.get(str(value))
        if why:
            option["attrs"]["disabled"] = True
            option["label"] = f"{label} — {why}"
        return option


def level_choices(levels: dict[int, tuple[str, str]]) -> list[tuple[int, str]]:
    # Each level with the words of what it means, beside the choice.
    return [(n, f"{n} {name}: {meaning}") for n, (name, meaning) in levels.items()]


def _users():
    # Only someone who can answer for a decision may own it.
    return users_with_a_role().order_by("username")


class ExpiryFields(forms.Form):
    """The expiry presets of the issue: 7/30/60/90 days, a date, or never."""

    expiry = forms.ChoiceField(choices=EXPIRY_CHOICES, initial="30", widget=LimitedRadioSelect)
    expires_on = forms.DateField(
        label="End date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Used with “Until a date”: the acceptance ends at the end of that day.",
    )

    def clean(self):
        """Turn the choice into ``expires_at``; a missing or past date is reported beside it."""
        data = super().clean()
        if "expiry" not in data:
            return data
        now = timezone.now()
        try:
            data["expires_at"] = expiry_from_preset(
                data["expiry"], now, data.get("expires_on"), base=self.expiry_base(now)
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error("expiry" if field == "expiry" else "expires_on", messages)
            return data
        if data["expires_at"] is not None and data["expires_at"] <= now:
            self.add_error("expires_on", "The end date must be in the future.")
        return data

    def expiry_base(self, now: dt.datetime) -> dt.datetime | None:
        """Where the day presets count from (None: now)."""
        return None

    def offer_within(self, lim: appetite.Limits, now: dt.datetime) -> None:
        """Offer only the expiry choices the risk appetite allows: the others are shown
        disabled with the rule's name, and the date picker stops at the latest end."""
        self.limits = lim
        allowed = appetite.allowed_presets(lim, EXPIRY_PRESETS, self.expiry_base(now) or now, now)
        widget = self.fields["expiry"].widget
        widget.disabled_values = {}
        for key, ok in allowed.items():
            if ok:
                continue
            rule = lim.never_rule if key == "never" and lim.never_rule else lim.term_rule
            widget.disabled_values[key] = f"not allowed by rule “{rule.name}”"
        latest = lim.latest_end(now)
        if latest is not None:
            self.fields["expires_on"].widget.attrs["max"] = f"{timezone.localtime(latest):%Y-%m-%d}"
        else:
            self.fields["expires_on"].widget.attrs.pop("max", None)
        self.appetite_text = appetite.describe(lim, now)
        if not self.is_bound and str(self.initial.get("expiry", "")) in widget.disabled_values:
            # Start on the longest preset still allowed (the date when none is).
            fits = [key for key in EXPIRY_PRESETS if allowed[key]]
            self.initial["expiry"] = fits[-1] if fits else "date"

    def check_appetite(self, data: dict) -> None:
        """The chosen end against the appetite offered (``offer_within``): beside the field."""
        lim = getattr(self, "limits", None)
        if lim is None or "expires_at" not in data or self.errors:
            return
        field = "expires_on" if data.get("expiry") == "date" else "expiry"
        try:
            appetite.check_term(lim, data["expires_at"], timezone.now(), field=field)
        except ValidationError as exc:
            for messages in exc.message_dict.values():
                self.add_error(field, messages)


ACCEPT_TREATMENTS = (Treatment.RETAIN, Treatment.TAKE, Treatment.SHARE)


COMPENSATING_ROWS = 3


def _checked_controls(benchmark_id: int | None):
    controls = Control.objects.filter(checks__isnull=False).distinct().order_by("position")
    return controls.filter(benchmark_id=benchmark_id) if benchmark_id else controls


class CompensationFields(forms.Form):
    """Up to three compensating controls (a control, optionally the resource it must pass on,
    by ARN or name) and the compensating measures in words. ``compensating`` holds the
    (control, resource) pairs once valid; the service checks the rest (same benchmark, not the
    accepted control, a finding of it on the resource)."""

    compensating_measures = forms.CharField(
        label="Compensating measures",
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Other measures in words (not checked by scans).",
    )

    def __init__(self, *args, benchmark_id: int | None = None, exclude_control=None, **kwargs):
        super().__init__(*args, **kwargs)
        controls = _checked_controls(benchmark_id)
        if exclude_control is not None:
            controls = controls.exclude(pk=getattr(exclude_control, "pk", exclude_control))
        for i in range(COMPENSATING_ROWS):
            self.fields[f"compensating_control_{i}"] = forms.ModelChoiceField(
                queryset=controls,
                required=False,
                label="Compensating control",
                empty_label="—",
                help_text="Checked after every scan: while it fails, the acceptance is suspended."
                if i == 0
                else "",
            )
            self.fields[f"compensating_control_{i}"].label_from_instance = lambda c: (
                f"{c.ref} {c.title[:70]}"
            )
            self.fields[f"compensating_resource_{i}"] = forms.CharField(
                required=False,
                max_length=2048,
                label="On resource (optional)",
                help_text="ARN or name; empty: it must fail nowhere in the acceptance's scope."
                if i == 0
                else "",
            )

    @property
    def compensating_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [
            (self[f"compensating_control_{i}"], self[f"compensating_resource_{i}"])
            for i in range(COMPENSATING_ROWS)
        ]

    def clean(self):
        data = super().clean()
        self.compensating = []
        for i in range(COMPENSATING_ROWS):
            control = data.get(f"compensating_control_{i}")
            name = (data.get(f"compensating_resource_{i}") or "").strip()
            if not name:
                if control is not None:
                    self.compensating.append((control, None))
                continue
            if control is None:
                self.add_error(f"compensating_control_{i}", "Choose the control for this resource.")
                continue
            matches = list(
                Resource.objects.filter(gone_at__isnull=True)
                .filter(models.Q(arn=name) | models.Q(name=name))
                .order_by("pk")[:2]
            )
            if not matches:
                self.add_error(
                    f"compensating_resource_{i}", f"No current resource is named {name}."
                )
            elif len(matches) > 1:
                self.add_error(
                    f"compensating_resource_{i}",
                    f"Several resources are named {name}: give its ARN.",
                )
            else:
                self.compensating.append((control, matches[0]))
        return data


class CompensationForm(CompensationFields):
    """The acceptance page's form: replace its compensating controls and measures."""

    note = forms.CharField(label="Note", required=False, max_length=2000)


class ReviewedForm(forms.Form):
    note = forms.CharField(
        label="What did you check?",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="Why the acceptance still holds after the change; kept in its history.",
    )


class AcceptRiskForm(ExpiryFields, CompensationFields):
    """Accept a control's risk in a zone, or on selected resources."""

    SCOPE_ZONE = "zone"
    SCOPE_RESOURCES = "resources"

    control = forms.ModelChoiceField(queryset=Control.objects.all(), widget=forms.HiddenInput)
    scope = forms.ChoiceField(
        choices=[
            (SCOPE_ZONE, "The whole control within a zone"),
            (SCOPE_RESOURCES, "Only the selected resources"),
        ],
        widget=forms.RadioSelect,
        initial=SCOPE_ZONE,
    )
    zone = forms.ModelChoiceField(queryset=Zone.objects.all(), required=False)
    resources = forms.ModelMultipleChoiceField(
        queryset=Resource.objects.filter(gone_at__isnull=True),
        required=False,
        widget=forms.MultipleHiddenInput,
    )
    # Accepting keeps the risk: retain it, take it for an opportunity, or share it (and keep
    # the rest). Avoiding it, removing its source or changing its likelihood or consequences
    # (ISO 31000 §6.5.2) are acting on it, with their own actions.
    treatment = forms.ChoiceField(
        choices=[(t.value, t.label) for t in ACCEPT_TREATMENTS], initial=Treatment.RETAIN
    )
    reason = forms.ChoiceField(choices=Reason.choices)
    reason_detail = forms.CharField(
        label="Explanation",
        required=False,
        max_length=200,
        help_text=f"Required when the reason is “{Reason.CUSTOM.label}”.",
    )
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this risk is acceptable, and until what happens.",
    )
    owner = forms.ModelChoiceField(
        queryset=_users(), help_text="Answers for the risk and renews it."
    )
    # The assessment of the residual risk (ISO/IEC 27005); starts from the control's severity.
    likelihood = forms.TypedChoiceField(
        coerce=int,
        choices=level_choices(risk.LIKELIHOOD_LEVELS),
        widget=forms.RadioSelect,
        error_messages={"required": "Rate the likelihood, 1 to 5."},
        help_text="How likely the risk is to materialise, with what is in place.",
    )
    impact = forms.TypedChoiceField(
        coerce=int,
        choices=level_choices(risk.IMPACT_LEVELS),
        widget=forms.RadioSelect,
        error_messages={"required": "Rate the impact, 1 to 5."},
        help_text="How bad it would be if it did.",
    )
    field_order = [
        "control",
        "scope",
        "zone",
        "resources",
        "treatment",
        "reason",
        "reason_detail",
        "justification",
        "owner",
        "likelihood",
        "impact",
        "compensating_measures",
        "expiry",
        "expires_on",
    ]

    def __init__(self, *args, **kwargs):
        # Own ids: the dialog opens over pages whose filter forms have a "zone" field too.
        kwargs.setdefault("auto_id", "accept_%s")
        control = (kwargs.get("initial") or {}).get("control")
        data = args[0] if args else kwargs.get("data")
        if control is None and data is not None:
            raw = data.get("control")
            if raw and str(raw).isdigit():
                control = Control.objects.filter(pk=int(raw)).first()
        if control is not None:
            kwargs.setdefault("benchmark_id", control.benchmark_id)
            kwargs.setdefault("exclude_control", control)
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _users()
        self.fields["owner"].label_from_instance = lambda u: (
            f"{u.get_full_name()} ({u.username})" if u.get_full_name() else u.username
        )
        control = self._chosen_control()
        if control is not None and not self.is_bound:
            likelihood, impact = risk.default_assessment(control.severity)
            self.initial.setdefault("likelihood", likelihood)
            self.initial.setdefault("impact", impact)
        self.assessment = self._assessment(control)
        if control is not None:
            self.offer_within(self._limits(control), timezone.now())

    def _value(self, name: str):
        if self.is_bound:
            if name == "resources":
                return self.data.getlist(name) if hasattr(self.data, "getlist") else []
            return self.data.get(name)
        return self.initial.get(name)

    def _chosen_control(self) -> Control | None:
        raw = self._value("control")
        if isinstance(raw, Control):
            return raw
        raw = str(raw or "")
        return Control.objects.filter(pk=int(raw)).first() if raw.isdigit() else None

    def _assessment(self, control: Control | None) -> dict:
        """The chosen (or default) levels, the rating they give and the matrix, for the
        panel beside the choice; empty levels when what was typed is not a level."""
        try:
            likelihood = risk.validate_level(self._value("likelihood"), "likelihood")
            impact = risk.validate_level(self._value("impact"), "impact")
        except ValueError:
            likelihood = impact = None
        rating = risk.rating(likelihood, impact) if likelihood else ""
        matrix = [
            {
                "impact": 5 - row,
                "cells": [
                    {
                        "likelihood": col + 1,
                        "rating": cell,
                        "chosen": (col + 1, 5 - row) == (likelihood, impact),
                    }
                    for col, cell in enumerate(cells)
                ],
            }
            for row, cells in enumerate(risk.matrix())
        ]
        return {
            "likelihood": likelihood,
            "impact": impact,
            "score": likelihood * impact if likelihood else None,
            "rating": rating,
            "severity": control.severity if control else "",
            "matrix": matrix,
        }

    def _limits(self, control: Control) -> appetite.Limits:
        """The risk appetite for the chosen scope and assessment (the severity's defaults until
        both levels are chosen)."""
        rating = self.assessment["rating"] or risk.rating(
            *risk.default_assessment(control.severity)
        )
        by_zone = (self._value("scope") or self.SCOPE_ZONE) == self.SCOPE_ZONE
        if by_zone:
            raw = self._value("zone")
            zone = raw if isinstance(raw, Zone) else None
            if zone is None and str(raw or "").isdigit():
                zone = Zone.objects.filter(pk=int(raw)).first()
            return appetite.limits_for(control=control, zone=zone, rating=rating)
        ids = [str(i) for i in (self._value("resources") or []) if str(i).isdigit()]
        resources = list(Resource.objects.filter(pk__in=ids))
        return appetite.limits_for(control=control, resources=resources, rating=rating)

    def clean(self):
        data = super().clean()  # the expiry's own checks first
        scope = data.get("scope")
        if scope == self.SCOPE_ZONE and not data.get("zone"):
            self.add_error("zone", "Choose the zone the acceptance covers.")
        if scope == self.SCOPE_RESOURCES and not data.get("resources"):
            self.add_error("scope", "No resource is selected; select failing resources first.")
        # Reported with the other errors of the form, not after them are fixed (the service
        # checks it again).
        if data.get("reason") == Reason.CUSTOM and not data.get("reason_detail", "").strip():
            self.add_error(
                "reason_detail",
                f"The reason is “{Reason.CUSTOM.label}”: say in a few words what it is.",
            )
        self.check_appetite(data)
        return data


class PreviewForm(forms.Form):
    """The scope part of the accept form, for the live count before saving."""

    control = forms.ModelChoiceField(queryset=Control.objects.all())
    scope = forms.ChoiceField(choices=AcceptRiskForm.base_fields["scope"].choices)
    zone = forms.ModelChoiceField(queryset=Zone.objects.all(), required=False)
    resources = forms.ModelMultipleChoiceField(queryset=Resource.objects.all(), required=False)


class RevokeForm(forms.Form):
    note = forms.CharField(
        label="Why revoke it?",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="Kept in the acceptance's history.",
    )


class ExtendForm(ExpiryFields):
    """Extend an active acceptance, or renew an expired one, with a new end.

    Days count from the acceptance's current end (see ``extension_base``); each choice shows
    the date it leads to, and a date before the current end is refused: ending earlier is
    ``ShortenForm``'s."""

    note = forms.CharField(required=False, max_length=2000, label="Note for the history")

    def __init__(self, *args, acceptance: RiskAcceptance | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.acceptance = acceptance
        if acceptance is None:
            return
        base = extension_base(acceptance, timezone.now())
        # Each preset shows the date it leads to.
        ends = {
            key: timezone.localtime(base + dt.timedelta(days=d))
            for key, d in EXPIRY_PRESETS.items()
        }
        self.fields["expiry"].choices = [
            (key, f"{EXPIRY_PRESETS[key]} days (until {end:%Y-%m-%d})") for key, end in ends.items()
        ] + EXPIRY_CHOICES[len(EXPIRY_PRESETS) :]
        if acceptance.is_live and acceptance.expires_at is not None:
            current = timezone.localtime(acceptance.expires_at)
            self.fields[
                "expiry"
            ].help_text = f"Days count from its current end, {current:%Y-%m-%d}."
            self.fields["expires_on"].widget.attrs["min"] = f"{current:%Y-%m-%d}"
        from acceptances.services.acceptances import appetite_limits

        self.offer_within(
            appetite_limits(
                acceptance.control,
                acceptance.resource,
                acceptance.zone,
                acceptance.likelihood,
                acceptance.impact,
            ),
            timezone.now(),
        )

    def expiry_base(self, now: dt.datetime) -> dt.datetime | None:
        return extension_base(self.acceptance, now) if self.acceptance is not None else None

    def clean(self):
        data = super().clean()
        if self.acceptance is not None and "expires_at" in data and not self.errors:
            field = "expires_on" if data.get("expiry") == "date" else "expiry"
            try:
                validate_extension(self.acceptance, data["expires_at"], timezone.now(), field=field)
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    self.add_error(field if name == field else "expires_on", messages)
        self.check_appetite(data)
        lim = getattr(self, "limits", None)
        if lim is not None and self.acceptance.state == RiskAcceptance.State.EXPIRED:
            try:
                appetite.check_renewal(lim, self.acceptance.renewals)
            except ValidationError as exc:
                self.add_error(None, exc.messages)
        return data


class ShortenForm(forms.Form):
    """End a live acceptance earlier than planned: its own action, never a side effect of
    "Extend"."""

    expires_on = forms.DateField(
        label="New end date",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="It ends at the end of that day; its findings fail again then.",
    )
    note = forms.CharField(required=False, max_length=2000, label="Note for the history")

    def __init__(self, *args, acceptance: RiskAcceptance, **kwargs):
        super().__init__(*args, **kwargs)
        self.acceptance = acceptance

    def clean(self):
        data = super().clean()
        if "expires_on" not in data:
            return data
        now = timezone.now()
        data["expires_at"] = expiry_from_preset("date", now, data["expires_on"])
        try:
            validate_shortening(self.acceptance, data["expires_at"], now, field="expires_on")
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                on_date = field in ("expires_at", "expires_on")
                self.add_error("expires_on" if on_date else None, messages)
        return data


class AcceptanceFilterForm(forms.Form):
    STATE_CHOICES = [
        ("", "Any state"),
        *RiskAcceptance.State.choices,
        ("stale", "No longer needed"),
    ]
    zone = forms.ModelChoiceField(
        queryset=Zone.objects.all(), required=False, empty_label="Any zone"
    )
    control = forms.CharField(
        required=False,
        max_length=100,
        label="Control",
        help_text="A reference or words of its title, e.g. 2.1.2 or IMDS",
    )
    reason = forms.ChoiceField(choices=[("", "Any reason"), *Reason.choices], required=False)
    owner = forms.ModelChoiceField(queryset=_users(), required=False, empty_label="Anyone")
    state = forms.ChoiceField(choices=STATE_CHOICES, required=False)
    expires_within = forms.IntegerField(
        label="Expires within (days)", required=False, min_value=0, max_value=3650
    )
    needs_review = forms.BooleanField(label="Needs re-review", required=False)
    # The lists behind the numbers of the hygiene page.
    hygiene = forms.ChoiceField(
        label="Hygiene", choices=[("", "Any"), *HYGIENE_CHOICES], required=False
    )
    sort = forms.ChoiceField(
        choices=[("", "Live first, by expiry"), ("waiting", "Longest waiting first")],
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _users()


# Several actions under one name in the audit log's filter (``queries.AUDIT_ACTION_GROUPS``).
ACTION_GROUPS = [("change_decided", "Change approved or rejected")]


class AuditFilterForm(forms.Form):
    """The audit log's filters: who, what, and a range of days (both ends included)."""

    SYSTEM = "system"

    person = forms.ChoiceField(required=False)
    action = forms.ChoiceField(
        choices=[("", "Any action"), *AcceptanceEvent.Action.choices, *ACTION_GROUPS],
        required=False,
    )
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        from django.contrib.auth import get_user_model

        from acceptances.wording import person

        super().__init__(*args, **kwargs)
        actors = get_user_model().objects.filter(
            pk__in=AcceptanceEvent.objects.filter(actor__isnull=False).values("actor")
        )
        self.fields["person"].choices = [
            ("", "Anyone"),
            (self.SYSTEM, "The system"),
            *((str(u.pk), person(u)) for u in actors.order_by("username")),
        ]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "The last day must not be before the first.")
        return data

    def query(self) -> dict:
        """The keyword arguments of ``queries.get_audit_events`` (days in the site's zone)."""
        from django.contrib.auth import get_user_model

        data = self.cleaned_data

        def start_of(day: dt.date) -> dt.datetime:
            return timezone.make_aware(dt.datetime.combine(day, dt.time.min))

        person = data.get("person") or ""
        return {
            "system": person == self.SYSTEM,
            "actor": get_user_model().objects.filter(pk=int(person)).first()
            if person.isdigit()
            else None,
            "action": data.get("action") or "",
            "since": start_of(data["since"]) if data.get("since") else None,
            "until": start_of(data["until"] + dt.timedelta(days=1)) if data.get("until") else None,
        }


# One line per rule shape and what it matches (Django renders a field's help text as HTML).
TAG_RULES_HELP = (
    "One rule per line; every rule must hold. Keys and values are case-sensitive, as in AWS."
    "<ul>"
    "<li><code>Env=prod</code> matches resources whose tag Env is exactly prod.</li>"
    "<li><code>Env != prod</code> matches resources whose tag Env is anything else, "
    "and resources without the tag.</li>"
    "<li><code>Team in (web, api)</code> matches resources whose tag Team is web or api.</li>"
    "<li><code>Owner</code> matches resources that have the tag Owner, whatever its value.</li>"
    '<li><code>Name = "a (b)"</code>, <code>Team in ("x, y", z)</code>: double quotes around '
    'a key or value that holds parentheses, a quote (written \\"), a comma inside a list, '
    "the word in or = in a key, spaces at either end, or nothing "
    '(<code>Env = ""</code>).</li>'
    f"</ul>At most {MAX_TAG_RULES} rules of {MAX_TAG_RULE_LENGTH} characters each."
)


class ZoneForm(forms.Form):
    """A zone's name and rules, one value per line (or comma-separated)."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    account_ids = forms.CharField(
        label="Account ids",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="12-digit account ids. Empty: every account.",
    )
    regions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. eu-west-1, or global. Empty: every region.",
    )
    resource_types = forms.CharField(
        label="Resource types",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. AWS::S3::Bucket. Empty: every type.",
    )
    tags = forms.CharField(
        label="Tag rules",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=TAG_RULES_HELP,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in RULE_KEYS:
            # The error slot is always there: the live preview fills it as rules are typed.
            self.fields[name].widget.attrs["aria-describedby"] = (
                f"id_{name}_helptext id_{name}_error"
            )

    @staticmethod
    def _split(text: str, commas: bool = True) -> list[str]:
        parts = text.splitlines()
        if commas:
            parts = [p for line in parts for p in line.split(",")]
        return [p.strip() for p in parts if p.strip()]

    def rules(self) -> dict[str, list[str]]:
        """The rule set typed in, as the zone services take it (validated there)."""
        data = self.cleaned_data
        rules = {
            "account_ids": self._split(data.get("account_ids", "")),
            "regions": self._split(data.get("regions", "")),
            "resource_types": self._split(data.get("resource_types", "")),
            # "Team in (a, b)" holds commas: tag rules are one per line.
            "tags": self._split(data.get("tags", ""), commas=False),
        }
        return {key: values for key, values in rules.items() if values and key in RULE_KEYS}

    @classmethod
    def initial_for(cls, zone: Zone) -> dict[str, str]:
        rules = zone.rules or {}
        return {
            "name": zone.name,
            "description": zone.description,
            **{key: "\n".join(rules.get(key, [])) for key in RULE_KEYS},
        }


class WatchForm(forms.Form):
    """Watch a zone: drift alerts after each scan, from a minimum severity up."""

    min_severity = forms.ChoiceField(
        label="From severity",
        choices=[("", "Every severity"), *Severity.choices],
        required=False,
    )
    benchmarks = forms.ModelMultipleChoiceField(
        label="Controls of",
        queryset=Benchmark.objects.filter(enabled=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Newly failing controls listed by these benchmarks; none: the default one.",
    )


class FixPlanForm(forms.Form):
    """Plan a fix (treatment: remove the risk source) of one finding or of a control in a zone.
    Dates and the ticket address are checked by the service, which names the field."""

    control = forms.ModelChoiceField(queryset=Control.objects.all(), widget=forms.HiddenInput)
    resource = forms.ModelChoiceField(
        queryset=Resource.objects.filter(gone_at__isnull=True),
        required=False,
        widget=forms.HiddenInput,
    )
    zone = forms.ModelChoiceField(
        queryset=Zone.objects.all(),
        required=False,
        help_text="Every failing finding of the control in this zone is to be fixed.",
    )
    owner = forms.ModelChoiceField(queryset=_users(), help_text="Sees to the fix.")
    due_on = forms.DateField(label="Due on", widget=forms.DateInput(attrs={"type": "date"}))
    ticket_url = forms.CharField(
        label="Ticket URL",
        max_length=500,
        required=False,
        help_text="Optional: the http:// or https:// address of the ticket tracking the work.",
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _users()


class AttestationForm(forms.Form):
    """An approver's attestation of a manual control: what was checked, until when it holds."""

    evidence = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text="What you checked and found, for an auditor.",
    )
    expires_on = forms.DateField(
        label="Holds until",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The day it must be checked again; you are reminded 30 days before.",
    )

    def expires_at(self) -> dt.datetime:
        """The end of the chosen day, in the site's time zone."""
        day = self.cleaned_data["expires_on"]
        return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59)))


class RegisterForm(forms.Form):
    """The register's date (default now; never in the future) and its filters."""

    at = forms.CharField(
        label="As of",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "60"}),
        help_text="The date and time to rebuild the register at; empty: now.",
    )
    state = forms.ChoiceField(
        choices=[("", "Any state"), *RiskAcceptance.State.choices], required=False
    )
    zone = forms.ChoiceField(required=False)
    rating = forms.ChoiceField(
        label="Residual rating",
        choices=[("", "Any rating"), *Severity.choices, ("none", "Not rated")],
        required=False,
    )

    def __init__(self, *args, now: dt.datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()
        self.fields["zone"].choices = [
            ("", "Any zone"),
            *((str(zone.pk), zone.name) for zone in Zone.objects.order_by("-is_builtin", "name")),
            ("resource", "Single resources"),
        ]

    def clean_at(self) -> dt.datetime:
        from acceptances.register import parse_as_of

        try:
            return parse_as_of(self.cleaned_data.get("at"), self.now)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["at"]) from None
