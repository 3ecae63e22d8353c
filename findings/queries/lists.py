"""Every finding and every resource across controls, for the Findings and Resources pages and
their exports: one search box, the overview's filters, sortable columns, keyset pages.

A million rows are paged by key, not by offset: each page asks for the rows after the last
one shown (in the chosen order), so the hundredth page costs what the first does, and the
count is bounded (counting a million matches exactly would cost more than the page itself).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Count, Q, QuerySet
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Cast

from findings import hooks
from findings.models import Benchmark, Check, Control, Finding, Resource
from findings.queries.posture import PostureScope
from findings.queries.triage import FINDING_STATUS_FILTERS

# Counting stops here: "more than 10,000" is as useful to a reader as the exact figure, and
# counting stays cheap whatever the size of the estate.
COUNT_LIMIT = 10_000

# Sortable columns: the name in the query string and the field it orders by (ties by id).
FINDING_SORTS = {
    "status": "status",
    "resource": "resource__name",
    "account": "account__name",
    "region": "region",
    "check": "control_check__check_id",
    "first_seen": "first_seen",
}
RESOURCE_SORTS = {
    "name": "name",
    "type": "resource_type",
    "account": "account__name",
    "region": "region",
    "first_seen": "first_seen",
}


class BadCursor(ValueError):
    """The ``after`` parameter is not a cursor this list gave out."""


def matching_controls(text: str) -> QuerySet[Control]:
    """Controls whose reference is ``text`` ("5.6"), or whose title holds every word of it
    ("IMDS" finds 5.6 "...only allows IMDSv2")."""
    text = text.strip()
    by_words = Q()
    for word in text.split():
        by_words &= Q(title__icontains=word)
    return Control.objects.filter(Q(ref=text) | by_words)


def _matching_resources(text: str) -> QuerySet[Resource]:
    """Resources whose name, ARN or a tag (``key=value``, or a key or value containing the
    text) matches, or whose id in this app is ``text``."""
    query = Q(name__icontains=text) | Q(arn__icontains=text)
    resources = Resource.objects.all()
    if text.isascii() and text.isdigit() and len(text) <= 18:
        query |= Q(pk=int(text))
    if "=" in text:
        key, _, value = (part.strip() for part in text.partition("="))
        resources = resources.alias(tag_value=KeyTransform(key, "tags"))
        query |= Q(tag_value=value)
    else:
        # Keys and values as stored text: finds "prod" in {"Environment": "prod"}.
        resources = resources.alias(tags_text=Cast("tags", models.TextField()))
        query |= Q(tags_text__icontains=text)
    return resources.filter(query)


@dataclass(frozen=True)
class ListFilters:
    """What a Findings or Resources page shows: a search, the overview's filters, a status."""

    scope: PostureScope = field(default_factory=PostureScope)
    search: str = ""
    control: Control | None = None
    severity: str = ""
    status: str = ""
    resource_type: str = ""
    # Only findings of checks that decide a control of this benchmark (None: every finding).
    benchmark: Benchmark | None = None


def get_findings_list(filters: ListFilters) -> QuerySet[Finding]:
    """Every finding matching ``filters``, across controls (unordered: see ``get_keyset_page``).

    A status of "" means any; gone resources are left out, except from resolved findings (as on
    a control's page). The search matches the resource (name, id, ARN, tag) or the controls the
    finding evidences (reference or title words).
    """
    findings = Finding.objects.all()
    status = filters.status
    if status in FINDING_STATUS_FILTERS:
        findings = findings.filter(**FINDING_STATUS_FILTERS[status])
    if status in ("", "pass"):
        findings = findings.exclude(
            resource_id__in=Resource.objects.filter(gone_at__isnull=False).values("pk")
        )
    findings = _scoped(findings, filters.scope, "resource_id")
    if filters.benchmark is not None:
        findings = findings.filter(control_check__in=_checks_deciding(benchmark=filters.benchmark))
    if filters.control is not None:
        findings = findings.filter(control_check__in=_checks_deciding(pk=filters.control.pk))
    if filters.severity:
        # The severity a control has in the chosen benchmark (versions may rate it apart).
        graded = {"severity": filters.severity}
        if filters.benchmark is not None:
            graded["benchmark"] = filters.benchmark
        findings = findings.filter(control_check__in=_checks_deciding(**graded))
    if filters.resource_type:
        findings = findings.filter(
            resource_id__in=Resource.objects.filter(resource_type=filters.resource_type).values(
                "pk"
            )
        )
    search = filters.search.strip()
    if search:
        by_resource = Q(resource_id__in=_resource_ids(search))
        # The catalog is small: its matches are read first, so that a search no control title
        # holds (most names and tags) is a plain semi-join the planner can drive from the few
        # matching resources, not an OR over every finding.
        controls = matching_controls(search)
        if filters.benchmark is not None:
            controls = controls.filter(benchmark=filters.benchmark)
        checks = _checks_of(controls)
        findings = findings.filter(
            by_resource | Q(control_check__in=checks) if checks else by_resource
        )
    return findings


# Up to this many matching resources are passed as a list of ids: with the checks of matching
# controls, an OR of two index lookups instead of a scan of every finding.
LISTED_IDS = 5000


def _resource_ids(search: str) -> Any:
    ids = list(_matching_resources(search).values_list("pk", flat=True)[: LISTED_IDS + 1])
    if len(ids) <= LISTED_IDS:
        return ids
    return _matching_resources(search).values("pk")


def _checks_deciding(**control_filters: Any) -> list[int]:
    """Pks of the checks deciding the controls that ``control_filters`` select, read first.

    The catalog is small, so the findings query gets the answer as a list of ids rather than a
    subquery over the catalog tables. As a subquery, the planner estimated how many findings
    match from the catalog tables' statistics, which are stale right after a benchmark is
    enabled (its new controls, a few dozen rows, do not call for a fresh ANALYZE): it guessed
    one check and fetched a million findings through the index check by check, 9 s where a
    scan takes 0.5 s (``bench/benchmarks.py``). A list of ids is estimated from the findings'
    own statistics, whatever the catalog's.
    """
    return list(
        Check.controls.through.objects.filter(
            **{f"control__{name}": value for name, value in control_filters.items()}
        )
        .values_list("check_id", flat=True)
        .distinct()
    )


def _checks_of(controls: QuerySet[Control]) -> list[int]:
    return list(
        Check.controls.through.objects.filter(control__in=controls)
        .values_list("check_id", flat=True)
        .distinct()
    )


def get_resources_list(filters: ListFilters) -> QuerySet[Resource]:
    """Every resource (not gone) matching ``filters``. Status "fail": with an open failure no
    acceptance covers. The search matches the resource, or the controls evaluated on it."""
    resources = Resource.objects.filter(gone_at__isnull=True)
    resources = _scoped(resources, filters.scope, "pk")
    if filters.resource_type:
        resources = resources.filter(resource_type=filters.resource_type)
    findings = Finding.objects.all()
    narrowed = False
    if filters.status in FINDING_STATUS_FILTERS:
        findings = findings.filter(**FINDING_STATUS_FILTERS[filters.status])
        narrowed = True
    if filters.control is not None:
        findings = findings.filter(control_check__in=_checks_deciding(pk=filters.control.pk))
        narrowed = True
    if filters.severity:
        graded = {"severity": filters.severity}
        if filters.benchmark is not None:
            graded["benchmark"] = filters.benchmark
        findings = findings.filter(control_check__in=_checks_deciding(**graded))
        narrowed = True
    if narrowed and filters.benchmark is not None:
        findings = findings.filter(control_check__in=_checks_deciding(benchmark=filters.benchmark))
    if narrowed:
        resources = resources.filter(pk__in=findings.values("resource_id"))
    search = filters.search.strip()
    if search:
        by_resource = Q(pk__in=_matching_resources(search).values("pk"))
        controls = matching_controls(search)
        if filters.benchmark is not None:
            controls = controls.filter(benchmark=filters.benchmark)
        checks = _checks_of(controls)
        if checks:
            by_control = Finding.objects.filter(control_check__in=checks).values("resource_id")
            by_resource |= Q(pk__in=by_control)
        resources = resources.filter(by_resource)
    return resources


def _scoped(rows: QuerySet, scope: PostureScope, resource_field: str) -> QuerySet:
    if scope.account_ids:
        rows = rows.filter(account_id__in=scope.account_ids)
    if scope.regions:
        rows = rows.filter(region__in=scope.regions)
    if scope.zone_id is not None:
        rows = rows.filter(**{f"{resource_field}__in": hooks.zone_member_ids(scope.zone_id)})
    return rows


@dataclass
class KeysetPage:
    """One page of a list: its rows, the cursor of the next page, and a bounded count."""

    rows: list[Any]
    next_cursor: str | None
    count: int
    count_is_bounded: bool
    is_first: bool
    count_limit: int = COUNT_LIMIT


def _encode(value: Any, pk: int) -> str:
    raw = json.dumps([value.isoformat() if hasattr(value, "isoformat") else value, pk])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, pk = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise BadCursor("after: not a page of this list; start again from the first page.") from exc
    if not isinstance(pk, int) or not isinstance(value, (str, int)):
        raise BadCursor("after: not a page of this list; start again from the first page.")
    return value, pk


def get_keyset_page(
    rows: QuerySet, sort: str, sorts: dict[str, str], after: str = "", per_page: int = 50
) -> KeysetPage:
    """The page of ``rows`` after the cursor ``after`` in the order ``sort`` ("name" or
    "-name", a key of ``sorts``; ties broken by id). Raises ``BadCursor`` for a cursor this
    list did not give out."""
    descending = sort.startswith("-")
    column = sorts[sort.lstrip("-")]
    count = rows.values("pk")[: COUNT_LIMIT + 1].count()
    page = rows
    if after:
        value, pk = _decode(after)
        op = "lt" if descending else "gt"
        page = page.filter(Q(**{f"{column}__{op}": value}) | Q(**{column: value, f"pk__{op}": pk}))
    order = [f"-{column}", "-pk"] if descending else [column, "pk"]
    # Ids and sort values first (narrow rows sort fast), then the page's rows in full.
    keys = list(page.order_by(*order).values_list("pk", column)[: per_page + 1])
    more = len(keys) > per_page
    keys = keys[:per_page]
    loaded = {row.pk: row for row in rows.model.objects.filter(pk__in=[k[0] for k in keys])}
    return KeysetPage(
        rows=[loaded[pk] for pk, _ in keys if pk in loaded],
        next_cursor=_encode(keys[-1][1], keys[-1][0]) if more else None,
        count=min(count, COUNT_LIMIT),
        count_is_bounded=count > COUNT_LIMIT,
        is_first=not after,
        count_limit=COUNT_LIMIT,
    )


def load_finding_rows(findings: list[Finding]) -> list[Finding]:
    """``findings`` with what the list shows loaded: resource, account, check and controls."""
    ids = [f.pk for f in findings]
    loaded = {
        f.pk: f
        for f in Finding.objects.filter(pk__in=ids)
        .select_related("resource", "account", "control_check", "acceptance")
        .prefetch_related("control_check__controls")
    }
    return [loaded[pk] for pk in ids if pk in loaded]


def load_resource_rows(resources: list[Resource]) -> list[Resource]:
    """``resources`` with their account and how many open failures each has (accepted apart)."""
    ids = [r.pk for r in resources]
    loaded = {
        r.pk: r
        for r in Resource.objects.filter(pk__in=ids)
        .select_related("account")
        .annotate(
            failing=Count("findings", filter=Q(**_prefixed(FINDING_STATUS_FILTERS["fail"]))),
            accepted=Count("findings", filter=Q(findings__acceptance__isnull=False)),
        )
    }
    return [loaded[pk] for pk in ids if pk in loaded]


def _prefixed(lookups: dict[str, Any]) -> dict[str, Any]:
    return {f"findings__{k}": v for k, v in lookups.items()}


RESOURCE_EXPORT_FIELDS = [
    "id",
    "account_id",
    "account_name",
    "region",
    "resource_type",
    "arn",
    "name",
    "tags",
    "first_seen",
    "failing",
    "accepted",
]


def iter_resources_export(resources: QuerySet[Resource]) -> Iterator[dict[str, Any]]:
    """Every resource of ``resources`` as a flat record, with its open failures counted."""
    rows = (
        resources.select_related("account")
        .annotate(
            failing=Count("findings", filter=Q(**_prefixed(FINDING_STATUS_FILTERS["fail"]))),
            accepted=Count("findings", filter=Q(findings__acceptance__isnull=False)),
        )
        .order_by("pk")
    )
    for resource in rows.iterator(chunk_size=2000):
        yield {
            "id": resource.pk,
            "account_id": resource.account.account_id,
            "account_name": resource.account.name,
            "region": resource.region,
            "resource_type": resource.resource_type,
            "arn": resource.arn,
            "name": resource.name,
            "tags": ";".join(f"{k}={v}" for k, v in sorted(resource.tags.items())),
            "first_seen": resource.first_seen.isoformat(),
            "failing": resource.failing,
            "accepted": resource.accepted,
        }
