"""Coverage goes to the history: a COVERAGE event ({"covered": [old, new]}) whenever the count of
findings an acceptance covers moves, through the services and through scans, and none when it
did not move. The register rebuilds coverage as of any date from these."""

from __future__ import annotations

import datetime as dt

import pytest

from acceptances import hooks, services
from acceptances.models import AcceptanceEvent, RiskAcceptance
from findings.models import Finding
from simulation.account import client

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _no_four_eyes(settings):
    settings.CSPM_REQUIRE_APPROVAL = False


def _coverage(acceptance: RiskAcceptance) -> list[tuple[dt.datetime, list]]:
    return [
        (event.at, event.changes["covered"])
        for event in acceptance.events.filter(action=AcceptanceEvent.Action.COVERAGE)
    ]


@pytest.fixture
def prod(make_account, make_finding, approver):
    account = make_account()
    for name in ("prod-a", "prod-b"):
        make_finding(account=account, name=name, tags={"Environment": "prod"})
    zone = services.save_zone(actor=approver, name="prod", rules={"tags": ["Environment=prod"]})
    return account, zone


def _accept(actor, catalog, **scope) -> RiskAcceptance:
    return services.accept_risk(
        actor=actor,
        control=catalog.controls.get(ref="2.1.2"),
        owner=actor,
        reason="risk_owned",
        justification="MFA Delete needs the root user.",
        now=NOW,
        **scope,
    )


def test_accepting_records_what_it_covers_from_the_start(prod, approver, catalog):
    acceptance = _accept(approver, catalog, zone=prod[1])
    assert _coverage(acceptance) == [(NOW, [None, 2])]
    acceptance.refresh_from_db()
    assert acceptance.recorded_coverage == 2


def test_a_new_failure_covered_by_a_refresh_records_the_new_count(
    prod, approver, catalog, make_finding
):
    account, zone = prod
    acceptance = _accept(approver, catalog, zone=zone)
    new = make_finding(account=account, name="prod-c", tags={"Environment": "prod"})
    services.refresh_zone_membership(zone, now=LATER)
    # As the scan's hook asks: the open failures nothing covers yet (filtered on the very link
    # the refresh sets).
    services.refresh_coverage(Finding.objects.filter(pk=new.pk, acceptance__isnull=True), LATER)
    assert _coverage(acceptance) == [(NOW, [None, 2]), (LATER, [2, 3])]


def test_nothing_is_recorded_when_the_count_did_not_move(prod, approver, catalog):
    acceptance = _accept(approver, catalog, zone=prod[1])
    assert services.record_coverage(now=LATER) == 0
    services.refresh_coverage(Finding.objects.all(), LATER)
    assert _coverage(acceptance) == [(NOW, [None, 2])]


def test_revoking_records_zero_and_the_count_of_the_one_that_takes_over(
    prod, approver, approver2, catalog
):
    _account, zone = prod
    bucket = Finding.objects.get(resource__name="prod-a")
    single = _accept(approver, catalog, resource=bucket.resource)
    zoned = _accept(approver, catalog, zone=zone)
    assert (_coverage(single), _coverage(zoned)) == ([(NOW, [None, 1])], [(NOW, [None, 1])])
    services.revoke_acceptance(single, actor=approver2, now=LATER)
    assert _coverage(single)[-1] == (LATER, [1, 0])
    assert _coverage(zoned)[-1] == (LATER, [1, 2])


def test_findings_unlinked_outside_the_services_are_caught_up_in_one_pass(prod, approver, catalog):
    """What a scan's ingest does directly (a fixed or gone finding loses its link): the
    after-scan pass records every acceptance whose count moved, and only those."""
    zoned = _accept(approver, catalog, zone=prod[1])
    Finding.objects.filter(resource__name="prod-a").update(status="pass", acceptance=None)
    assert services.record_coverage(now=LATER) == 1
    assert _coverage(zoned)[-1] == (LATER, [2, 1])
    assert services.record_coverage(now=LATER) == 0


def test_an_acceptance_older_than_coverage_history_gets_its_first_count(
    make_account, make_finding, approver, catalog
):
    bucket = make_finding(account=make_account(), name="old")
    old = RiskAcceptance.objects.create(
        control=catalog.controls.get(ref="2.1.2"),
        resource=bucket.resource,
        reason="risk_owned",
        justification="Old",
        owner=approver,
        created_by=approver,
    )
    Finding.objects.filter(pk=bucket.pk).update(acceptance=old)
    assert services.record_coverage(now=LATER) == 1
    assert _coverage(old) == [(LATER, [None, 1])]


def test_scans_record_coverage_as_buckets_come_and_go(
    story_account, scan_now, approver, catalog, aws
):
    scan_now(story_account)
    zone = services.save_zone(actor=approver, name="prod", rules={"tags": ["Environment=prod"]})
    acceptance = services.accept_risk(
        actor=approver,
        control=catalog.controls.get(ref="2.1.2"),
        zone=zone,
        owner=approver,
        reason="risk_owned",
        justification="MFA Delete needs the root user.",
    )
    start = acceptance.covered_findings.count()
    assert start > 0
    s3 = client(aws, "s3")
    s3.create_bucket(Bucket="story-thumbnails")
    s3.put_bucket_tagging(
        Bucket="story-thumbnails", Tagging={"TagSet": [{"Key": "Environment", "Value": "prod"}]}
    )
    scan_now(story_account)
    s3.delete_bucket(Bucket="story-thumbnails")
    scan_now(story_account)
    counts = [pair for _at, pair in _coverage(acceptance)]
    assert counts == [[None, start], [start, start + 1], [start + 1, start]]
    # The closing scan's pass found nothing else to record.
    assert hooks.record_coverage(now=LATER) == 0


def test_the_audit_log_lists_decisions_and_coverage_only_when_asked(prod, approver, catalog):
    from acceptances import queries

    acceptance = _accept(approver, catalog, zone=prod[1])
    assert [e.action for e in queries.get_audit_events()] == ["created"]
    coverage = queries.get_audit_events(action="coverage")
    assert [(e.acceptance_id, e.changes) for e in coverage] == [
        (acceptance.pk, {"covered": [None, 2]})
    ]
