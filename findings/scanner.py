"""Run one scan unit (a region, or ``global``): collect with boto3, then evaluate every check.

No database here: the outcome is handed to ``findings.services.ingest`` which writes it in one
transaction. A unit either yields a complete outcome or raises; there is no half result.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError

from findings.aws import COLLECTORS, CollectContext, Collected, CollectionError
from findings.aws.base import collectors_for
from findings.checks import REGISTRY
from findings.checks.base import GLOBAL, ResourceRef, Result, Unit

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


def evaluate(
    unit: Unit, data: dict[str, dict[str, Any]], resources: dict[str, ResourceRef]
) -> list[Result]:
    """Run every registered check whose collector ran for this unit."""
    results: list[Result] = []
    for spec in REGISTRY.values():
        if spec.service not in data:
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
) -> UnitOutcome:
    """Collect and evaluate one unit. Raises CollectionError if any call the unit needs fails."""
    started = time.perf_counter()
    unit = Unit(account_id=account_id, region=region)
    ctx = CollectContext(session=session, unit=unit, regions=regions, endpoint_url=endpoint_url)
    specs = collectors_for(unit)
    if services is not None:
        wanted = set(services)
        specs = [s for s in specs if s.service in wanted]
    timings: dict[str, float] = {}

    def collect(service: str) -> tuple[str, Collected]:
        t0 = time.perf_counter()
        try:
            collected = COLLECTORS[service].function(ctx)
        except BotoCoreError as exc:  # endpoint unreachable, retries exhausted, bad response
            raise CollectionError(service, "collect", type(exc).__name__, str(exc)) from exc
        timings[service] = round(time.perf_counter() - t0, 3)
        return service, collected

    with ThreadPoolExecutor(max_workers=COLLECTOR_THREADS) as pool:
        outcomes = list(pool.map(collect, [s.service for s in specs]))
    resources = merge_resources(collected for _, collected in outcomes)
    data = {service: collected.data for service, collected in outcomes}
    results = evaluate(unit, data, resources)
    return UnitOutcome(
        unit=unit,
        resources=resources,
        results=results,
        api_calls=ctx.api_calls,
        seconds=round(time.perf_counter() - started, 3),
        timings=timings,
    )


__all__ = ["GLOBAL", "UnitOutcome", "evaluate", "merge_resources", "run_unit"]
