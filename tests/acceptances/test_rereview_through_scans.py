"""Re-review on material change, through real scans of the story's account (moto server): the
web server's metadata options change (other evidence, still failing), or the accepted zone
grows; the acceptance is flagged once, its owner told once over SMTP, coverage unchanged until
a person marks it reviewed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from acceptances import services
from acceptances.models import AcceptanceEvent, ReviewBaseline, RiskAcceptance
from acceptances.services import compensation
from findings.models import Finding
from simulation.account import STORY_TAGS, client

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(story_account):
    return story_account


def imds(story) -> Finding:
    return Finding.objects.get(
        control_check__check_id="ec2_instance_imdsv2_required",
        resource__arn__endswith=story.instance_id,
    )


@pytest.fixture
def accepted(account, story, scan_now, analyst, catalog):
    scan_now(account)
    return services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="5.6"),
        # The shipped risk appetite: a high-severity control for 90 days at most.
        expires_at=timezone.now() + dt.timedelta(days=30),
        resource=imds(story).resource,
        owner=analyst,
        reason="risk_owned",
        justification="Until the OS upgrade lands.",
    )


def test_activation_keeps_the_evidence_of_each_covered_finding(accepted, story):
    baseline = ReviewBaseline.objects.get(acceptance=accepted)
    finding = imds(story)
    assert baseline.finding == finding
    assert baseline.evidence_digest == finding.evidence_digest
    assert baseline.evidence == finding.evidence


def test_changed_evidence_flags_the_acceptance_once_and_tells_the_owner(
    account, story, aws, scan_now, accepted, analyst, approver, smtp_server
):
    before = imds(story).evidence
    # Still IMDSv1 (failing), but configured differently: a material change to re-review.
    client(aws, "ec2").modify_instance_metadata_options(
        InstanceId=story.instance_id, HttpPutResponseHopLimit=3, HttpTokens="optional"
    )
    scan_now(account)
    accepted.refresh_from_db()
    finding = imds(story)
    assert finding.evidence != before and finding.status == "fail"
    assert accepted.review_flagged_at is not None
    assert accepted.review_reason == {
        "findings": [
            {
                "finding": finding.pk,
                "resource": "web-server",
                "before": before,
                "after": finding.evidence,
            }
        ]
    }
    # Nothing else changes: still active, still covering.
    assert accepted.state == RiskAcceptance.State.ACTIVE
    assert finding.acceptance == accepted
    assert accepted.events.filter(action=AcceptanceEvent.Action.REVIEW_FLAGGED).count() == 1
    mails = [m for m in smtp_server.messages if "re-review" in m.subject]
    assert [m.rcpt_tos for m in mails] == [("ann-analyst@example.com",)]
    assert "web-server" in mails[0].text

    scan_now(account)  # the same change again: no second flag, no second email
    assert accepted.events.filter(action=AcceptanceEvent.Action.REVIEW_FLAGGED).count() == 1
    assert len([m for m in smtp_server.messages if "re-review" in m.subject]) == 1

    with pytest.raises(ValidationError) as refused:
        compensation.mark_reviewed(accepted, actor=analyst, note="  ")
    assert "note" in refused.value.message_dict
    compensation.mark_reviewed(accepted, actor=analyst, note="Hop limit 3 is fine.")
    accepted.refresh_from_db()
    assert accepted.review_flagged_at is None and accepted.review_reason == {}
    event = accepted.events.get(action=AcceptanceEvent.Action.REVIEWED)
    assert event.actor == analyst and event.note == "Hop limit 3 is fine."
    assert ReviewBaseline.objects.get(acceptance=accepted).evidence == finding.evidence

    scan_now(account)  # the new baseline holds: no flag
    accepted.refresh_from_db()
    assert accepted.review_flagged_at is None


def test_only_the_owner_or_an_approver_marks_it_reviewed(accepted, viewer, approver):
    RiskAcceptance.objects.filter(pk=accepted.pk).update(
        review_flagged_at="2026-01-01T00:00:00Z", review_reason={"zone_size": [1, 9]}
    )
    with pytest.raises(PermissionDenied):
        compensation.mark_reviewed(accepted, actor=viewer, note="Looks fine.")
    compensation.mark_reviewed(accepted, actor=approver, note="Looks fine.")
    accepted.refresh_from_db()
    assert accepted.review_flagged_at is None
    with pytest.raises(ValidationError):  # nothing to review any more
        compensation.mark_reviewed(accepted, actor=approver, note="Again.")


def test_a_zone_grown_past_the_threshold_flags_its_acceptance(
    account, aws, scan_now, analyst, approver, catalog, smtp_server, settings
):
    settings.CSPM_REVIEW_ZONE_GROWTH = (10, 3)
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
    size = acceptance.baseline_zone_size
    assert size == zone.memberships.count() and 0 < size < 30
    s3 = client(aws, "s3")
    tags = {"TagSet": [{"Key": k, "Value": v} for k, v in STORY_TAGS.items()]}

    s3.create_bucket(Bucket="story-extra-1")
    s3.put_bucket_tagging(Bucket="story-extra-1", Tagging=tags)
    scan_now(account)  # one more: below the threshold's resource count
    acceptance.refresh_from_db()
    assert acceptance.review_flagged_at is None

    for name in ("story-extra-2", "story-extra-3"):
        s3.create_bucket(Bucket=name)
        s3.put_bucket_tagging(Bucket=name, Tagging=tags)
    scan_now(account)
    acceptance.refresh_from_db()
    assert acceptance.review_reason == {"zone_size": [size, size + 3]}
    assert acceptance.review_flagged_at is not None
    assert [m.rcpt_tos for m in smtp_server.messages if "re-review" in m.subject] == [
        ("ann-analyst@example.com",)
    ]


@pytest.mark.parametrize(
    ("before", "after", "grew"),
    [(10, 13, True), (10, 12, False), (100, 115, False), (100, 121, True), (0, 5, True)],
)
def test_zone_growth_needs_both_the_percentage_and_the_count(before, after, grew, settings):
    settings.CSPM_REVIEW_ZONE_GROWTH = (20, 3)
    assert compensation.zone_grew(before, after) is grew


def test_the_evidence_diff_names_each_changed_key():
    before = {"MetadataOptions": {"HttpTokens": "optional", "HttpPutResponseHopLimit": 1}}
    after = {"MetadataOptions": {"HttpTokens": "optional", "HttpPutResponseHopLimit": 3, "X": 1}}
    assert compensation.evidence_diff(before, after) == [
        {"path": "MetadataOptions.HttpPutResponseHopLimit", "before": 1, "after": 3},
        {"path": "MetadataOptions.X", "before": None, "after": 1},
    ]
