"""Forms of the triage pages: filters (read from the query string) and starting a scan."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from findings import hooks
from findings.models import AccountRegion, Benchmark, CloudAccount, Control, Severity
from findings.queries import (
    FINDING_SORTS,
    RESOURCE_SORTS,
    ListFilters,
    PostureScope,
    disabled_message,
    get_default_benchmark,
)

STATUS_CHOICES = [
    ("", "Any status"),
    ("fail", "Failing"),
    ("accepted", "Accepted"),
    ("pass", "Passing"),
    ("manual", "Manual"),
    ("not evaluated", "Not evaluated"),
    # A subset of "not evaluated": automated controls no check of ours decides.
    ("unchecked", "Not evaluated: no check"),
]


class EnabledBenchmarkField(forms.ModelChoiceField):
    """A benchmark picker offering the enabled benchmarks; a disabled one is refused saying
    so (and how to enable it) rather than as an unknown choice."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Benchmark.objects.filter(enabled=True))
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            benchmark = Benchmark.objects.get(pk=value)
        except (ValueError, TypeError, Benchmark.DoesNotExist):
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None
        if not benchmark.enabled:
            raise ValidationError(disabled_message(benchmark), code="disabled")
        return benchmark


def _region_choices() -> list[tuple[str, str]]:
    regions = sorted(set(AccountRegion.objects.values_list("region", flat=True)))
    return [("", "All regions"), *((r, r) for r in regions)]


class ScopeFilterForm(forms.Form):
    """Zone, account and region: the scope every posture view counts in."""

    # The zones are the treatment side's (see findings.hooks): set per form.
    zone = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Entire infrastructure"
    )
    account = forms.ModelChoiceField(
        queryset=CloudAccount.objects.order_by("name"), required=False, empty_label="All accounts"
    )
    region = forms.ChoiceField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["zone"].queryset = hooks.zones()
        self.fields["region"].choices = _region_choices()

    def scope(self) -> PostureScope:
        """The scope the (valid) form describes; an invalid form describes everything."""
        data = self.cleaned_data if self.is_valid() else {}
        zone = data.get("zone")
        account = data.get("account")
        region = data.get("region")
        return PostureScope(
            account_ids=(account.pk,) if account else (),
            regions=(region,) if region else (),
            zone_id=zone.pk if zone and not zone.is_builtin else None,
        )


class PostureFilterForm(ScopeFilterForm):
    """The overview's filters; the query string carries them so a view can be shared."""

    benchmark = EnabledBenchmarkField(required=False, empty_label=None)
    severity = forms.ChoiceField(choices=[("", "Any severity"), *Severity.choices], required=False)
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)

    field_order = ["benchmark", "zone", "account", "region", "severity", "status"]


FINDING_STATUS_CHOICES = [
    ("fail", "Failing"),
    ("accepted", "Accepted"),
    ("pass", "Passing"),
    ("resolved", "Resolved"),
    ("all", "All"),
]


class ControlFindingsFilterForm(ScopeFilterForm):
    """A control page's list of findings: by status, scope, and a search over names."""

    status = forms.ChoiceField(choices=FINDING_STATUS_CHOICES, required=False)
    q = forms.CharField(
        label="Search", required=False, max_length=200, help_text="Resource name or ARN contains"
    )


def _sort_choices(sorts: dict[str, str]) -> list[tuple[str, str]]:
    return [(s, s) for name in sorts for s in (name, f"-{name}")]


class _ControlChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Control) -> str:
        return f"{obj.ref} {obj.title}"


class FindingListFilterForm(ScopeFilterForm):
    """The Findings page: a search box, the overview's filters, a control, a sort column."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        help_text="Resource name, id, ARN or tag (key=value); a control's number or title words",
    )
    benchmark = EnabledBenchmarkField(
        required=False,
        empty_label="Every benchmark",
        help_text="Findings of the checks that decide its controls",
    )
    control = _ControlChoice(queryset=Control.objects.none(), required=False, empty_label="All")
    severity = forms.ChoiceField(choices=[("", "Any severity"), *Severity.choices], required=False)
    status = forms.ChoiceField(
        choices=[("", "Any status"), *FINDING_STATUS_CHOICES[:4]], required=False
    )
    resource_type = forms.CharField(
        label="Resource type", required=False, max_length=100, help_text="e.g. AWS::S3::Bucket"
    )
    sort = forms.ChoiceField(choices=_sort_choices(FINDING_SORTS), required=False)

    field_order = ["q", "benchmark", "zone", "account", "region", "control", "severity", "status"]
    sorts = FINDING_SORTS
    default_sort = "status"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The control list follows the chosen benchmark (the default one when none is).
        chosen = Benchmark.objects.filter(
            enabled=True,
            pk=self.data.get("benchmark")
            if str(self.data.get("benchmark", "")).isdigit()
            else None,
        ).first()
        benchmark = chosen or get_default_benchmark()
        controls = Control.objects.filter(automated=True)
        if benchmark is not None:
            controls = controls.filter(benchmark=benchmark)
        self.fields["control"].queryset = controls.order_by("position")

    def filters(self) -> ListFilters:
        """The filters the (valid) form describes."""
        data = self.cleaned_data
        return ListFilters(
            scope=self.scope(),
            search=data.get("q", ""),
            control=data.get("control"),
            severity=data.get("severity", ""),
            status=data.get("status", ""),
            resource_type=data.get("resource_type", ""),
            benchmark=data.get("benchmark"),
        )

    def sort_key(self) -> str:
        return (self.cleaned_data.get("sort") if self.is_valid() else "") or self.default_sort


class ResourceListFilterForm(FindingListFilterForm):
    """The Resources page: the same filters; a status keeps resources with such findings."""

    status = forms.ChoiceField(
        choices=[("", "Any"), ("fail", "With failing findings"), ("accepted", "With accepted")],
        required=False,
    )
    sort = forms.ChoiceField(choices=_sort_choices(RESOURCE_SORTS), required=False)
    sorts = RESOURCE_SORTS
    default_sort = "name"


class StartScanForm(forms.Form):
    account = forms.ModelChoiceField(
        queryset=CloudAccount.objects.filter(enabled=True).order_by("name"),
        empty_label=None,
        help_text="Every enabled region of the account, plus its global services.",
    )

    def clean_account(self) -> CloudAccount:
        account = self.cleaned_data["account"]
        if not account.enabled:
            raise ValidationError("This account is disabled.")
        return account
