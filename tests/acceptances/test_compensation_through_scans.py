"""Compensating controls checked by real scans of the story's account (moto server on loopback):
an acceptance of IMDSv1 (5.6) on the web server holds while 5.2 (no SSH from 0.0.0.0/0) passes
on its security group; opening port 22 to the world suspends it after the next scan, closing it
resumes it. Emails go to a real SMTP server."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from acceptances import services
from acceptances.models import AcceptanceEvent, RiskAcceptance
from acceptances.services import compensation
from findings.models import Finding, Resource
from findings.queries import get_control_posture
from simulation.account import client

pytestmark = pytest.mark.django_db

WORLD_SSH = [
    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
]


@pytest.fixture
def account(story_account):
    return story_account


def imds(story) -> Finding:
    return Finding.objects.get(
        control_check__check_id="ec2_instance_imdsv2_required",
        resource__arn__endswith=story.instance_id,
    )


def security_group(story) -> Resource:
    return Resource.objects.get(arn__endswith=story.security_group_id)


def open_ssh(aws, story) -> None:
    client(aws, "ec2").authorize_security_group_ingress(
        GroupId=story.security_group_id, IpPermissions=WORLD_SSH
    )


def close_ssh(aws, story) -> None:
    client(aws, "ec2").revoke_security_group_ingress(
        GroupId=story.security_group_id, IpPermissions=WORLD_SSH
    )


@pytest.fixture
def accepted(account, story, scan_now, analyst, viewer, catalog, approver):
    """IMDSv1 accepted on the web server while 5.2 passes on its security group; the viewer
    watches a zone holding the web server."""
    scan_now(account)
    zone = services.save_zone(actor=approver, name="prod", rules={"tags": ["Environment=prod"]})
    services.watch_zone(viewer, zone, actor=viewer)
    acceptance = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="5.6"),
        # The shipped risk appetite: a high-severity control for 90 days at most.
        expires_at=timezone.now() + dt.timedelta(days=30),
        resource=imds(story).resource,
        owner=analyst,
        reason="mitigated",
        justification="The OS image needs IMDSv1 until its upgrade; SSH stays closed.",
        compensating_controls=[(catalog.controls.get(ref="5.2"), security_group(story))],
        compensating_measures="Only the bastion reaches the instance.",
    )
    assert acceptance.state == RiskAcceptance.State.ACTIVE
    return acceptance


def posture_5_6(catalog):
    return next(row for row in get_control_posture(catalog) if row.control.ref == "5.6")


def test_a_failing_compensating_control_suspends_and_its_passing_again_resumes(
    account, story, aws, scan_now, accepted, catalog, smtp_server, settings
):
    settings.SITE_URL = "https://cspm.example.com"
    assert imds(story).acceptance == accepted
    accepted_before = posture_5_6(catalog).accepted

    open_ssh(aws, story)
    scan_now(account)
    accepted.refresh_from_db()
    assert accepted.state == RiskAcceptance.State.SUSPENDED
    assert accepted.suspended_at is not None
    event = accepted.events.get(action=AcceptanceEvent.Action.SUSPENDED)
    assert "5.2 fails on story-web-server" in event.note
    assert event.changes["state"] == ["active", "suspended"]
    # Its finding counts as failing again at once.
    assert imds(story).acceptance is None
    assert posture_5_6(catalog).accepted == accepted_before - 1
    row = accepted.compensating_controls.get()
    assert row.failing_since is not None and row.checked_at is not None
    # The owner and the zone's watcher, once each (the watcher also gets the scan's drift
    # alert, which lists the security group's new failure).
    suspended = [m for m in smtp_server.messages if "suspended" in m.subject]
    assert sorted(m.rcpt_tos[0] for m in suspended) == [
        "ann-analyst@example.com",
        "victor-viewer@example.com",
    ]
    mail = smtp_server.to("ann-analyst@example.com")[0]
    assert "suspended" in mail.subject and "5.6" in mail.subject
    assert "5.2 fails on story-web-server" in mail.text
    assert f"https://cspm.example.com/acceptances/{accepted.pk}/" in mail.text

    smtp_server.clear()
    scan_now(account)  # still failing: nothing new
    assert smtp_server.messages == []
    assert accepted.events.filter(action=AcceptanceEvent.Action.SUSPENDED).count() == 1

    close_ssh(aws, story)
    scan_now(account)
    accepted.refresh_from_db()
    assert accepted.state == RiskAcceptance.State.ACTIVE and accepted.suspended_at is None
    assert accepted.events.filter(action=AcceptanceEvent.Action.RESUMED).count() == 1
    assert imds(story).acceptance == accepted
    assert posture_5_6(catalog).accepted == accepted_before
    assert accepted.compensating_controls.get().failing_since is None
    # (The watcher also hears of the fix in the scan's drift alert.)
    resumed = [m for m in smtp_server.messages if "resumed" in m.subject]
    assert sorted(m.rcpt_tos[0] for m in resumed) == [
        "ann-analyst@example.com",
        "victor-viewer@example.com",
    ]


def test_running_the_after_scan_check_twice_sends_one_email(
    account, story, aws, scan_now, accepted, smtp_server, django_capture_on_commit_callbacks
):
    open_ssh(aws, story)
    scan_now(account)
    assert len([m for m in smtp_server.messages if "suspended" in m.subject]) == 2
    smtp_server.clear()
    # A retried task: the acceptance is already suspended, nothing to claim.
    with django_capture_on_commit_callbacks(execute=True):
        report = compensation.check_compensation(timezone.now())
    assert report.suspended == [] and report.resumed == []
    assert smtp_server.messages == []
    accepted.refresh_from_db()
    assert accepted.events.filter(action=AcceptanceEvent.Action.SUSPENDED).count() == 1


def test_without_a_resource_the_control_must_pass_everywhere_in_the_zone(
    account, story, aws, scan_now, analyst, approver, catalog
):
    """5.6 accepted in the prod zone while 5.2 fails on no security group of that zone."""
    scan_now(account)
    zone = services.save_zone(actor=approver, name="prod", rules={"tags": ["Environment=prod"]})
    acceptance = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="5.6"),
        # The shipped risk appetite: a high-severity control for 90 days at most.
        expires_at=timezone.now() + dt.timedelta(days=30),
        zone=zone,
        owner=analyst,
        reason="mitigated",
        justification="No SSH from anywhere in prod.",
        compensating_controls=[(catalog.controls.get(ref="5.2"), None)],
    )
    assert acceptance.state == RiskAcceptance.State.ACTIVE
    assert imds(story).acceptance == acceptance
    open_ssh(aws, story)
    scan_now(account)
    acceptance.refresh_from_db()
    assert acceptance.state == RiskAcceptance.State.SUSPENDED
    assert imds(story).acceptance is None
    assert "5.2 fails on story-web-server" in acceptance.events.get(action="suspended").note


def test_a_compensating_control_not_evaluated_keeps_its_previous_verdict(
    account, story, aws, aws_front, scan_now, accepted
):
    """EC2 denied to the scanner (the scan cannot even list the regions, so it fails): 5.2 is
    not judged, and the acceptance stays as it was (suspended here), even though port 22 was
    closed meanwhile; the next full scan resumes it."""
    open_ssh(aws, story)
    scan_now(account)
    accepted.refresh_from_db()
    assert accepted.state == RiskAcceptance.State.SUSPENDED
    close_ssh(aws, story)
    aws_front.denied_services.add("ec2")
    assert scan_now(account, expect=None).state in ("failed", "partial")
    accepted.refresh_from_db()
    assert accepted.state == RiskAcceptance.State.SUSPENDED
    assert accepted.compensating_controls.get().failing_since == accepted.suspended_at
    aws_front.denied_services.clear()
    scan_now(account)
    accepted.refresh_from_db()
    assert accepted.state == RiskAcceptance.State.ACTIVE
