"""Triage pages of what scans found: the posture overview, controls, resources and scans.

Views parse the query string or form, call one query or service, and render. Every view needs
the role's read permission (outsiders get 403); writes check theirs in the service too.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from cspm.api.base import EXPORT_FORMATS, streaming_export
from findings import hooks, queries
from findings.chart import posture_chart
from findings.forms import (
    ControlFindingsFilterForm,
    FindingListFilterForm,
    PostureFilterForm,
    ResourceListFilterForm,
    StartScanForm,
)
from findings.models import SEVERITY_RANK, Control, Resource, Scan, ScanChange
from findings.remediation import selection as remediation_selection
from findings.remediation.web import fixes_by_finding, terraform_download
from findings.services.scans import BrokerUnavailable, start_scan

PAGE_SIZE = 50
LIST_CACHE_SECONDS = 3600
# A scan page lists this many of its changes (the command and the admin have them all).
CHANGES_SHOWN = 500


def _read(perm: str):
    """Read access: the viewer role and up. Outsiders (no role) get 403, not a login loop."""
    return permission_required(perm, raise_exception=True)


# The overview table's sortable columns: query value -> key of a row (ties keep benchmark order).
_STATUS_RANK = {"fail": 0, "accepted": 1, "manual": 2, "not evaluated": 3, "pass": 4}
OVERVIEW_SORTS: dict[str, Any] = {
    "ref": lambda r: Control.sort_key(r.control.ref),
    "title": lambda r: r.control.title.lower(),
    "severity": lambda r: SEVERITY_RANK.get(r.control.severity, 0),
    "level": lambda r: r.control.level or 0,  # none in benchmarks without profile levels
    "status": lambda r: _STATUS_RANK.get(r.status, 9),
    "failing": lambda r: r.failing,
    "accepted": lambda r: r.accepted,
    "passing": lambda r: r.passing,
}
OVERVIEW_COLUMNS = [
    ("Control", "ref"),
    ("Title", "title"),
    ("Severity", "severity"),
    ("Level", "level"),
    ("Status", "status"),
    ("Failing", "failing"),
    ("Accepted", "accepted"),
    ("Passing", "passing"),
]


def sort_posture_rows(
    rows: list[queries.ControlPosture], sort: str
) -> tuple[list[queries.ControlPosture], str]:
    """Rows ordered by ``sort`` (a column key, ``-`` first for descending); an unknown key
    keeps the benchmark's order. Returns the rows and the sort applied ("" for the default)."""
    key = sort.removeprefix("-")
    if key not in OVERVIEW_SORTS or sort == "ref":
        return rows, ""
    return sorted(rows, key=OVERVIEW_SORTS[key], reverse=sort.startswith("-")), sort


@_read("findings.view_finding")
def overview(request: HttpRequest) -> HttpResponse:
    """Posture overview: every control with failing, accepted and passing resource counts."""
    form = PostureFilterForm(request.GET or None)
    benchmark = None
    if form.is_bound and form.is_valid():
        benchmark = form.cleaned_data["benchmark"]
    benchmark = benchmark or queries.get_default_benchmark()
    rows: list[queries.ControlPosture] = []
    if benchmark is not None:
        scope = form.scope() if form.is_bound else queries.PostureScope()
        rows = queries.get_control_posture(benchmark, scope=scope)
    totals = queries.summarize_posture(rows)
    account = form.cleaned_data.get("account") if form.is_bound and form.is_valid() else None
    last_scan = queries.get_last_finished_scan(account)
    history = queries.get_posture_history(account)
    shown = rows
    if form.is_bound and form.is_valid():
        severity = form.cleaned_data["severity"]
        status = form.cleaned_data["status"]
        if severity:
            shown = [r for r in shown if r.control.severity == severity]
        if status == "unchecked":
            shown = [r for r in shown if r.unchecked]
        elif status:
            shown = [r for r in shown if r.status == status]
    shown, sort = sort_posture_rows(shown, request.GET.get("sort", ""))
    headers = _sort_headers(sort or "ref", OVERVIEW_COLUMNS)
    return render(
        request,
        "findings/overview.html",
        {
            "form": form,
            "benchmark": benchmark,
            "rows": shown,
            "all_rows": rows,
            "totals": totals,
            "history": history,
            "chart": posture_chart(history),
            "last_scan": last_scan,
            "last_changes": queries.get_top_scan_changes(last_scan) if last_scan else [],
            "last_counts": queries.get_scan_change_counts(last_scan) if last_scan else {},
            # What needs someone now: the last scan's new failures and the decisions waiting.
            "new_failures": (
                queries.get_scan_changes(last_scan, [ScanChange.Kind.NEW_FAILURE], limit=10)
                if last_scan
                else []
            ),
            "attention": hooks.attention(timezone.now(), request.user),
            "sort": sort,
            "headers": headers,
            "can_scan": request.user.has_perm("findings.add_scan"),
            "overdue_plans": hooks.open_fix_plans(overdue=True),
            # The table is rendered once per data version and set of filters.
            "posture_version": queries.get_posture_version(),
        },
    )


@_read("findings.view_finding")
def posture_export(request: HttpRequest) -> HttpResponse:
    """The overview's table (its benchmark, scope, severity and status) as CSV or JSON."""
    form = PostureFilterForm(request.GET)
    fmt = _export_format(request, form)
    if isinstance(fmt, HttpResponse):
        return fmt
    benchmark = form.cleaned_data["benchmark"] or queries.get_default_benchmark()
    if benchmark is None:
        return HttpResponse("No benchmark is enabled.", status=400, content_type="text/plain")
    rows = queries.get_control_posture(benchmark, scope=form.scope())
    if form.cleaned_data["severity"]:
        rows = [r for r in rows if r.control.severity == form.cleaned_data["severity"]]
    if form.cleaned_data["status"]:
        rows = [r for r in rows if r.status == form.cleaned_data["status"]]
    name = f"posture-{benchmark.slug}-{benchmark.version}"
    return streaming_export(
        lambda: queries.iter_posture_export(benchmark, rows),
        queries.POSTURE_EXPORT_FIELDS,
        fmt,
        name,
    )


@_read("findings.view_finding")
def control_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A control: what and why, how to fix it (for each failing resource), and its findings."""
    control = get_object_or_404(Control.objects.select_related("benchmark"), pk=pk)
    form = ControlFindingsFilterForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else False
    scope = form.scope() if form.is_bound else queries.PostureScope()
    posture = queries.get_control_posture(control.benchmark, scope=scope, control_ids=[control.pk])[
        0
    ]
    status = (form.cleaned_data.get("status") if valid else "") or (
        "fail" if posture.failing else "all"
    )
    can_accept = request.user.has_perm("acceptances.add_riskacceptance")
    # The list is the costly part of the page at scale: kept, rendered, until the data changes
    # (the posture version moves with every scan, acceptance and zone change).
    query = hashlib.sha256(request.GET.urlencode().encode()).hexdigest()[:24]
    key = f"control-list:{control.pk}:{queries.get_posture_version()}:{can_accept}:{query}"
    list_html = cache.get(key)
    if list_html is None:
        search = form.cleaned_data.get("q", "") if valid else ""
        findings = queries.get_control_findings(control, scope, status, search)
        page = queries.get_findings_page(findings, request.GET.get("page"), PAGE_SIZE)
        rows = page.object_list
        last_seen = queries.get_last_seen(rows)
        new_ids = queries.get_new_finding_ids(f.pk for f in rows)
        # Each finding's fix is its check's: the same under every benchmark, named as this
        # control's benchmark numbers it.
        fixes = fixes_by_finding(list(rows), control.benchmark)
        vpcs = remediation_selection.get_vpc_facts([f.resource for f in rows])
        list_html = render_to_string(
            "findings/_control_findings.html",
            {
                "control": control,
                "form": form,
                "status": status,
                "page": page,
                "can_accept": can_accept,
                "rows": [
                    {
                        "finding": f,
                        "last_seen": last_seen.get(f.pk),
                        "is_new": f.pk in new_ids,
                        "fixes": fixes.get(f.pk, []),
                        "vpc": vpcs.get(f.resource_id),
                    }
                    for f in rows
                ],
            },
            request,
        )
        cache.set(key, list_html, LIST_CACHE_SECONDS)
    context = {
        "control": control,
        "form": form,
        "posture": posture,
        "status": status,
        "list_html": mark_safe(list_html),  # noqa: S308 - rendered by our own template
        "acceptances": hooks.live_acceptances_for(control.pk),
        # A manual control: the people's dated decisions on it, and who may record one.
        "attestations": [] if control.automated else hooks.attestations_for(control.pk),
        "can_attest": not control.automated
        and request.user.has_perm("acceptances.approve_riskacceptance"),
        "now": timezone.now(),
        "can_accept": can_accept,
        "fix_plans": hooks.open_fix_plans(control_id=control.pk),
        "can_plan": request.user.has_perm("acceptances.add_fixplan"),
        "today": timezone.localdate(),
    }
    return render(request, "findings/control_detail.html", context)


@_read("findings.view_resource")
def resource_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One resource: its configuration snapshot, tags, zones and every finding on it."""
    resource = get_object_or_404(Resource.objects.select_related("account"), pk=pk)
    findings = queries.get_resource_findings(resource)
    for finding in findings:
        finding.resource = resource  # the fixes read its account, already loaded
    last_seen = queries.get_last_seen(findings)
    new_ids = queries.get_new_finding_ids(f.pk for f in findings)
    return render(
        request,
        "findings/resource_detail.html",
        {
            "resource": resource,
            "findings": [(f, last_seen.get(f.pk), f.pk in new_ids) for f in findings],
            "fixes": fixes_by_finding([f for f in findings if f.is_open]),
            "zones": list(resource.zones.order_by("name")),
            "can_accept": request.user.has_perm("acceptances.add_riskacceptance"),
            "can_plan": request.user.has_perm("acceptances.add_fixplan"),
            # The plan of each control on this resource (its own first, else its zone's).
            "plans": _plans_by_control(resource.pk),
            "today": timezone.localdate(),
        },
    )


def _plans_by_control(resource_id: int) -> dict[int, Any]:
    plans: dict[int, Any] = {}
    for plan in hooks.open_fix_plans(resource_id=resource_id):
        if plan.resource_id is not None or plan.control_id not in plans:
            plans[plan.control_id] = plan
    return plans


FINDING_COLUMNS = [
    ("Check", "check"),
    ("Resource", "resource"),
    ("Account", "account"),
    ("Region", "region"),
    ("Status", "status"),
    ("First seen", "first_seen"),
]
RESOURCE_COLUMNS = [
    ("Resource", "name"),
    ("Type", "type"),
    ("Account", "account"),
    ("Region", "region"),
    ("First seen", "first_seen"),
]


def _sort_headers(sort: str, columns: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Column headers: a click sorts by the column, a second click reverses the order."""
    headers = []
    for label, key in columns:
        current = "ascending" if sort == key else "descending" if sort == f"-{key}" else ""
        headers.append(
            {
                "label": label,
                "sort": f"-{key}" if sort == key else key,
                "aria_sort": current,
            }
        )
    return headers


def _list_page(
    request: HttpRequest,
    form: FindingListFilterForm,
    rows: Any,
    template: str,
    load: Any,
    columns: list[tuple[str, str]],
) -> HttpResponse:
    """A Findings or Resources page: the filtered rows, one keyset page in the chosen order."""
    sort = form.sort_key()
    status = 200
    error = ""
    page = None
    if not form.is_valid():
        # Never a list that silently ignores a filter: the fields say what to fix.
        error, status = "Correct the filters marked below.", 400
    else:
        try:
            page = queries.get_keyset_page(
                rows, sort, form.sorts, request.GET.get("after", ""), PAGE_SIZE
            )
            page.rows = load(page.rows)
        except queries.BadCursor as exc:
            error, status = str(exc), 400
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "sort": sort,
            "headers": _sort_headers(sort, columns),
            "error": error,
        },
        status=status,
    )


def _list_form(form_class: type[FindingListFilterForm], request: HttpRequest):
    form = form_class(request.GET)
    form.is_valid()  # errors show beside their fields; valid fields still filter
    return form


@_read("findings.view_finding")
def finding_list(request: HttpRequest) -> HttpResponse:
    """Every finding across controls: search, the overview's filters, sortable, exportable."""
    form = _list_form(FindingListFilterForm, request)
    rows = queries.get_findings_list(form.filters())
    return _list_page(
        request,
        form,
        rows,
        "findings/finding_list.html",
        queries.load_finding_rows,
        FINDING_COLUMNS,
    )


@_read("findings.view_resource")
def resource_list(request: HttpRequest) -> HttpResponse:
    """Every resource (not gone): search, the overview's filters, sortable, exportable."""
    form = _list_form(ResourceListFilterForm, request)
    rows = queries.get_resources_list(form.filters())
    return _list_page(
        request,
        form,
        rows,
        "findings/resource_list.html",
        queries.load_resource_rows,
        RESOURCE_COLUMNS,
    )


def _export_format(request: HttpRequest, form: FindingListFilterForm) -> str | HttpResponse:
    """The export's format, or a 400 naming what is wrong: an export never ignores a filter."""
    fmt = request.GET.get("format", "csv")
    if fmt not in EXPORT_FORMATS:
        return HttpResponse("format: choose csv or json.", status=400, content_type="text/plain")
    if not form.is_valid():
        text = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items())
        return HttpResponse(text, status=400, content_type="text/plain")
    return fmt


@_read("findings.view_finding")
def finding_export(request: HttpRequest) -> HttpResponse:
    """The Findings page's rows, every one that matches its filters, as the API exports them."""
    form = _list_form(FindingListFilterForm, request)
    fmt = _export_format(request, form)
    if isinstance(fmt, HttpResponse):
        return fmt
    rows = queries.get_findings_list(form.filters())
    benchmark = form.cleaned_data.get("benchmark")
    return streaming_export(
        lambda: queries.iter_findings_export(rows, benchmark=benchmark),
        queries.EXPORT_FIELDS,
        fmt,
        "findings",
    )


@_read("findings.view_resource")
def resource_export(request: HttpRequest) -> HttpResponse:
    """The Resources page's rows, every one that matches its filters."""
    form = _list_form(ResourceListFilterForm, request)
    fmt = _export_format(request, form)
    if isinstance(fmt, HttpResponse):
        return fmt
    rows = queries.get_resources_list(form.filters())
    return streaming_export(
        lambda: queries.iter_resources_export(rows),
        queries.RESOURCE_EXPORT_FIELDS,
        fmt,
        "resources",
    )


@_read("findings.view_scan")
def scan_list(request: HttpRequest) -> HttpResponse:
    """Recent scans with their outcome and counts, and the form to start one."""
    scans = (
        Scan.objects.select_related("account", "requested_by")
        .annotate(units_failed=Count("regions", filter=Q(regions__state="failed")))
        .order_by("-created_at", "-pk")
    )
    page = Paginator(scans, PAGE_SIZE).get_page(request.GET.get("page"))
    can_scan = request.user.has_perm("findings.add_scan")
    return render(
        request,
        "findings/scan_list.html",
        {"page": page, "form": StartScanForm() if can_scan else None, "can_scan": can_scan},
    )


@require_POST
@_read("findings.view_scan")
def scan_start(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("findings.add_scan"):
        raise PermissionDenied("You do not have permission to start scans.")
    form = StartScanForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            scan = start_scan(
                form.cleaned_data["account"],
                trigger=Scan.Trigger.MANUAL,
                requested_by=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        except BrokerUnavailable as exc:
            # The scan is recorded as failed with the reason; nothing blocks the next try.
            form.add_error(None, str(exc))
            status = 503
        else:
            messages.success(request, f"Scan #{scan.pk} of {scan.account} started.")
            return redirect("scan-detail", pk=scan.pk)
    page = Paginator(
        Scan.objects.select_related("account").order_by("-created_at", "-pk"), PAGE_SIZE
    ).get_page(1)
    return render(
        request,
        "findings/scan_list.html",
        {"page": page, "form": form, "can_scan": True},
        status=status,
    )


@_read("findings.view_scan")
def scan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A scan's progress by region, live while it runs (the page polls its progress part)."""
    scan = get_object_or_404(Scan.objects.select_related("account", "requested_by"), pk=pk)
    context = {"scan": scan, "regions": list(scan.regions.all())}
    if request.htmx:
        if scan.is_finished and request.htmx.target == "scan-progress":
            # Done while someone watched: reload once to show what the scan changed.
            return HttpResponseClientRefresh()
        return render(request, "findings/_scan_progress.html", context)
    if scan.is_finished:
        changes = queries.get_scan_changes(scan)
        context["changes"] = changes[:CHANGES_SHOWN]
        context["changes_total"] = len(changes)
        context["counts"] = queries.get_scan_change_counts(scan)
    return render(request, "findings/scan_detail.html", context)


def _ids(values: list[str], name: str) -> list[int]:
    values = [value for value in values if value]
    if not all(v.isascii() and v.isdigit() and len(v) <= 18 for v in values):
        raise ValidationError(f"{name}: ids must be whole numbers.")
    return [int(value) for value in values]


@_read("findings.view_finding")
def remediation_terraform(request: HttpRequest) -> HttpResponse:
    """``main.tf`` fixing the selected failing findings (``finding`` ids, or a ``control`` and
    its selected ``resource`` ids, or a resource's every failure)."""
    try:
        finding_ids = _ids(request.GET.getlist("finding"), "finding")
        resource_ids = _ids(request.GET.getlist("resource"), "resource")
        control = _ids(request.GET.getlist("control"), "control")
    except ValidationError as exc:
        return HttpResponse(exc.messages[0], status=400, content_type="text/plain")
    for field, ids in (("finding", finding_ids), ("resource", resource_ids)):
        refusal = remediation_selection.too_many_ids(field, ids)
        if refusal:
            return HttpResponse(refusal, status=400, content_type="text/plain")
    chosen = (
        Control.objects.select_related("benchmark").filter(pk=control[0]).first()
        if control
        else None
    )
    findings = list(
        remediation_selection.get_selected_findings(
            finding_ids, control[0] if control else None, resource_ids
        )
    )
    # Numbered as the control's benchmark does (a control page's download), else the default.
    benchmark = chosen.benchmark if chosen is not None else None
    response = terraform_download(findings, benchmark) if findings else None
    if response is None:
        return HttpResponse(
            "Select failing findings that have a Terraform fix (finding, or control and resource).",
            status=400,
            content_type="text/plain",
        )
    return response
