"""Who gets which drift alert, and exactly once (hand-made changes: no AWS needed)."""

from __future__ import annotations

import socket

import pytest
from django.contrib.auth.models import Group

from acceptances import drift, services
from acceptances.models import DriftAlert, Zone

pytestmark = pytest.mark.django_db


@pytest.fixture
def builtin_zone(db) -> Zone:
    return Zone.objects.get(is_builtin=True)


@pytest.fixture
def scenario(closed_scan, make_account, make_finding, add_change, approver):
    """One scan: a high (2.1.4 check) and a medium (2.1.1 check) new failure on a prod bucket,
    an accepted new failure, and a fix on a staging bucket."""
    account = make_account()
    scan = closed_scan(account)
    prod = services.save_zone(actor=approver, name="prod", rules={"tags": ["Env=prod"]})
    staging = services.save_zone(actor=approver, name="staging", rules={"tags": ["Env=staging"]})
    high = make_finding(account=account, control_ref="2.1.4", name="prod-a", tags={"Env": "prod"})
    medium = make_finding(
        account=account, control_ref="2.1.1", resource=high.resource, check_id="medium_check"
    )
    accepted = make_finding(account=account, control_ref="2.1.2", resource=high.resource)
    fixed = make_finding(
        account=account,
        control_ref="2.1.1",
        name="staging-a",
        tags={"Env": "staging"},
        status="pass",
    )
    for zone in (prod, staging):
        services.refresh_zone_membership(zone)
    add_change(scan, high)
    add_change(scan, medium)
    add_change(scan, accepted, accepted=True)
    add_change(scan, fixed, kind="fixed")
    return scan, prod, staging


def listed(message) -> set[str]:
    return {name for name in ("prod-a", "staging-a") if name in message.text}


def test_a_watcher_of_several_zones_gets_one_email_listing_each_finding_once(
    scenario, builtin_zone, analyst, smtp_server
):
    scan, prod, staging = scenario
    for zone in (prod, staging, builtin_zone):
        services.watch_zone(analyst, zone, actor=analyst)
    report = drift.send_drift_alerts(scan.pk)
    assert report.sent == [analyst.email]
    [message] = smtp_server.messages
    assert message.text.count("Resource: prod-a") == 2  # two new failures, each once
    assert message.text.count("Resource: staging-a") == 1  # the fix
    assert "2.1.2" not in message.text  # accepted: a decision already taken, not news
    assert "2 newly failing, 1 fixed" in message.subject


def test_the_minimum_severity_filters_what_a_watcher_hears(scenario, analyst, viewer, smtp_server):
    scan, prod, _ = scenario
    services.watch_zone(analyst, prod, actor=analyst, min_severity="high")
    services.watch_zone(viewer, prod, actor=viewer, min_severity="critical")
    drift.send_drift_alerts(scan.pk)
    [message] = smtp_server.to(analyst.email)
    assert "2.1.4" in message.text and "2.1.1" not in message.text
    assert "1 newly failing" in message.subject
    assert smtp_server.to(viewer.email) == []  # nothing critical changed


def test_a_watcher_of_an_unchanged_zone_and_a_watcher_without_role_hear_nothing(
    scenario, analyst, viewer, approver, smtp_server
):
    scan, prod, _ = scenario
    quiet = services.save_zone(actor=approver, name="quiet", rules={"tags": ["Env=none"]})
    services.watch_zone(analyst, quiet, actor=analyst)
    services.watch_zone(viewer, prod, actor=viewer)
    viewer.groups.remove(Group.objects.get(name="viewer"))  # lost the right to read findings
    report = drift.send_drift_alerts(scan.pk)
    assert report.digests == {} and smtp_server.messages == []
    assert not DriftAlert.objects.exists()


def test_only_accepted_changes_send_nothing(
    closed_scan, make_finding, add_change, builtin_zone, analyst, smtp_server
):
    scan = closed_scan()
    finding = make_finding(account=scan.account)
    add_change(scan, finding, accepted=True)
    services.watch_zone(analyst, builtin_zone, actor=analyst)
    assert drift.send_drift_alerts(scan.pk).digests == {}
    assert smtp_server.messages == []


def test_long_lists_are_cut_with_a_link_to_the_scan(
    scenario, builtin_zone, analyst, smtp_server, monkeypatch, settings
):
    settings.SITE_URL = "https://cspm.example.com"
    scan, _, _ = scenario
    monkeypatch.setattr(drift, "MAX_ITEMS", 1)
    services.watch_zone(analyst, builtin_zone, actor=analyst)
    drift.send_drift_alerts(scan.pk)
    [message] = smtp_server.messages
    assert f"...and 1 more: https://cspm.example.com/scans/{scan.pk}/" in message.text
    assert "1 more</a>" in message.html


def test_an_unreachable_mail_server_releases_the_claim_and_a_retry_sends_once(
    scenario, builtin_zone, analyst, smtp_server, settings
):
    scan, _, _ = scenario
    services.watch_zone(analyst, builtin_zone, actor=analyst)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = probe.getsockname()[1]
    report = drift.send_drift_alerts(scan.pk)
    assert report.released == [analyst.email] and report.sent == []
    assert not DriftAlert.objects.exists()  # certainly not sent: free to try again
    settings.EMAIL_PORT = smtp_server.port
    assert drift.send_drift_alerts(scan.pk).sent == [analyst.email]
    assert drift.send_drift_alerts(scan.pk).sent == []
    assert len(smtp_server.messages) == 1


def test_a_send_that_fails_after_reaching_the_server_is_never_repeated(
    scenario, builtin_zone, analyst, smtp_server
):
    scan, _, _ = scenario
    services.watch_zone(analyst, builtin_zone, actor=analyst)
    smtp_server.reject(analyst.email)
    report = drift.send_drift_alerts(scan.pk)
    assert report.failed == [analyst.email]
    alert = DriftAlert.objects.get()
    assert alert.sent_at is None and "SMTPRecipientsRefused" in alert.error
    smtp_server.accept(analyst.email)
    assert drift.send_drift_alerts(scan.pk).already_claimed == [analyst.email]
    assert smtp_server.messages == []


def test_a_scan_that_is_not_closed_or_failed_alerts_nobody(
    scenario, builtin_zone, analyst, smtp_server
):
    scan, _, _ = scenario
    services.watch_zone(analyst, builtin_zone, actor=analyst)
    for state in ("running", "failed"):
        scan.state = state
        scan.save(update_fields=["state"])
        assert drift.send_drift_alerts(scan.pk).digests == {}
    assert drift.send_drift_alerts(999_999).digests == {}
    assert smtp_server.messages == []
