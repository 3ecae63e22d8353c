"""The check registry and the shapes checks exchange with collectors and ingest.

A check is a pure function: it reads the configuration collectors gathered for one scan unit
(one region, or ``global``) and returns a pass/fail ``Result`` per resource it evaluated, with
readable evidence. No boto3, no database: checks are tested as plain functions.

    @check(
        "s3_bucket_secure_transport",
        controls=["2.1.1"],
        service="s3",
        resource_type="AWS::S3::Bucket",
        title="Bucket policy denies requests that do not use TLS",
    )
    def s3_bucket_secure_transport(data: dict, unit: Unit) -> Iterable[Result]:
        ...

``data`` is what the collector named ``service`` returned for the unit (its ``data`` part), and
``unit`` says which account and region (or ``global``) it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from findings.toolbox import GLOBAL, ResourceRef, Unit

__all__ = [
    "FAIL",
    "GLOBAL",
    "PASS",
    "REGISTRY",
    "CheckSpec",
    "ResourceRef",
    "Result",
    "Unit",
    "check",
    "checks_for",
]

Status = Literal["pass", "fail"]
PASS: Status = "pass"  # noqa: S105 - a verdict, not a password
FAIL: Status = "fail"


@dataclass(frozen=True)
class Result:
    """One check's verdict on one resource.

    ``evidence`` is shown to people: ``summary`` is one plain sentence saying what decided it
    ("Statement 'AllowCloudFront' allows s3:GetObject; no statement denies aws:SecureTransport
    = false"), ``details`` holds the exact configuration parts (the policy statement, the NACL
    entry, the metadata options).
    """

    check_id: str
    resource_arn: str
    status: Status
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def evidence(self) -> dict[str, Any]:
        return {"summary": self.summary, "details": dict(self.details)}


CheckFunction = Callable[[Mapping[str, Any], Unit], Iterable[Result]]


@dataclass(frozen=True)
class CheckSpec:
    check_id: str
    title: str
    controls: tuple[str, ...]  # refs in the benchmark below
    service: str  # the collector whose data the check reads
    resource_type: str
    function: CheckFunction
    benchmark: str = "cis-aws-foundations"
    version: str = "2.0.0"

    def run(self, data: Mapping[str, Any], unit: Unit) -> list[Result]:
        results = list(self.function(data, unit))
        for result in results:
            if result.check_id != self.check_id:
                raise ValueError(f"{self.check_id} returned a result for {result.check_id}")
            if result.status not in (PASS, FAIL):
                raise ValueError(f"{self.check_id}: status must be pass or fail")
        return results

    def result(
        self, arn: str, passed: bool, summary: str, details: Mapping[str, Any] | None = None
    ) -> Result:
        return Result(self.check_id, arn, PASS if passed else FAIL, summary, details or {})


REGISTRY: dict[str, CheckSpec] = {}


def check(
    check_id: str,
    *,
    controls: Iterable[str],
    service: str,
    resource_type: str,
    title: str,
) -> Callable[[Callable[..., Iterable[Result]]], CheckSpec]:
    """Register a check. The decorated function receives ``(data, unit, spec)``.

    ``spec.result(arn, passed, summary, details)`` builds its results.
    """

    def register(function: Callable[..., Iterable[Result]]) -> CheckSpec:
        if check_id in REGISTRY:
            raise ValueError(f"check {check_id} is registered twice")
        holder: dict[str, CheckSpec] = {}

        def bound(data: Mapping[str, Any], unit: Unit) -> Iterable[Result]:
            return function(data, unit, holder["spec"])

        spec = CheckSpec(
            check_id=check_id,
            title=title,
            controls=tuple(controls),
            service=service,
            resource_type=resource_type,
            function=bound,
        )
        holder["spec"] = spec
        REGISTRY[check_id] = spec
        return spec

    return register


def checks_for(service: str) -> list[CheckSpec]:
    return [spec for spec in REGISTRY.values() if spec.service == service]
