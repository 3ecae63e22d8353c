"""Coverage stays exact as scans see the estate change, and acceptances go stale when fixed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from acceptances import services
from acceptances.models import RiskAcceptance
from findings.models import Finding
from simulation.account import client

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(story_account):
    return story_account


def mfa_delete(bucket: str) -> Finding:
    return Finding.objects.get(
        control_check__check_id="s3_bucket_mfa_delete_enabled", resource__name=bucket
    )


def test_a_new_bucket_in_an_accepted_zone_is_accepted_by_the_next_scan(
    account, scan_now, approver, analyst, catalog, aws
):
    scan_now(account)
    zone = services.save_zone(actor=approver, name="prod", rules={"tags": ["Environment=prod"]})
    acceptance = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        zone=zone,
        owner=analyst,
        reason="risk_owned",
        justification="MFA Delete needs the root user.",
    )
    assert mfa_delete("story-images").acceptance == acceptance
    s3 = client(aws, "s3")
    s3.create_bucket(Bucket="story-thumbnails")
    s3.put_bucket_tagging(
        Bucket="story-thumbnails", Tagging={"TagSet": [{"Key": "Environment", "Value": "prod"}]}
    )
    s3.create_bucket(Bucket="scratch")  # not in the zone
    scan_now(account)
    assert mfa_delete("story-thumbnails").acceptance == acceptance
    assert mfa_delete("scratch").acceptance is None
    assert mfa_delete("scratch").status == "fail"


def test_a_tag_change_seen_by_a_scan_takes_a_resource_out_of_the_zone(
    account, scan_now, approver, analyst, catalog, aws
):
    scan_now(account)
    zone = services.save_zone(actor=approver, name="prod", rules={"tags": ["Environment=prod"]})
    services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        zone=zone,
        owner=analyst,
        reason="risk_owned",
        justification="MFA Delete needs the root user.",
    )
    client(aws, "s3").put_bucket_tagging(
        Bucket="story-images", Tagging={"TagSet": [{"Key": "Environment", "Value": "staging"}]}
    )
    scan_now(account)
    finding = mfa_delete("story-images")
    assert finding.acceptance is None and finding.display_status == "fail"
    assert not zone.memberships.filter(resource=finding.resource).exists()


def test_editing_a_zones_rules_moves_coverage_at_once(
    account, scan_now, approver, analyst, catalog
):
    scan_now(account)
    zone = services.save_zone(actor=approver, name="prod", rules={"tags": ["Environment=prod"]})
    services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        zone=zone,
        owner=analyst,
        reason="risk_owned",
        justification="MFA Delete needs the root user.",
    )
    services.save_zone(
        actor=approver, zone=zone, name="prod", rules={"tags": ["Environment=staging"]}
    )
    assert mfa_delete("story-images").acceptance is None
    services.save_zone(actor=approver, zone=zone, name="prod", rules={"tags": ["Project=story"]})
    assert mfa_delete("story-images").acceptance is not None


def test_an_acceptance_whose_findings_now_pass_is_flagged_no_longer_needed(
    account, story, scan_now, analyst, catalog, aws
):
    scan_now(account)
    instance = Finding.objects.get(
        control_check__check_id="ec2_instance_imdsv2_required",
        resource__arn__endswith=story.instance_id,
    )
    acceptance = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="5.6"),
        resource=instance.resource,
        owner=analyst,
        reason="risk_owned",
        justification="Until the OS upgrade lands.",
        # 5.6 is of high severity: the shipped risk appetite allows 90 days at most.
        expires_at=timezone.now() + dt.timedelta(days=60),
    )
    scan_now(account)
    acceptance.refresh_from_db()
    assert acceptance.stale_since is None
    client(aws, "ec2").modify_instance_metadata_options(
        InstanceId=story.instance_id, HttpTokens="required", HttpEndpoint="enabled"
    )
    scan_now(account)
    acceptance.refresh_from_db()
    assert acceptance.stale_since is not None and acceptance.state == RiskAcceptance.State.ACTIVE
    assert acceptance.events.filter(action="stale").count() == 1
    scan_now(account)  # still fixed: flagged once
    assert acceptance.events.filter(action="stale").count() == 1
    instance.refresh_from_db()
    assert instance.status == "pass" and instance.acceptance is None
