"""The page and API faces of remediation: the fix shown per finding, the Terraform download."""

from __future__ import annotations

from django.db.models import prefetch_related_objects
from django.http import HttpResponse

from findings.models import Benchmark, Finding
from findings.remediation import Remedy, terraform_directory
from findings.remediation.selection import remedies_for


def fix_view(remedy: Remedy) -> dict[str, object]:
    """What a page shows and the API returns for one fix."""
    return {
        "check": remedy.check_id,
        # The controls the check decides in the benchmark shown ("5.7"), and that benchmark.
        "control": remedy.control_ref,
        "benchmark": remedy.benchmark,
        "label": remedy.label,
        "title": remedy.title,
        "terraform": remedy.terraform(),
        "variables": [{"name": v.name, "description": v.description} for v in remedy.variables],
        "not_in_terraform": remedy.manual_reason,
        "cli": remedy.cli_text(),
        "console": list(remedy.console),
    }


def fixes_by_finding(
    findings: list[Finding], benchmark: Benchmark | None = None
) -> dict[int, list[dict[str, object]]]:
    """The fix of each open failing finding (its check's), named as ``benchmark`` numbers the
    controls (the default benchmark when None)."""
    out: dict[int, list[dict[str, object]]] = {}
    prefetch_related_objects(findings, "resource__account", "control_check__controls")
    for finding, remedy in remedies_for(findings, benchmark):
        out.setdefault(finding.pk, []).append(fix_view(remedy))
    return out


def terraform_download(
    findings: list[Finding], benchmark: Benchmark | None = None
) -> HttpResponse | None:
    """``main.tf`` for the selected findings, as an attachment; None when none has a fix. Its
    comments number the fixes as ``benchmark`` does (the default benchmark when None)."""
    remedies = [remedy for _finding, remedy in remedies_for(findings, benchmark)]
    if not any(r.has_terraform for r in remedies):
        return None
    response = HttpResponse(terraform_directory(remedies), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="main.tf"'
    return response
