"""The overview answers "what needs me now": acceptances ending within 30 days, the last scan's
new failures, proposals awaiting approval (each panel collapsible, linking to its full list),
and a controls table sortable by any column."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from acceptances import services
from findings.models import Scan, ScanChange

pytestmark = pytest.mark.django_db


def panel(html: str, panel_id: str) -> str:
    """The markup of one collapsible panel of the overview."""
    match = re.search(rf'<details class="panel" id="{panel_id}"[^>]*>(.*?)</details>', html, re.S)
    assert match, f"no collapsible panel {panel_id}"
    return match.group(1)


def accept(actor, finding, days: int | None):
    return services.accept_risk(
        actor=actor,
        control=finding.control_check.controls.get(),
        resource=finding.resource,
        owner=actor,
        reason="risk_owned",
        justification="Known and owned.",
        expires_at=timezone.now() + dt.timedelta(days=days) if days is not None else None,
    )


def test_it_lists_acceptances_ending_within_30_days(login, viewer, approver, estate):
    soon = accept(approver, estate.findings["images"], days=10)
    later = accept(approver, estate.findings["logs"], days=90)
    never = accept(approver, estate.findings["scratch"], days=None)
    html = login(viewer).get(reverse("home")).content.decode()
    expiring = panel(html, "panel-expiring")
    assert f'data-acceptance="{soon.pk}"' in expiring
    assert f'data-acceptance="{later.pk}"' not in expiring
    assert f'data-acceptance="{never.pk}"' not in expiring
    assert 'data-testid="expiring-count">1<' in expiring
    assert "/acceptances/?expires_within=30" in expiring
    # The link leads to the same acceptances, filtered.
    listing = login(viewer).get(reverse("acceptance-list"), {"expires_within": 30})
    assert [a.pk for a in listing.context["page"].object_list] == [soon.pk]


def test_it_lists_the_last_scans_new_failures(login, viewer, estate):
    earlier = Scan.objects.create(
        account=estate.account,
        state=Scan.State.SUCCEEDED,
        finished_at=timezone.now() - dt.timedelta(days=1),
    )
    last = Scan.objects.create(
        account=estate.account, state=Scan.State.SUCCEEDED, finished_at=timezone.now()
    )
    now = timezone.now()
    ScanChange.objects.create(
        scan=earlier, kind="new_failure", finding=estate.findings["logs"], at=now
    )
    ScanChange.objects.create(
        scan=last, kind="new_failure", finding=estate.findings["images"], at=now
    )
    ScanChange.objects.create(scan=last, kind="fixed", finding=estate.findings["ok"], at=now)
    html = login(viewer).get(reverse("home")).content.decode()
    new = panel(html, "panel-new")
    shown = re.findall(r'data-finding="(\d+)"', new)
    assert shown == [str(estate.findings["images"].pk)]  # not the fixed one, not the older scan
    assert "story-images" in new
    assert reverse("scan-detail", args=[last.pk]) in new


def test_it_lists_proposals_and_changes_awaiting_approval(
    settings, login, viewer, approver, approver2, estate
):
    settings.CSPM_REQUIRE_APPROVAL = True
    proposed = accept(approver, estate.findings["images"], days=60)
    approved = accept(approver, estate.findings["logs"], days=60)
    services.approve_acceptance(approved, actor=approver2)
    services.update_acceptance(approved, actor=approver, expires_at=None, note="for good")
    html = login(viewer).get(reverse("home")).content.decode()
    proposals = panel(html, "panel-proposals")
    assert f'data-acceptance="{proposed.pk}"' in proposals
    assert f'data-acceptance="{approved.pk}"' not in proposals  # approved: not a proposal...
    change = approved.proposed_changes.get(state="pending")
    assert f'data-change-proposal="{change.pk}"' in proposals  # ...but its change waits
    assert reverse("acceptance-detail", args=[approved.pk]) in proposals
    assert 'data-testid="proposals-count">2<' in proposals
    assert "/acceptances/?state=proposed" in proposals


def test_the_panels_say_when_nothing_waits(login, viewer, estate):
    html = login(viewer).get(reverse("home")).content.decode()
    assert "No acceptance ends within 30 days." in panel(html, "panel-expiring")
    assert "No scan has finished yet." in panel(html, "panel-new")
    assert "Nothing awaits approval." in panel(html, "panel-proposals")
    assert "<script>" not in html and " style=" not in html  # the CSP allows neither


def test_the_controls_table_sorts_by_any_column(login, viewer, estate):
    client = login(viewer)
    by_failing = client.get(reverse("home"), {"sort": "-failing"})
    failing = [r.failing for r in by_failing.context["rows"]]
    assert failing == sorted(failing, reverse=True) and failing[0] == 3
    html = by_failing.content.decode()
    assert 'aria-sort="descending"' in html
    refs = re.findall(r'<tr data-control="([^"]+)"', html)
    assert refs[0] == "2.1.2"  # the rendered table follows the order
    # A second click reverses it; the header links to the other direction.
    ascending = [
        r.failing for r in client.get(reverse("home"), {"sort": "failing"}).context["rows"]
    ]
    assert ascending == sorted(ascending)
    assert "sort=-failing" in client.get(reverse("home"), {"sort": "failing"}).content.decode()
    titles = [
        r.control.title.lower()
        for r in client.get(reverse("home"), {"sort": "title"}).context["rows"]
    ]
    assert titles == sorted(titles)
    # An unknown column keeps the benchmark's order rather than failing.
    default = client.get(reverse("home"), {"sort": "nope"})
    assert default.status_code == 200
    assert [r.control.ref for r in default.context["rows"]] == [
        r.control.ref for r in client.get(reverse("home")).context["rows"]
    ]
