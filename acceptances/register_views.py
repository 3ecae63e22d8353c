"""The register as of any date: the page and its exports (``acceptances.register``).

Whoever may read acceptances (viewers too) reads the register: it holds nothing the audit log
and the acceptances' pages do not already show.
"""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone

from acceptances import register_export
from acceptances.forms import RegisterForm
from acceptances.register import parse_as_of, rebuild, text_row

PAGE_SIZE = 100
READ = "acceptances.view_riskacceptance"


@permission_required(READ, raise_exception=True)
def register_page(request: HttpRequest) -> HttpResponse:
    """The rebuilt register at the chosen date, its counts, filters and export links."""
    now = timezone.now()
    form = RegisterForm(request.GET or None, now=now)
    if form.is_bound and not form.is_valid():
        return render(request, "acceptances/register.html", {"form": form}, status=400)
    data = form.cleaned_data if form.is_bound else {}
    at = data.get("at") or now
    if not form.is_bound or not request.GET.get("at"):
        # Show the moment the page was rebuilt at in the picker, to the minute.
        form.initial["at"] = timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")
    register = rebuild(at, now=now)
    entries = register.filtered(
        state=data.get("state", ""), zone=data.get("zone", ""), rating=data.get("rating", "")
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = [text_row(entry) for entry in page.object_list]
    return render(
        request,
        "acceptances/register.html",
        {
            "form": form,
            "register": register,
            "at_param": at.isoformat(),
            "counts": register.counts(),
            "shown": len(entries),
            "page": page,
            "formats": register_export.FORMATS,
        },
    )


@permission_required(READ, raise_exception=True)
def register_export_file(request: HttpRequest) -> HttpResponse:
    """``?at=...&format=csv|json|pdf|bundle``: the whole register as of ``at`` as a file."""
    errors: dict[str, str] = {}
    fmt = request.GET.get("format", "csv")
    if fmt not in register_export.FORMATS:
        errors["format"] = f"Unknown format “{fmt[:20]}”; choose csv, json, pdf or bundle."
    try:
        at = parse_as_of(request.GET.get("at"))
    except ValidationError as exc:
        errors.update({name: " ".join(messages) for name, messages in exc.message_dict.items()})
    if errors:
        return HttpResponseBadRequest(
            "".join(f"{name}: {message}\n" for name, message in errors.items()),
            content_type="text/plain; charset=utf-8",
        )
    register = rebuild(at)
    response = HttpResponse(
        register_export.render(register, fmt), content_type=register_export.CONTENT_TYPES[fmt]
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{register_export.filename(register, fmt)}"'
    )
    return response
