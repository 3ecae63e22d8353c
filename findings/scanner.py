"""Run one scan unit (a region, or ``global``): collect with boto3, then evaluate every check.

No database here: the outcome is handed to ``findings.services.ingest`` which writes it in one
transaction. A service whose collector fails (denied, unreachable) is left out of the outcome
and named in ``failed_services``: its checks are not evaluated, so nothing it would judge is
resolved. The unit raises only when no service could be read at all.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from findings.aws import COLLECTORS, CollectContext, Collected, CollectionError
from findings.aws.base import collectors_for, error_code
from findings.checks import REGISTRY
from findings.checks.base import GLOBAL, CheckSpec, ResourceRef, Result, Unit
from findings.toolbox import partition_of

# Collectors of one unit run side by side: each waits on the network most of the time.
COLLECTOR_THREADS = 4


@dataclass
class UnitOutcome:
    unit: Unit
    resources: dict[str, ResourceRef]
    results: list[Result]
    api_calls: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    # Services whose collector failed: service -> error. Their checks were not evaluated.
    failed_services: dict[str, str] = field(default_factory=dict)
    # Regions a global collector left out because they were denied: region -> error.
    skipped_regions: dict[str, str] = field(default_factory=dict)
    # Services whose collector ran and whose checks were evaluated.
    evaluated_services: frozenset[str] = frozenset()
    # The checks evaluated (their collector read the unit), found something or not.
    evaluated_checks: frozenset[str] = frozenset()


def merge_resources(collected: Iterable[Collected]) -> dict[str, ResourceRef]:
    """One ResourceRef per ARN; the account pseudo-resource comes from several collectors."""
    merged: dict[str, ResourceRef] = {}
    for part in collected:
        for ref in part.resources:
            seen = merged.get(ref.arn)
            if seen is None:
                merged[ref.arn] = ref
                continue
            merged[ref.arn] = ResourceRef(
                arn=ref.arn,
                resource_type=seen.resource_type,
                region=seen.region,
                name=seen.name or ref.name,
                tags={**seen.tags, **ref.tags},
                configuration={**seen.configuration, **ref.configuration},
            )
    return merged


def _is_mapped(spec: CheckSpec, checks: frozenset[str] | None) -> bool:
    return spec.check_id in checks if checks is not None else bool(spec.controls)


def scanned_services(checks: Iterable[str] | None = None) -> frozenset[str]:
    """The collectors a scan runs: every one, except those whose checks no control maps yet.

    ``checks``: the check ids some loaded control is decided by (its registration's
    ``controls``, or a catalog's ``"checks"``; see ``findings.services.mapped_checks``). Without
    it, only the registrations count. A check written ahead of the catalog that will use it is
    registered and unit-tested, but a scan neither evaluates it nor pays for its collector's API
    calls.
    """
    wanted = frozenset(checks) if checks is not None else None
    unmapped = {spec.service for spec in REGISTRY.values() if not _is_mapped(spec, wanted)}
    mapped = {spec.service for spec in REGISTRY.values() if _is_mapped(spec, wanted)}
    return frozenset(COLLECTORS) - (unmapped - mapped)


def evaluate(
    unit: Unit,
    data: dict[str, dict[str, Any]],
    resources: dict[str, ResourceRef],
    checks: Iterable[str] | None = None,
) -> list[Result]:
    """Run every mapped check (see ``scanned_services``) whose collector ran for this unit."""
    wanted = frozenset(checks) if checks is not None else None
    results: list[Result] = []
    for spec in REGISTRY.values():
        if spec.service not in data or not _is_mapped(spec, wanted):
            continue
        for result in spec.run(data[spec.service], unit):
            if result.resource_arn not in resources:
                raise ValueError(
                    f"check {spec.check_id} judged {result.resource_arn}, which no collector "
                    "reported; every result must be about a collected resource"
                )
            results.append(result)
    return results


def run_unit(
    session: boto3.Session,
    account_id: str,
    region: str,
    regions: list[str],
    endpoint_url: str | None = None,
    services: Iterable[str] | None = None,
    checks: Iterable[str] | None = None,
) -> UnitOutcome:
    """Collect and evaluate one unit (only the ``checks`` some control is decided by, see
    ``scanned_services``).

    A collector that fails is recorded in the outcome's ``failed_services`` and the unit goes
    on with the others; CollectionError is raised only when every collector failed (a region
    denied as a whole, an endpoint down). The partition (``aws``, ``aws-cn``, ``aws-us-gov``)
    follows from the regions, so ARNs and global endpoints are the account's own.
    """
    started = time.perf_counter()
    wanted_checks = frozenset(checks) if checks is not None else None
    checks = wanted_checks
    where = region if region != GLOBAL else (regions[0] if regions else "us-east-1")
    unit = Unit(account_id=account_id, region=region, partition=partition_of(where))
    ctx = CollectContext(session=session, unit=unit, regions=regions, endpoint_url=endpoint_url)
    specs = [s for s in collectors_for(unit) if s.service in scanned_services(checks)]
    if services is not None:
        wanted = set(services)
        specs = [s for s in specs if s.service in wanted]
    timings: dict[str, float] = {}

    def collect(service: str) -> tuple[str, Collected | CollectionError]:
        t0 = time.perf_counter()
        try:
            collected: Collected | CollectionError = COLLECTORS[service].function(ctx)
        except CollectionError as exc:  # denied, throttled past retries, a failed call
            collected = exc
        except ClientError as exc:  # a call made outside ctx.call/paginate
            collected = CollectionError(service, "collect", error_code(exc), str(exc))
        except BotoCoreError as exc:  # endpoint unreachable, retries exhausted, bad response
            collected = CollectionError(service, "collect", type(exc).__name__, str(exc))
        timings[service] = round(time.perf_counter() - t0, 3)
        return service, collected

    with ThreadPoolExecutor(max_workers=COLLECTOR_THREADS) as pool:
        outcomes = list(pool.map(collect, [s.service for s in specs]))
    failures = {s: c for s, c in outcomes if isinstance(c, CollectionError)}
    if failures and len(failures) == len(outcomes):
        # Nothing could be read: the unit fails as a whole (the first error names why).
        raise next(iter(failures.values()))
    read = [(s, c) for s, c in outcomes if isinstance(c, Collected)]
    resources = merge_resources(collected for _, collected in read)
    data = {service: collected.data for service, collected in read}
    results = evaluate(unit, data, resources, checks)
    return UnitOutcome(
        unit=unit,
        resources=resources,
        results=results,
        api_calls=ctx.api_calls,
        seconds=round(time.perf_counter() - started, 3),
        timings=timings,
        failed_services={s: _short(exc) for s, exc in sorted(failures.items())},
        skipped_regions=dict(sorted(ctx.skipped_regions.items())),
        evaluated_services=frozenset(data),
        evaluated_checks=frozenset(
            spec.check_id
            for spec in REGISTRY.values()
            if spec.service in data and _is_mapped(spec, wanted_checks)
        ),
    )


def _short(exc: CollectionError) -> str:
    """The error without the service name in front (the service is the key it is stored under):
    ``AccessDenied (ListUsers): User ... is not authorized``."""
    message = str(exc)
    prefix = f"{exc.service}:{exc.operation} failed: {exc.code}: "
    if message.startswith(prefix):
        message = message[len(prefix) :]
    text = f"{exc.code} ({exc.operation}): {message}" if message else exc.code
    return text[:1000]


__all__ = ["GLOBAL", "UnitOutcome", "evaluate", "merge_resources", "run_unit"]
