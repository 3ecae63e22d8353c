"""Where people see drift: the overview's last-scan box, "new" marks, the scans pages, and
watching a zone from the zones page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from acceptances.models import ZoneWatch
from findings.models import Control, Finding
from simulation.account import client

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_scans(story_account, aws, scan_now):
    """The story's account scanned twice; in between, a new bucket with no deny-HTTP policy."""
    first = scan_now(story_account)
    client(aws, "s3").create_bucket(Bucket="story-uploads")
    return first, scan_now(story_account)


def deny_http(bucket: str) -> Finding:
    return Finding.objects.get(
        control_check__controls__benchmark__version="2.0.0",
        control_check__controls__ref="2.1.1",
        resource__name=bucket,
        status="fail",
    )


def test_drift_shows_on_the_overview_control_resource_and_scan_pages(login, viewer, two_scans):
    first, second = two_scans
    web = login(viewer)
    overview = web.get(reverse("home")).content.decode()
    assert "What changed in the last scan" in overview
    assert f"Scan #{second.pk}" in overview
    new_count = int(re.search(r'data-testid="new-failing">(\d+)<', overview).group(1))
    assert new_count == second.change_counts["new_failure"] >= 1
    assert "story-uploads" in overview

    control = Control.objects.get(ref="2.1.1", benchmark__version="2.0.0")
    page = web.get(reverse("control-detail", args=[control.pk])).content.decode()
    row = re.search(r'<tr data-resource="story-uploads">.*?</tr>', page, re.S).group(0)
    assert "badge-new" in row
    old = re.search(r'<tr data-resource="story-images">.*?</tr>', page, re.S).group(0)
    assert "badge-new" not in old  # failing since the first scan: not new

    resource = deny_http("story-uploads").resource
    assert "badge-new" in web.get(reverse("resource-detail", args=[resource.pk])).content.decode()

    listing = web.get(reverse("scan-list")).content.decode()
    assert listing.count('class="num n-fail"') >= 2  # per-scan counts, one cell per scan
    detail = web.get(reverse("scan-detail", args=[second.pk])).content.decode()
    assert "What changed since the previous scan" in detail
    assert 'data-change="new_failure"' in detail and "story-uploads" in detail
    baseline = web.get(reverse("scan-detail", args=[first.pk])).content.decode()
    assert "Baseline (first scan)" in baseline


def test_a_viewer_watches_and_unwatches_a_zone(login, viewer, estate):
    web = login(viewer)
    response = web.post(reverse("zone-watch", args=[estate.prod.pk]), {"min_severity": "high"})
    assert response.status_code == 302
    watch = ZoneWatch.objects.get(user=viewer, zone=estate.prod)
    assert watch.min_severity == "high"
    assert b"Stop watching" in web.get(reverse("zone-list")).content
    web.post(reverse("zone-unwatch", args=[estate.prod.pk]))
    assert not ZoneWatch.objects.exists()


def test_a_bad_severity_is_refused_and_outsiders_cannot_watch(login, viewer, outsider, estate):
    response = login(viewer).post(
        reverse("zone-watch", args=[estate.prod.pk]), {"min_severity": "apocalyptic"}, follow=True
    )
    assert b"not one of the available choices" in response.content
    assert login(outsider).post(reverse("zone-watch", args=[estate.prod.pk])).status_code == 403
    assert not ZoneWatch.objects.exists()
