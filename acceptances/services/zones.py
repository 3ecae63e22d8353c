"""Zones: which resources their rules match, and membership kept current."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from acceptances.models import (
    RiskAcceptance,
    Zone,
    ZoneMembership,
)
from acceptances.services.coverage import refresh_coverage
from acceptances.services.history import _require
from acceptances.zone_query import RULES_VERSION, filter_resources
from acceptances.zones import ZoneRules, normalize_rules, parse_rules
from cspm.bulk import insert_rows
from findings.models import Finding, Resource

logger = logging.getLogger(__name__)


def _resources_matching(rules: ZoneRules) -> QuerySet[Resource]:
    return filter_resources(rules)


def preview_zone(rules: Any) -> int:
    """How many current resources a rule set matches (validates the rules first)."""
    return resources_matching(rules).count()


def resources_matching(rules: Any) -> QuerySet[Resource]:
    """The current resources a rule set matches (validates the rules first)."""
    return _resources_matching(parse_rules(rules))


def _apply_membership(zone: Zone, wanted: set[int], current: set[int]) -> tuple[set, set]:
    added, removed = wanted - current, current - wanted
    if removed:
        ZoneMembership.objects.filter(zone=zone, resource_id__in=removed).delete()
    if added:
        # The caller computed "added" against the current rows under the unit's lock, so the
        # rows are new: insert them with COPY on PostgreSQL.
        insert_rows(ZoneMembership, ["zone_id", "resource_id"], ((zone.pk, pk) for pk in added))
    return added, removed


@transaction.atomic
def refresh_zone_membership(zone: Zone, now: dt.datetime | None = None) -> tuple[int, int]:
    """Re-evaluate a zone's rules into ZoneMembership; return (added, removed).

    Findings of resources that entered or left the zone get their coverage recomputed. The
    built-in zone holds everything by definition and stores no rows.
    """
    now = now or timezone.now()
    Zone.objects.filter(pk=zone.pk).update(membership_updated_at=now, rules_version=RULES_VERSION)
    zone.rules_version = RULES_VERSION
    if zone.is_builtin:
        return 0, 0
    wanted = set(_resources_matching(parse_rules(zone.rules)).values_list("pk", flat=True))
    current = set(zone.memberships.values_list("resource_id", flat=True))
    added, removed = _apply_membership(zone, wanted, current)
    if (added or removed) and zone.acceptances.filter(state=RiskAcceptance.State.ACTIVE).exists():
        refresh_coverage(Finding.objects.filter(resource__zone_memberships__zone=zone), now)
        refresh_coverage(Finding.objects.filter(resource_id__in=removed), now)
    return len(added), len(removed)


@transaction.atomic
def save_zone(
    *,
    actor: AbstractBaseUser,
    name: str,
    rules: Any,
    description: str = "",
    zone: Zone | None = None,
) -> Zone:
    """Create or edit a zone; its membership and the coverage it drives follow at once."""
    _require(actor, "acceptances.change_zone" if zone else "acceptances.add_zone")
    if zone is not None and zone.is_builtin:
        raise ValidationError(
            {"rules": "The built-in zone 'Entire infrastructure' cannot be edited."}
        )
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A zone needs a name."})
    if Zone.objects.filter(name__iexact=name).exclude(pk=zone.pk if zone else None).exists():
        raise ValidationError({"name": f"A zone named '{name}' already exists."})
    parsed = parse_rules(rules)
    if zone is None:
        zone = Zone(created_by=actor)
    zone.name = name
    zone.description = description
    zone.rules = normalize_rules(parsed)
    zone.save()
    refresh_zone_membership(zone)
    return zone


def refresh_memberships_for_unit(account_id: int, scan_unit: str) -> int:
    """Re-evaluate every zone for the resources of one account×unit (after a scan wrote them).

    Returns how many memberships changed.
    """
    changed = 0
    for zone in Zone.objects.filter(is_builtin=False):
        try:
            rules = parse_rules(zone.rules)
        except ValidationError:
            # Stored before a stricter syntax (see zone_upgrade): a scan must not fail on it;
            # the zone keeps its members until someone corrects its rules.
            logger.warning("Zone %s: stored rules no longer parse: %s", zone.pk, zone.rules)
            continue
        wanted = set(
            _resources_matching(rules)
            .filter(account_id=account_id, scan_unit=scan_unit)
            .values_list("pk", flat=True)
        )
        current = set(
            zone.memberships.filter(
                resource__account_id=account_id, resource__scan_unit=scan_unit
            ).values_list("resource_id", flat=True)
        )
        added, removed = _apply_membership(zone, wanted, current)
        changed += len(added) + len(removed)
    return changed
