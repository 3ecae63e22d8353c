"""The scans page: start a scan, watch it by region, see each region's error."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from findings.models import Scan, ScanRegion

pytestmark = pytest.mark.django_db


def test_an_analyst_starts_a_scan_and_lands_on_its_progress(login, analyst, make_account):
    account = make_account()
    response = login(analyst).post(reverse("scan-start"), {"account": account.pk})
    scan = Scan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("scan-detail", args=[scan.pk])
    assert scan.account == account and scan.requested_by == analyst and scan.trigger == "manual"


def test_a_disabled_or_unknown_account_is_refused_beside_the_field(login, analyst, make_account):
    disabled = make_account(enabled=False)
    response = login(analyst).post(reverse("scan-start"), {"account": disabled.pk})
    assert response.status_code == 400
    assert "account" in response.context["form"].errors
    response = login(analyst).post(reverse("scan-start"), {"account": "nope"})
    assert response.status_code == 400
    assert not Scan.objects.exists()


def test_progress_shows_each_region_and_its_error(login, viewer, make_account):
    scan = Scan.objects.create(
        account=make_account(),
        state="running",
        started_at=timezone.now(),
        regions_total=2,
        regions_done=1,
    )
    ScanRegion.objects.create(scan=scan, region="global", state="succeeded", resources_seen=12)
    ScanRegion.objects.create(
        scan=scan,
        region="eu-west-1",
        state="failed",
        error="AccessDenied: not authorized to perform ec2:DescribeInstances",
    )
    client = login(viewer)
    page = client.get(reverse("scan-detail", args=[scan.pk]))
    body = page.content.decode()
    assert "AccessDenied: not authorized" in body
    assert 'hx-trigger="every 2s"' in body  # still running: the page polls
    # The poll answers with the progress part only.
    part = client.get(reverse("scan-detail", args=[scan.pk]), HTTP_HX_REQUEST="true")
    assert part.content.decode().lstrip().startswith('<div id="scan-progress"')
    Scan.objects.filter(pk=scan.pk).update(state="partial", finished_at=timezone.now())
    finished = client.get(reverse("scan-detail", args=[scan.pk])).content.decode()
    assert "every 2s" not in finished


def test_viewers_see_scans_but_cannot_start_one(login, viewer, outsider, make_account):
    account = make_account()
    client = login(viewer)
    listing = client.get(reverse("scan-list"))
    assert listing.status_code == 200 and b"Start scan" not in listing.content
    assert client.post(reverse("scan-start"), {"account": account.pk}).status_code == 403
    assert login(outsider).get(reverse("scan-list")).status_code == 403
    assert not Scan.objects.exists()


def test_durations_read_as_people_say_them():
    import datetime as dt

    from cspm.templatetags.ui import duration

    assert duration(dt.timedelta(seconds=17.9)) == "17 s"
    assert duration(dt.timedelta(minutes=4, seconds=5)) == "4 min 05 s"
    assert duration(dt.timedelta(hours=1, minutes=2, seconds=9)) == "1 h 02 min"
    assert duration(None) == "–"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_demo_runs_a_scan_started_from_the_page_beside_it(
    committed_db, client, analyst, story_account, settings
):
    """Embedded mode with background tasks (the demo): the page answers at once, the scan
    runs in its own thread and the progress page sees it finish."""
    import time

    settings.CSPM_BACKGROUND_TASKS = True
    client.force_login(analyst)
    response = client.post(reverse("scan-start"), {"account": story_account.pk})
    assert response.status_code == 302
    scan = Scan.objects.get()
    # The page answered while the scan still runs (its units take seconds against moto).
    assert not scan.is_finished
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        scan.refresh_from_db()
        if scan.is_finished:
            break
        time.sleep(0.5)
    assert scan.state == "succeeded", scan.error
    page = client.get(reverse("scan-detail", args=[scan.pk])).content.decode()
    assert "Succeeded" in page and 'data-unit="us-east-1"' in page
