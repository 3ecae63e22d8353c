"""The admin console: a scan's changes, zone watches (through the services), drift alerts."""

from __future__ import annotations

import pytest

from acceptances.models import DriftAlert, Zone, ZoneWatch
from findings.services.scans import record_change_counts

pytestmark = pytest.mark.django_db


def test_a_scan_links_to_its_changes_and_viewers_may_read_them(
    client, viewer, closed_scan, make_finding, add_change
):
    scan = closed_scan()
    add_change(scan, make_finding(account=scan.account, name="uploads"))
    record_change_counts(scan.pk)
    client.force_login(viewer)
    page = client.get(f"/admin/findings/scan/{scan.pk}/change/")
    assert page.status_code == 200
    assert f"scanchange/?scan__id__exact={scan.pk}" in page.content.decode()
    assert "+1 failing, 0 fixed, 0 gone, 0 stale" in page.content.decode()
    changes = client.get(f"/admin/findings/scanchange/?scan__id__exact={scan.pk}")
    assert changes.status_code == 200 and "uploads" in changes.content.decode()
    assert client.get("/admin/findings/scanchange/1/delete/").status_code == 403


def test_an_admin_adds_a_watch_for_someone_and_the_service_refuses_an_outsider(
    client, admin_user, viewer, outsider
):
    zone = Zone.objects.get(is_builtin=True)
    client.force_login(admin_user)
    response = client.post(
        "/admin/acceptances/zonewatch/add/",
        {"user": viewer.pk, "zone": zone.pk, "min_severity": "high"},
    )
    assert response.status_code == 302
    assert ZoneWatch.objects.get().min_severity == "high"
    refused = client.post(
        "/admin/acceptances/zonewatch/add/", {"user": outsider.pk, "zone": zone.pk}
    )
    assert refused.status_code == 200 and "may not read findings" in refused.content.decode()
    assert ZoneWatch.objects.count() == 1


def test_drift_alerts_are_read_only(client, admin_user, closed_scan):
    scan = closed_scan()
    alert = DriftAlert.objects.create(
        scan=scan, user=admin_user, email=admin_user.email, claimed_at=scan.finished_at
    )
    client.force_login(admin_user)
    assert client.get("/admin/acceptances/driftalert/").status_code == 200
    assert client.get(f"/admin/acceptances/driftalert/{alert.pk}/delete/").status_code == 403
