"""Re-evaluate stored zones when the meaning of zone rules changes (zone_query.RULES_VERSION).

A zone stores its evaluated membership, and coverage follows it; a fix to what a rule selects
(version 2: `Env != prod` includes untagged resources) would otherwise reach a zone only when
someone edits it. ``reevaluate_stale_zones`` runs after every ``migrate`` (post_migrate, see
apps.py), once per zone and version: each zone evaluated with an older meaning gets its rules
rewritten in the canonical form, its membership and coverage recomputed, and every active
acceptance whose coverage changed a history entry saying why.

This is not a data migration on purpose: it uses the services and today's models, which a
migration must not (a later migration adding a column would break it on upgrade).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from acceptances.models import AcceptanceEvent, RiskAcceptance, Zone
from acceptances.services import refresh_zone_membership
from acceptances.zone_query import RULES_VERSION
from acceptances.zones import normalize_rules, parse_rules
from findings.models import Finding

logger = logging.getLogger(__name__)


def _covered(zone: Zone) -> dict[int, int]:
    active = RiskAcceptance.objects.filter(zone=zone, state=RiskAcceptance.State.ACTIVE)
    return {
        acceptance.pk: Finding.objects.filter(acceptance=acceptance).count()
        for acceptance in active
    }


@transaction.atomic
def reevaluate_zone(zone_id: int, now: dt.datetime | None = None) -> bool:
    """Re-evaluate one zone if its membership predates RULES_VERSION; True if it was."""
    now = now or timezone.now()
    # Locked and checked again: two deploys migrating at once re-evaluate a zone once.
    zone = Zone.objects.select_for_update().filter(pk=zone_id, is_builtin=False).first()
    if zone is None or zone.rules_version >= RULES_VERSION:
        return False
    try:
        parsed = parse_rules(zone.rules)
    except ValidationError as exc:
        # Rules stored before a stricter syntax: keep the membership as it is, tell the log
        # (the zone's page shows the error beside the field), try again after the next migrate.
        logger.warning("Zone %s (%s) not re-evaluated: %s", zone.pk, zone.name, exc.messages)
        return False
    members_before = zone.memberships.count()
    covered_before = _covered(zone)
    canonical = normalize_rules(parsed)
    if canonical != zone.rules:
        zone.rules = canonical
        zone.save(update_fields=["rules"])
    refresh_zone_membership(zone, now)
    members_after = zone.memberships.count()
    for acceptance_id, before in covered_before.items():
        after = Finding.objects.filter(acceptance_id=acceptance_id).count()
        if after == before:
            continue
        grew = "now also covers" if after > before else "no longer covers"
        AcceptanceEvent.objects.create(
            acceptance_id=acceptance_id,
            action=AcceptanceEvent.Action.EDITED,
            actor=None,
            at=now,
            changes={
                "covered_findings": [before, after],
                "zone_members": [members_before, members_after],
            },
            note=(
                f"Zone {zone.name} re-evaluated after a fix to what zone rules match "
                "(a tag rule with != includes resources without the tag; tag keys that look "
                f"like numbers match): the acceptance {grew} {abs(after - before)} open "
                f"failing finding{'s' if abs(after - before) != 1 else ''}."
            ),
        )
    return True


def reevaluate_stale_zones(now: dt.datetime | None = None) -> int:
    """Re-evaluate every zone evaluated with an older meaning of the rules; return how many."""
    stale = Zone.objects.filter(is_builtin=False, rules_version__lt=RULES_VERSION)
    return sum(reevaluate_zone(pk, now) for pk in stale.values_list("pk", flat=True))


def reevaluate_after_migrate(sender: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """post_migrate receiver: only once every migration is applied (today's models then fit)."""
    from django.db.migrations.executor import MigrationExecutor

    if using != DEFAULT_DB_ALIAS:
        return
    executor = MigrationExecutor(connections[using])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return  # a partial migrate: the tables may not match today's models yet
    count = reevaluate_stale_zones()
    if count:
        logger.info("Re-evaluated %d zone(s) with the current meaning of zone rules.", count)
