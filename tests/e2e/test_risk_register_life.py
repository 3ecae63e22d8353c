"""The whole life of one risk acceptance, through the API and the browser, with real parts.

IMDSv1 (5.6) on the story's web server is accepted while 5.2 (no SSH from 0.0.0.0/0) passes on
its security group: proposed by an analyst (four-eyes on), approved by an approver, signed off
by its owner in Chromium; suspended when port 22 opens to the world and the next scan of the
moto account sees it, resumed when it closes; flagged for re-review when the instance's
metadata options change; ended earlier and expired by the expiry job. Every step's email goes
to a real SMTP server on loopback. Then the register, as of moments between the steps, reads
each earlier state exactly (JSON export, and the PDF read back with a PDF reader).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import time

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader
from rest_framework.test import APIClient

from acceptances import risk, services
from acceptances.models import RiskAcceptance
from cspm import services as token_services
from findings.models import Finding, Resource
from simulation.account import client

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ACCEPTANCES = "/api/v1/acceptances/"
WORLD_SSH = [
    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
]


def api_as(user) -> APIClient:
    """A client sending a fresh API token of ``user``, as a script would."""
    _, raw = token_services.create_api_token(actor=user, user=user, name="life")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def imds(story) -> Finding:
    return Finding.objects.get(
        control_check__check_id="ec2_instance_imdsv2_required",
        resource__arn__endswith=story.instance_id,
    )


def mark() -> dt.datetime:
    """A moment strictly between the step just done and the next one."""
    time.sleep(0.02)
    moment = timezone.now()
    time.sleep(0.02)
    return moment


def subjects(smtp_server, word: str) -> dict[str, str]:
    """Recipient -> subject of the messages whose subject holds ``word``."""
    return {m.rcpt_tos[0]: m.subject for m in smtp_server.messages if word in m.subject}


@pytest.fixture
def stage(story_account, story, scan_now, approver, viewer, settings, live_server):
    """Four-eyes on; the story's account scanned once; the viewer watches the prod zone (which
    holds the web server); emails link to the served app."""
    settings.CSPM_REQUIRE_APPROVAL = True
    settings.SITE_URL = live_server.url
    scan_now(story_account)
    zone = services.save_zone(actor=approver, name="prod", rules={"tags": ["Environment=prod"]})
    services.watch_zone(viewer, zone, actor=viewer)
    return story_account


def test_one_acceptance_from_proposal_to_expiry_and_the_register_at_each_step(
    stage,
    story,
    aws,
    scan_now,
    catalog,
    analyst,
    approver,
    approver2,
    viewer,
    open_page,
    smtp_server,
    live_server,
):
    finding = imds(story)
    group = Resource.objects.get(arn__endswith=story.security_group_id)
    assert finding.status == "fail" and finding.acceptance is None
    smtp_server.clear()
    owner_mail, watcher_mail = approver.email, viewer.email

    def acceptance_now() -> dict:
        response = api_as(viewer).get(f"{ACCEPTANCES}{pk}/")
        assert response.status_code == 200, response.content
        return response.json()

    def finding_now() -> dict:
        response = api_as(viewer).get(f"/api/v1/findings/{finding.pk}/")
        assert response.status_code == 200, response.content
        return response.json()

    # --- 1. Proposed by the analyst, approved by another approver, signed off by the owner. ---
    response = api_as(analyst).post(
        ACCEPTANCES,
        {
            "control": catalog.controls.get(ref="5.6").pk,
            "resource": finding.resource_id,
            "reason": "mitigated",
            "justification": "The OS image needs IMDSv1 until its upgrade; SSH stays closed.",
            "owner": approver.username,
            "likelihood": 2,
            "impact": 4,
            "expiry": "30",
            "compensating_controls": [
                {"control": catalog.controls.get(ref="5.2").pk, "resource": group.pk}
            ],
            "compensating_measures": "Only the bastion reaches the instance.",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    pk = body["id"]
    rating = risk.rating(2, 4)
    assert body["state"] == "proposed" and body["covered_count"] == 0
    assert (body["likelihood"], body["impact"], body["residual_rating"]) == (2, 4, rating)
    assert body["owner"] == approver.username and body["owner_signed_off_at"] is None
    assert body["compensating_controls"][0]["control_ref"] == "5.2"
    assert finding_now()["display_status"] == "fail"
    proposed_at = mark()

    # Approving is an approver's, never the creator's (the analyst may not approve at all).
    assert api_as(analyst).post(f"{ACCEPTANCES}{pk}/approve/").status_code == 403
    response = api_as(approver2).post(f"{ACCEPTANCES}{pk}/approve/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "awaiting_owner" and body["approved_by"] == approver2.username
    assert body["covered_count"] == 0
    assert finding_now()["display_status"] == "fail"
    # The owner is asked to sign off, with a link to the acceptance's page.
    [request] = smtp_server.to(owner_mail)
    assert "your sign-off is needed" in request.subject and "5.6" in request.subject
    link = re.search(rf"{re.escape(live_server.url)}/acceptances/{pk}/", request.text).group(0)
    approved_at = mark()

    page = open_page(approver)
    page.goto(link)
    expect(page.get_by_test_id("acceptance-state")).to_contain_text("Awaiting the owner's sign-off")
    expect(page.get_by_test_id("signoff-statement")).to_contain_text(
        "I accept the residual risk of control 5.6"
    )
    page.get_by_role("button", name="Accept the residual risk").click()
    expect(page.get_by_test_id("acceptance-state")).to_contain_text("Active")
    expect(page.get_by_test_id("signoff-fact")).to_contain_text("residual risk accepted")
    body = acceptance_now()
    assert body["state"] == "active" and body["covered_count"] == 1
    assert body["owner_signed_off_at"] is not None
    assert finding_now()["display_status"] == "accepted"
    assert finding_now()["acceptance"] == pk
    signed_at = mark()

    # --- 2. Port 22 opens to the world: the next scan suspends it. ---
    smtp_server.clear()
    ec2 = client(aws, "ec2")
    ec2.authorize_security_group_ingress(GroupId=story.security_group_id, IpPermissions=WORLD_SSH)
    scan_now(stage)
    body = acceptance_now()
    assert body["state"] == "suspended" and body["covered_count"] == 0
    assert body["suspended_at"] is not None
    assert body["compensating_controls"][0]["verdict"] == "failing"
    assert finding_now()["display_status"] == "fail"
    suspended = subjects(smtp_server, "suspended")
    assert {owner_mail, watcher_mail} <= set(suspended)
    assert "5.6" in suspended[owner_mail]
    suspended_at = mark()

    # --- 3. Port 22 closes again: the next scan resumes it. ---
    smtp_server.clear()
    ec2.revoke_security_group_ingress(GroupId=story.security_group_id, IpPermissions=WORLD_SSH)
    scan_now(stage)
    body = acceptance_now()
    assert body["state"] == "active" and body["covered_count"] == 1
    assert body["suspended_at"] is None
    assert body["compensating_controls"][0]["verdict"] == "passing"
    assert finding_now()["display_status"] == "accepted"
    assert {owner_mail, watcher_mail} <= set(subjects(smtp_server, "resumed"))
    resumed_at = mark()

    # --- 4. The accepted configuration changes (still IMDSv1): flagged for re-review. ---
    smtp_server.clear()
    before = imds(story).evidence
    ec2.modify_instance_metadata_options(
        InstanceId=story.instance_id, HttpPutResponseHopLimit=3, HttpTokens="optional"
    )
    scan_now(stage)
    body = acceptance_now()
    assert body["needs_review"] is True
    assert body["state"] == "active" and body["covered_count"] == 1  # nothing else changes
    [review] = body["review_reason"]["findings"]
    assert review["before"] == before and review["after"] == imds(story).evidence != before
    assert list(subjects(smtp_server, "re-review")) == [owner_mail]
    page.reload()
    flag = page.get_by_test_id("review-flag")
    expect(flag).to_contain_text("needs re-review")
    diff = flag.get_by_test_id("evidence-diff")
    expect(diff).to_contain_text("web-server")
    row = diff.locator("tr", has_text="HttpPutResponseHopLimit")
    expect(row.locator("del")).to_have_text("1")
    expect(row.locator("ins")).to_have_text("3")
    flagged_at = mark()

    # --- 5. Ended earlier (an approver, through the service: the API only extends), then
    # the expiry job expires it once its end has passed. ---
    smtp_server.clear()
    end = timezone.now() + dt.timedelta(seconds=2)
    services.update_acceptance(
        RiskAcceptance.objects.get(pk=pk), actor=approver2, expires_at=end, note="Upgraded."
    )
    time.sleep(max(0.0, (end - timezone.now()).total_seconds()) + 0.1)
    call_command("expire_acceptances", stdout=io.StringIO())
    body = acceptance_now()
    assert body["state"] == "expired" and body["covered_count"] == 0
    assert finding_now()["display_status"] == "fail"
    expired = subjects(smtp_server, "expired")
    assert set(expired) == {owner_mail, analyst.email}  # the owner and the creator
    assert "5.6" in expired[owner_mail]
    page.reload()
    expect(page.get_by_test_id("acceptance-state")).to_contain_text("Expired")

    # --- 6. The register as of moments between the steps, from the history alone. ---
    reader = Client()
    reader.force_login(viewer)

    def register_at(at: dt.datetime | None) -> dict:
        query = {"format": "json"} | ({"at": at.isoformat()} if at else {})
        response = reader.get("/register/export/", query)
        assert response.status_code == 200, response.content
        rows = [r for r in response.json()["acceptances"] if r["acceptance"] == pk]
        return rows[0] if rows else {}

    assert register_at(proposed_at - dt.timedelta(seconds=30)) == {}  # not made yet

    row = register_at(proposed_at)
    assert (row["state"], row["covered"], row["approved_by"]) == ("proposed", 0, None)
    assert row["owner"] == approver.username and row["owner_signed_off_at"] is None
    assert (row["likelihood"], row["impact"], row["residual_rating"]) == (2, 4, rating)

    row = register_at(approved_at)
    assert (row["state"], row["covered"], row["approved_by"]) == (
        "awaiting_owner",
        0,
        approver2.username,
    )
    assert row["owner_signed_off_at"] is None

    active = register_at(signed_at)
    assert active["state"] == "active" and active["covered"] == 1
    assert active["approved_by"] == approver2.username
    assert active["signed_off_by"] == approver.username
    assert approved_at < dt.datetime.fromisoformat(active["owner_signed_off_at"]) < signed_at
    assert approved_at > dt.datetime.fromisoformat(active["approved_at"]) > proposed_at
    assert (active["likelihood"], active["impact"], active["residual_rating"]) == (2, 4, rating)
    assert active["compensating_measures"] == "Only the bastion reaches the instance."
    assert active["created_by"] == analyst.username
    assert active["scope"] == "resource web-server" and active["control"] == "5.6"
    assert active["expired_at"] is None and active["revoked_at"] is None

    assert register_at(suspended_at)["state"] == "suspended"
    assert register_at(suspended_at)["covered"] == 0
    assert (register_at(resumed_at)["state"], register_at(resumed_at)["covered"]) == ("active", 1)
    assert register_at(flagged_at)["state"] == "active"

    now = register_at(None)
    assert now["state"] == "expired" and now["covered"] == 0
    assert now["expired_by_term"] is False and now["expired_at"] is not None
    assert now["signed_off_by"] == approver.username  # what was signed off stays recorded

    # The PDF of the register as of the active moment, opened with a PDF reader.
    response = reader.get("/register/export/", {"format": "pdf", "at": signed_at.isoformat()})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(response.content))
    summary = pdf.pages[0].extract_text()
    assert f"Risk register as of {timezone.localtime(signed_at):%Y-%m-%d %H:%M}" in summary
    assert "1 acceptances." in summary
    lines = [" ".join(line.split()) for line in summary.splitlines()]
    assert "Active 1" in lines
    listing = "\n".join(p.extract_text() for p in pdf.pages[1:])
    [line] = [" ".join(x.split()) for x in listing.splitlines() if "resource web-server" in x]
    assert line.startswith("5.6 resource web-server Active")
    assert approver.username in line and approver2.username in line
    assert line.endswith(" 1")  # covered
    assert f"#{pk} " in listing and "The OS image needs IMDSv1" in listing

    # And the register page, as of now, in the browser.
    page = open_page(viewer)
    page.goto(f"{live_server.url}/register/")
    row = page.locator(f"tr[data-acceptance='{pk}']")
    expect(row.locator("td").nth(3)).to_have_text("Expired")
    expect(row.locator("td").nth(9)).to_have_text("0")
