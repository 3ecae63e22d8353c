"""The collector registry and the context collectors run in.

A collector reads one AWS service's configuration for one scan unit (a region, or ``global``)
with boto3 and returns a ``Collected``: the resources it saw (with their configuration snapshot
and tags) and a ``data`` mapping that the service's checks read. Collectors do I/O only; all
judgement lives in ``findings.checks``.

    @collector("ec2", scope=REGIONAL)
    def collect_ec2(ctx: CollectContext) -> Collected:
        ec2 = ctx.client("ec2")
        instances = ctx.paginate(ec2, "describe_instances", "Reservations")
        ...

Rules for collectors:
* paginate every list call (``ctx.paginate``); never call per resource what a list call already
  answers;
* never swallow an error: a throttled, denied or failed call raises, and the service fails in
  that unit (its checks are not evaluated and its findings stay as they were; the unit's other
  services are written as usual). The only errors a collector may handle are the ones that
  *are* configuration ("NoSuchBucketPolicy" means "no policy"); handle them with
  ``ctx.absent_on``. A global collector that reads every region may leave out a region that
  answers with one of ``DENIED_CODES`` (``ctx.skip_region``): an organisation policy denying a
  region must not stop the account-wide checks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from findings.toolbox import GLOBAL, ResourceRef, Unit

REGIONAL = "regional"
Scope = Literal["regional", "global"]

# Adaptive retry mode: client-side rate limiting plus retries with backoff on throttling, so a
# large account slows down instead of failing. Exhausted retries raise and fail the unit.
RETRY_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 8},
    connect_timeout=10,
    read_timeout=60,
    max_pool_connections=20,
    user_agent_extra="cspm-scanner",
)


# What AWS answers when a policy (an SCP on aws:RequestedRegion, a role without the permission)
# denies a call, by protocol; and what a region not enabled for the account answers.
DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "AuthFailure",
    }
)


class CollectionError(Exception):
    """A call the scan needed failed; the unit it belongs to is recorded as failed."""

    def __init__(self, service: str, operation: str, code: str, message: str) -> None:
        self.service = service
        self.operation = operation
        self.code = code
        super().__init__(f"{service}:{operation} failed: {code}: {message}")


@dataclass
class Collected:
    resources: list[ResourceRef] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


class _CallCounter:
    """Counts the API calls one client makes (a botocore ``before-call`` handler)."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, **kwargs: Any) -> None:
        with self._lock:
            self.calls += 1


def shared_client(session: boto3.Session, service: str, region: str, endpoint_url: str | None):
    """A client for (service, region), made once per session and reused by later units.

    Making a botocore client costs tens of milliseconds (its service model, endpoint rules and
    event wiring); a scan of 40 regions with a dozen services would spend most of its time
    there. boto3 clients are thread-safe, so units and their threads share them.
    """
    cache: dict[tuple[str, str, str | None], tuple[Any, _CallCounter]]
    cache = session.__dict__.setdefault("_cspm_clients", {})
    key = (service, region, endpoint_url)
    lock = session.__dict__.setdefault("_cspm_lock", threading.Lock())
    with lock:
        if key not in cache:
            client = session.client(
                service, region_name=region, endpoint_url=endpoint_url or None, config=RETRY_CONFIG
            )
            counter = _CallCounter()
            client.meta.events.register("before-call", counter, unique_id="cspm-call-counter")
            cache[key] = (client, counter)
        return cache[key]


@dataclass
class CollectContext:
    """Everything a collector needs for one unit: clients, the unit, API call counting."""

    session: boto3.Session
    unit: Unit
    regions: list[str]  # every region the scan covers (global collectors may need them)
    endpoint_url: str | None = None
    # Calls each client had made when this unit first used it: the unit's own calls are the
    # difference (units of one process run one after another; each worker process is its own).
    _baselines: dict[int, tuple[_CallCounter, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Regions a global collector left out because they are denied: region -> error.
    skipped_regions: dict[str, str] = field(default_factory=dict)

    def skip_region(self, region: str, error: CollectionError) -> None:
        """Record that ``region`` was left out of an account-wide lookup (denied)."""
        with self._lock:
            self.skipped_regions.setdefault(region, str(error))

    @property
    def region(self) -> str:
        """The unit's region, or for the global unit where its partition's global APIs answer
        (us-east-1, cn-north-1, us-gov-west-1)."""
        return self.unit.api_region

    @property
    def api_calls(self) -> int:
        with self._lock:
            return sum(counter.calls - start for counter, start in self._baselines.values())

    def client(self, service: str, region: str | None = None) -> Any:
        client, counter = shared_client(
            self.session, service, region or self.region, self.endpoint_url
        )
        with self._lock:
            self._baselines.setdefault(id(counter), (counter, counter.calls))
        return client

    def call(self, client: Any, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One API call; a failure becomes a CollectionError naming the call."""
        try:
            return getattr(client, operation)(**kwargs)
        except ClientError as exc:
            raise self._error(client, operation, exc) from exc

    def paginate(self, client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
        """Every item of a paginated list call (or of a single call when it cannot paginate).

        ``key`` may be dotted where the list sits below the page's top level
        (CloudFront's ``DistributionList.Items``)."""
        try:
            if client.can_paginate(operation):
                items: list[Any] = []
                for page in client.get_paginator(operation).paginate(**kwargs):
                    items.extend(_items(page, key))
                return items
            return _items(getattr(client, operation)(**kwargs), key)
        except ClientError as exc:
            raise self._error(client, operation, exc) from exc

    def absent_on(
        self, client: Any, operation: str, codes: tuple[str, ...], **kwargs: Any
    ) -> dict[str, Any] | None:
        """Call; return None when AWS answers with one of ``codes`` (a missing setting)."""
        return self.answer_or_code(client, operation, codes, **kwargs)[0]

    def answer_or_code(
        self, client: Any, operation: str, codes: tuple[str, ...], **kwargs: Any
    ) -> tuple[dict[str, Any] | None, str | None]:
        """Call; ``(answer, None)``, or ``(None, code)`` when AWS answers with one of ``codes``
        (errors that are configuration and say which: "not in an organization", "trusted
        access not enabled")."""
        try:
            return getattr(client, operation)(**kwargs), None
        except ClientError as exc:
            code = error_code(exc)
            if code in codes:
                return None, code
            raise self._error(client, operation, exc) from exc

    @staticmethod
    def _error(client: Any, operation: str, exc: ClientError) -> CollectionError:
        return CollectionError(
            client.meta.service_model.service_name,
            operation,
            error_code(exc),
            exc.response.get("Error", {}).get("Message", str(exc)),
        )


def _items(page: dict[str, Any], key: str) -> list[Any]:
    found: Any = page
    for part in key.split("."):
        found = (found or {}).get(part)
    return list(found or [])


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


Collector = Callable[[CollectContext], Collected]


@dataclass(frozen=True)
class CollectorSpec:
    service: str
    scope: Scope
    function: Collector


COLLECTORS: dict[str, CollectorSpec] = {}


def collector(service: str, *, scope: Scope) -> Callable[[Collector], Collector]:
    """Register the collector of ``service`` for regional units or for the global unit."""

    def register(function: Collector) -> Collector:
        if service in COLLECTORS:
            raise ValueError(f"collector {service} is registered twice")
        COLLECTORS[service] = CollectorSpec(service, scope, function)
        return function

    return register


def collectors_for(unit: Unit) -> list[CollectorSpec]:
    wanted = GLOBAL if unit.is_global else REGIONAL
    return [spec for spec in COLLECTORS.values() if spec.scope == wanted]
