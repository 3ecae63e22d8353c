"""The issue's scenario, with real parts: two scans of the story's account on a moto server,
a change in between, and the alert delivered over SMTP to a server on loopback."""

from __future__ import annotations

import pytest

from acceptances import drift, services, tasks
from acceptances.models import DriftAlert
from findings.models import Finding, ScanChange
from findings.queries import get_scan_changes
from findings.services import scans
from simulation.account import STORY_TAGS, client

pytestmark = pytest.mark.django_db


def change_set(scan) -> set[tuple[str, str, str]]:
    return {(c.kind, c.check_id, c.resource_label) for c in get_scan_changes(scan)}


@pytest.fixture
def zones(approver):
    prod = services.save_zone(actor=approver, name="prod", rules={"tags": ["Environment=prod"]})
    # Holds the story's VPC, which nothing below changes.
    network = services.save_zone(
        actor=approver, name="network", rules={"resource_types": ["AWS::EC2::VPC"]}
    )
    return prod, network


def make_the_change(aws, story) -> None:
    """A new bucket (in the prod zone) without a deny-HTTP policy; the web server fixed."""
    s3 = client(aws, "s3")
    s3.create_bucket(Bucket="story-uploads")
    s3.put_bucket_tagging(
        Bucket="story-uploads",
        Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in STORY_TAGS.items()]},
    )
    client(aws, "ec2").modify_instance_metadata_options(
        InstanceId=story.instance_id, HttpTokens="required", HttpEndpoint="enabled"
    )


def test_the_zone_watcher_gets_one_email_with_what_newly_fails_and_what_got_fixed(
    account, story, aws, zones, scan_now, analyst, viewer, smtp_server, settings
):
    settings.SITE_URL = "https://cspm.example.com"
    prod, network = zones
    services.watch_zone(analyst, prod, actor=analyst)
    services.watch_zone(viewer, network, actor=viewer)

    first = scan_now(account)
    # The first scan of each unit is the baseline: nothing "changed", nobody is mailed.
    assert first.change_counts["baseline_units"] == ["global", "us-east-1"]
    assert not first.changes.exists()
    assert smtp_server.messages == []

    make_the_change(aws, story)
    second = scan_now(account)

    # Exactly the findings that changed. The new bucket has no bucket policy (2.1.1), no
    # versioning hence no MFA Delete (2.1.2), and no Block Public Access of its own while the
    # account has none either (2.1.4); its other checks pass (moto encrypts new buckets by
    # default, as AWS does). The web server now requires IMDSv2 (5.6 fixed).
    assert change_set(second) == {
        ("new_failure", "s3_bucket_secure_transport", "story-uploads"),
        ("new_failure", "s3_bucket_mfa_delete_enabled", "story-uploads"),
        ("new_failure", "s3_bucket_public_access_blocked", "story-uploads"),
        ("fixed", "ec2_instance_imdsv2_required", "web-server"),
    }
    assert second.change_counts == {
        "new_failure": 3,
        "accepted": 0,
        "fixed": 1,
        "gone": 0,
        "stale_acceptance": 0,
        "baseline_units": [],
    }

    [message] = smtp_server.messages
    assert message.rcpt_tos == (analyst.email,)
    assert message.subject == f"[CSPM] story: 3 newly failing, 1 fixed (scan #{second.pk})"
    bucket = Finding.objects.get(
        control_check__check_id="s3_bucket_secure_transport", resource__name="story-uploads"
    ).resource
    for body in (message.text, message.html):
        assert "2.1.1" in body and "story-uploads" in body
        assert "nothing denies requests made over HTTP" in body  # the evidence summary
        assert "5.6" in body and "web-server" in body
        assert "us-east-1" in body and "AWS::S3::Bucket" in body
        assert f"https://cspm.example.com/resources/{bucket.pk}/" in body
        assert f"https://cspm.example.com/scans/{second.pk}/" in body
    newly, fixed = message.text.split("FIXED")
    assert "2.1.1" in newly and "5.6" not in newly
    assert "5.6" in fixed and "2.1.1" not in fixed
    assert smtp_server.to(viewer.email) == []  # the VPC zone saw no change

    alert = DriftAlert.objects.get(scan=second)
    assert (alert.user, alert.new_failures, alert.fixed) == (analyst, 3, 1)
    assert alert.sent_at is not None and alert.error == ""

    # The final step again, every way it can come: nothing more is sent.
    assert scans.finish_scan(second.pk) is False
    report = drift.send_drift_alerts(second.pk)
    assert report.sent == [] and report.already_claimed == [analyst.email]
    tasks.send_drift_alerts.delay(second.pk)
    assert len(smtp_server.messages) == 1
    assert DriftAlert.objects.count() == 1

    # A third scan that sees nothing new: no change, no email.
    third = scan_now(account)
    assert not third.changes.exists() and third.change_counts["new_failure"] == 0
    assert len(smtp_server.messages) == 1


def test_changes_of_a_scan_are_kinds_of_scan_change(account, story, aws, scan_now):
    scan_now(account)
    make_the_change(aws, story)
    second = scan_now(account)
    fixed = second.changes.get(kind=ScanChange.Kind.FIXED)
    assert fixed.finding.status == "pass" and fixed.severity == "high"
    assert set(second.changes.values_list("kind", flat=True)) == {"new_failure", "fixed"}
