"""From findings to fixes: the remedies of failing findings, and the selection a person or an
API client asked for."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db.models import QuerySet

from findings.models import Benchmark, Control, Finding, Resource
from findings.queries import get_default_benchmark
from findings.remediation import BUILDERS, Remedy, remedy_for, target_for

#: A downloaded directory covers at most this many findings (a selection, not the estate).
MAX_SELECTION = 1000


def short_name(benchmark: Benchmark) -> str:
    """How fix titles and comments name the benchmark ("CIS 5.7: require IMDSv2 ...")."""
    return benchmark.short_name


def too_many_ids(field: str, ids: Sequence[int]) -> str | None:
    """The refusal of a download asking for more ids in ``field`` than the limit
    (``CSPM_TERRAFORM_MAX_IDS``), naming both; None when within it."""
    limit: int = settings.CSPM_TERRAFORM_MAX_IDS
    if len(ids) <= limit:
        return None
    return (
        f"{field}: at most {limit} ids per Terraform download ({len(ids)} given); "
        "download the selection in parts."
    )


def remedies_for(
    findings: Iterable[Finding], benchmark: Benchmark | None = None
) -> list[tuple[Finding, Remedy]]:
    """Each open failing finding's fix: its check's, whichever benchmark shows it. The fix is
    named by the controls the check decides in ``benchmark`` (the default benchmark when None),
    so v4.0.1's 5.7 and v2.0.0's 5.6 show the same IMDSv2 fix, each under its own number.
    Findings should come with ``resource__account`` and the checks' controls loaded."""
    if benchmark is None:
        benchmark = get_default_benchmark()
    name = short_name(benchmark) if benchmark is not None else ""
    out: list[tuple[Finding, Remedy]] = []
    for finding in findings:
        if not finding.is_open or finding.control_check.check_id not in BUILDERS:
            continue
        refs = sorted(
            (
                c.ref
                for c in finding.control_check.controls.all()
                if benchmark is not None and c.benchmark_id == benchmark.pk
            ),
            key=Control.sort_key,
        )
        remedy = remedy_for(
            finding.control_check.check_id, target_for(finding.resource), refs, name
        )
        if remedy is not None:
            out.append((finding, remedy))
    return out


def get_selected_findings(
    finding_ids: Sequence[int] = (),
    control_id: int | None = None,
    resource_ids: Sequence[int] = (),
) -> QuerySet[Finding]:
    """Open failing findings by id, or of one control on the chosen resources (the control
    page's selection), or every open failure of the chosen resources (a resource page)."""
    findings = Finding.objects.filter(status=Finding.Status.FAIL, resolved_at__isnull=True)
    if finding_ids:
        findings = findings.filter(pk__in=finding_ids)
    if resource_ids:
        findings = findings.filter(resource_id__in=resource_ids)
    if control_id is not None:
        findings = findings.filter(control_check__controls=control_id)
    if not (finding_ids or resource_ids or control_id is not None):
        return findings.none()
    return (
        findings.select_related("resource__account", "control_check")
        .prefetch_related("control_check__controls")
        .order_by("pk")[:MAX_SELECTION]
    )


def get_vpc_facts(resources: Iterable[Resource]) -> dict[int, dict[str, object]]:
    """For network ACLs and security groups: their VPC's id, name and whether it is the
    region's default VPC (by resource id). One query for the VPCs of a page."""
    resources = list(resources)
    wanted: dict[int, tuple[str, str]] = {}
    for resource in resources:
        vpc_id = (resource.configuration or {}).get("VpcId")
        if vpc_id and resource.resource_type in ("AWS::EC2::NetworkAcl", "AWS::EC2::SecurityGroup"):
            arn = resource.arn.rsplit(":", 1)[0] + f":vpc/{vpc_id}"
            wanted[resource.pk] = (str(vpc_id), arn)
    if not wanted:
        return {}
    vpcs = {
        vpc.arn: vpc
        for vpc in Resource.objects.filter(arn__in={arn for _id, arn in wanted.values()})
    }
    out: dict[int, dict[str, object]] = {}
    by_pk = {r.pk: r for r in resources}
    for pk, (vpc_id, arn) in wanted.items():
        vpc = vpcs.get(arn)
        recorded = (by_pk[pk].configuration or {}).get("VpcIsDefault") if pk in by_pk else None
        is_default = (
            recorded
            if recorded is not None
            else (bool(vpc.configuration.get("IsDefault")) if vpc is not None else None)
        )
        out[pk] = {
            "id": vpc_id,
            "name": vpc.name if vpc is not None and vpc.name != vpc_id else "",
            "is_default": is_default,
            "pk": vpc.pk if vpc is not None else None,
        }
    return out
