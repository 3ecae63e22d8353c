"""Zones stored before `Env != prod` included untagged resources are re-evaluated on migrate.

The state before the fix is rebuilt as the old query left it (members and coverage without the
untagged resources, ``rules_version`` 0); the re-evaluation must widen membership and coverage,
and tell each acceptance's history.
"""

from __future__ import annotations

import logging

import pytest
from django.core.management import call_command

from acceptances import services
from acceptances.models import Reason, Zone, ZoneMembership
from acceptances.zone_query import RULES_VERSION
from acceptances.zone_upgrade import reevaluate_stale_zones
from findings.models import Finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def not_prod(approver, catalog, make_account, make_finding):
    """A zone `Env != prod` over 3 untagged buckets, one dev and one prod, as the old query
    evaluated it: only the dev bucket in, and the acceptance covering only its failure."""
    account = make_account()
    findings = {
        name: make_finding(account=account, name=name, tags=tags)
        for name, tags in [
            ("untagged-1", {}),
            ("untagged-2", {}),
            ("untagged-3", {"Team": "web"}),
            ("dev", {"Env": "dev"}),
            ("prod", {"Env": "prod"}),
        ]
    }
    zone = services.save_zone(actor=approver, name="not prod", rules={"tags": ["Env!=prod"]})
    acceptance = services.accept_risk(
        actor=approver,
        control=catalog.controls.get(ref="2.1.2"),
        owner=approver,
        reason=Reason.RISK_OWNED,
        justification="Non-production buckets hold no customer data.",
        zone=zone,
    )
    assert Finding.objects.filter(acceptance=acceptance).count() == 4
    old_members = [findings["dev"].resource_id]
    ZoneMembership.objects.filter(zone=zone).exclude(resource_id__in=old_members).delete()
    Finding.objects.exclude(resource_id__in=old_members).update(acceptance=None)
    Zone.objects.filter(pk=zone.pk).update(rules_version=0, rules={"tags": ["Env != prod"]})
    return zone, acceptance, findings


def test_a_stored_zone_gains_its_untagged_resources_and_the_history_says_so(not_prod):
    zone, acceptance, findings = not_prod
    assert reevaluate_stale_zones() == 1
    zone.refresh_from_db()
    assert zone.rules_version == RULES_VERSION
    assert zone.memberships.count() == 4
    assert not zone.memberships.filter(resource=findings["prod"].resource).exists()
    assert Finding.objects.filter(acceptance=acceptance).count() == 4
    assert Finding.objects.get(pk=findings["prod"].pk).acceptance is None
    event = acceptance.events.order_by("pk").last()
    assert event.action == "edited" and event.actor is None
    assert event.changes == {"covered_findings": [1, 4], "zone_members": [1, 4]}
    assert "now also covers 3 open failing findings" in event.note
    assert "resources without the tag" in event.note


def test_it_runs_once_per_zone(not_prod):
    _, acceptance, _ = not_prod
    reevaluate_stale_zones()
    events = acceptance.events.count()
    assert reevaluate_stale_zones() == 0
    assert acceptance.events.count() == events


def test_an_unchanged_coverage_writes_no_history(not_prod):
    zone, acceptance, _ = not_prod
    reevaluate_stale_zones()
    Zone.objects.filter(pk=zone.pk).update(rules_version=0)
    events = acceptance.events.count()
    assert reevaluate_stale_zones() == 1
    assert acceptance.events.count() == events


def test_migrate_re_evaluates_stored_zones(not_prod):
    zone, acceptance, _ = not_prod
    call_command("migrate", verbosity=0)
    zone.refresh_from_db()
    assert zone.rules_version == RULES_VERSION and zone.memberships.count() == 4
    assert Finding.objects.filter(acceptance=acceptance).count() == 4


def test_stored_rules_that_no_longer_parse_are_left_as_they_are(not_prod, caplog):
    zone, _, findings = not_prod
    # Accepted by the old parser (a parenthesis inside a list value); refused now.
    Zone.objects.filter(pk=zone.pk).update(rules={"tags": ["Team in (a(b))"]})
    with caplog.at_level(logging.WARNING, logger="acceptances"):
        assert reevaluate_stale_zones() == 0
    assert "not re-evaluated" in caplog.text
    zone.refresh_from_db()
    assert zone.rules_version == 0 and zone.memberships.count() == 1
    # A scan of the account still refreshes memberships of the other zones without failing.
    resource = findings["dev"].resource
    assert services.refresh_memberships_for_unit(resource.account_id, resource.scan_unit) == 0
