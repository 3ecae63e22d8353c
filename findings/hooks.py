"""The one doorway from the scan side to the treatment side.

``findings`` never imports ``acceptances`` (tests/test_import_rules.py holds that): where a scan
must let the treatment side react, or a findings page must read what people decided, it calls
one of the hooks named here, and ``acceptances`` fulfils each of them when its app loads
(``AcceptancesConfig.ready``). A hook nobody fulfilled fails loudly, naming itself, rather
than silently skipping coverage or zones.

Events the scan side announces:
- ``on_unit_ingested(UnitIngested)``: one account×unit's results are written (inside the unit's
  transaction): zones and coverage follow the resources.
- ``on_scan_closed(scan_id, now)``: the scan just closed (inside the closing transaction):
  acceptances that cover nothing any more are flagged, among the scan's changes.
- ``on_drift_recorded(scan_id)``: the closed scan changed something people should hear of.

Reads the scan side's pages and posture counts need from the treatment side:
- ``zones()``: every zone, for the scope choosers (a queryset: choosers filter and validate it);
- ``zone_member_ids(zone_id)``: the ids of a zone's resources (a values queryset, so it stays a
  subquery); ``is_whole_zone(zone_id)``: whether it is the built-in zone that holds everything
  (and has no membership rows);
- ``posture_marks_sql()``: SQL scalars that move whenever a decision may change a posture count
  (see ``findings.queries.posture.posture_fingerprint``);
- ``live_acceptances_for(control_id)``: the live acceptances of a control, for its page;
- ``open_fix_plans(control_id=, resource_id=, overdue=)``: open fix plans of a control, of a
  resource (its own and its zones'), or all overdue ones, for the pages that show them.
- ``attestations_for(control_id)``: a manual control's attestations, newest first, for its page;
- ``attention(now, user)``: acceptances ending soon, proposals and changes awaiting approval,
  acceptances awaiting their owner's sign-off and those awaiting ``user``'s, for the overview's
  "needs you now" panels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])


class HookNotFulfilled(RuntimeError):
    pass


class Hook(Generic[_F]):
    """A named call the scan side makes and the treatment side answers."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._function: _F | None = None

    def fulfil(self, function: _F) -> _F:
        self._function = function
        return function

    @property
    def function(self) -> _F:
        if self._function is None:
            raise HookNotFulfilled(
                f"findings.hooks.{self.name} has no implementation: is 'acceptances' in "
                "INSTALLED_APPS?"
            )
        return self._function


# --- Events -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitIngested:
    """What a unit's ingest wrote, as the treatment side needs it."""

    account_id: int  # the CloudAccount's primary key
    unit: str  # a region, or "global"
    scan_id: int
    # Resources whose tags or configuration changed (a tag may take one out of a zone).
    changed_resource_ids: Sequence[int]
    # Resources were added, changed or went away: zone memberships may move.
    zones_may_change: bool


UnitIngestedHook = Callable[[UnitIngested], None]
ScanClosed = Callable[[int, dt.datetime], None]
DriftRecorded = Callable[[int], None]

_unit_ingested: Hook[UnitIngestedHook] = Hook("on_unit_ingested")
_scan_closed: Hook[ScanClosed] = Hook("on_scan_closed")
_drift_recorded: Hook[DriftRecorded] = Hook("on_drift_recorded")


def on_unit_ingested(event: UnitIngested) -> None:
    _unit_ingested.function(event)


def on_scan_closed(scan_id: int, now: dt.datetime) -> None:
    _scan_closed.function(scan_id, now)


def on_drift_recorded(scan_id: int) -> None:
    _drift_recorded.function(scan_id)


# --- Reads --------------------------------------------------------------------------------------

_zones: Hook[Callable[[], Any]] = Hook("zones")
_zone_member_ids: Hook[Callable[[int], Any]] = Hook("zone_member_ids")
_is_whole_zone: Hook[Callable[[int], bool]] = Hook("is_whole_zone")
_posture_marks_sql: Hook[Callable[[], list[str]]] = Hook("posture_marks_sql")
_live_acceptances_for: Hook[Callable[[int], Any]] = Hook("live_acceptances_for")
_open_fix_plans: Hook[Callable[..., list[Any]]] = Hook("open_fix_plans")
_attention: Hook[Callable[..., Any]] = Hook("attention")
_attestations_for: Hook[Callable[[int], Any]] = Hook("attestations_for")


def zones() -> Any:
    """Every zone (a queryset)."""
    return _zones.function()


def zone_member_ids(zone_id: int) -> Any:
    """The ids of the resources in a zone (a values queryset of ``resource_id``)."""
    return _zone_member_ids.function(zone_id)


def is_whole_zone(zone_id: int) -> bool:
    """Whether the zone is the built-in one, which holds everything without membership rows."""
    return _is_whole_zone.function(zone_id)


def posture_marks_sql() -> list[str]:
    """SQL scalar subqueries whose values move whenever a decision may change a count."""
    return _posture_marks_sql.function()


def live_acceptances_for(control_id: int) -> Any:
    """The live acceptances of a control (a queryset), for its page."""
    return _live_acceptances_for.function(control_id)


def open_fix_plans(
    *, control_id: int | None = None, resource_id: int | None = None, overdue: bool = False
) -> list[Any]:
    """Open fix plans (due date first): of a control, of a resource and the zones it is in,
    or every overdue one."""
    return _open_fix_plans.function(control_id=control_id, resource_id=resource_id, overdue=overdue)


def attestations_for(control_id: int) -> Any:
    """A control's attestations, newest first (a list, at most a few)."""
    return _attestations_for.function(control_id)


def attention(now: dt.datetime, user: Any = None) -> Any:
    """What of the treatment side needs someone now (``acceptances.queries.Attention``), and
    what awaits ``user`` in person (their sign-offs as a risk owner)."""
    return _attention.function(now, user)


def fulfil(
    *,
    on_unit_ingested: UnitIngestedHook,
    on_scan_closed: ScanClosed,
    on_drift_recorded: DriftRecorded,
    zones: Callable[[], Any],
    zone_member_ids: Callable[[int], Any],
    is_whole_zone: Callable[[int], bool],
    posture_marks_sql: Callable[[], list[str]],
    live_acceptances_for: Callable[[int], Any],
    open_fix_plans: Callable[..., list[Any]],
    attention: Callable[..., Any],
    attestations_for: Callable[[int], Any],
) -> None:
    """Give every hook its implementation (all at once, so none can be forgotten)."""
    _unit_ingested.fulfil(on_unit_ingested)
    _scan_closed.fulfil(on_scan_closed)
    _drift_recorded.fulfil(on_drift_recorded)
    _zones.fulfil(zones)
    _zone_member_ids.fulfil(zone_member_ids)
    _is_whole_zone.fulfil(is_whole_zone)
    _posture_marks_sql.fulfil(posture_marks_sql)
    _live_acceptances_for.fulfil(live_acceptances_for)
    _open_fix_plans.fulfil(open_fix_plans)
    _attention.fulfil(attention)
    _attestations_for.fulfil(attestations_for)
