"""Reads for the UI and API: new marks, the last finished scan, change rows and counts."""

from __future__ import annotations

import pytest

from findings import queries
from findings.models import Finding, Scan
from findings.services.ingest import check_severities

pytestmark = pytest.mark.django_db


def test_a_finding_is_new_only_while_its_units_last_scan_says_so(
    closed_scan, make_finding, add_change
):
    first = closed_scan()
    new = make_finding(account=first.account)
    old = make_finding(account=first.account)
    add_change(first, new)
    assert queries.get_new_finding_ids([new.pk, old.pk]) == {new.pk}
    marked = queries.annotate_is_new(Finding.objects.filter(pk__in=[new.pk, old.pk]))
    assert {f.pk: f.is_new for f in marked} == {new.pk: True, old.pk: False}
    # The next successful run of the unit saw nothing new: the mark goes.
    closed_scan(first.account)
    assert queries.get_new_finding_ids([new.pk, old.pk]) == set()


def test_the_last_finished_scan_skips_running_and_failed_ones(closed_scan, make_account):
    account, other = make_account(), make_account()
    done = closed_scan(account)
    Scan.objects.create(account=account, state=Scan.State.RUNNING)
    Scan.objects.create(account=account, state=Scan.State.FAILED)
    assert queries.get_last_finished_scan(account) == done
    assert queries.get_last_finished_scan(other) is None
    later = closed_scan(other)
    assert queries.get_last_finished_scan() == later


def test_change_rows_come_most_severe_first_with_what_a_list_shows(
    closed_scan, make_finding, add_change
):
    scan = closed_scan()
    medium = make_finding(account=scan.account, control_ref="2.1.1", name="b1")
    high = make_finding(account=scan.account, control_ref="2.1.4", name="b2")
    add_change(scan, medium)
    add_change(scan, high)
    Finding.objects.filter(pk=high.pk).update(evidence={"summary": "No Block Public Access."})
    rows = queries.get_scan_changes(scan)
    assert [(r.controls[0].ref, r.severity) for r in rows] == [
        ("2.1.4", "high"),
        ("2.1.1", "medium"),
    ]
    assert rows[0].resource_name == "b2" and rows[0].evidence_summary == "No Block Public Access."
    assert rows[0].resource_id == high.resource_id and rows[0].region == "us-east-1"
    assert queries.get_scan_changes(scan, kinds=["fixed"]) == []
    assert len(queries.get_scan_changes(scan, limit=1)) == 1
    # Counted live until the scan's close stores them.
    assert queries.get_scan_change_counts(scan)["new_failure"] == 2


def test_a_checks_severity_is_the_highest_of_its_controls(catalog, make_account, make_finding):
    finding = make_finding(account=make_account(), control_ref="2.1.1")
    finding.control_check.controls.add(catalog.controls.get(ref="2.1.4"))
    assert check_severities([finding.control_check_id]) == {finding.control_check_id: "high"}
