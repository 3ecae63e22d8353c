"""The expiry job: due acceptances expire, their findings fail again, and people are told once."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command

from acceptances import notifications, services, tasks
from acceptances.models import RiskAcceptance

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
EXPIRY = NOW + dt.timedelta(days=7)
AFTER = EXPIRY + dt.timedelta(minutes=3)
SITE = "https://cspm.example.com"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE
    settings.CSPM_REQUIRE_APPROVAL = False


@pytest.fixture
def account(make_account):
    return make_account()


@pytest.fixture
def accept(catalog, account, make_finding):
    """Accept control 2.1.2 on a new failing bucket until EXPIRY; return (acceptance, finding)."""

    def accept(actor, *, owner=None, name: str | None = None):
        finding = make_finding(account=account, control_ref="2.1.2", name=name, now=NOW)
        with time_machine.travel(NOW, tick=False):
            acceptance = services.accept_risk(
                actor=actor,
                control=catalog.controls.get(ref="2.1.2"),
                resource=finding.resource,
                owner=owner or actor,
                reason="risk_owned",
                justification="MFA Delete needs the root user; versioning covers mistakes.",
                expires_at=EXPIRY,
            )
            if owner is not None and owner != actor:
                # Named by someone else, the owner accepts the residual risk: it covers.
                services.sign_off_acceptance(acceptance, actor=owner)
        return acceptance, finding

    return accept


@pytest.fixture
def expire(django_capture_on_commit_callbacks):
    """Run the expiry job at a frozen moment; notices go out as its work commits."""

    def expire(at: dt.datetime = AFTER) -> list[int]:
        with (
            time_machine.travel(at, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            return notifications.expire_and_notify()

    return expire


def test_it_reopens_the_findings_at_once_and_emails_owner_and_creator_once(
    smtp_server, expire, accept, analyst, approver
):
    acceptance, finding = accept(analyst, owner=approver, name="story-images")
    finding.refresh_from_db()
    assert finding.display_status == "accepted"

    assert expire() == [acceptance.pk]

    acceptance.refresh_from_db()
    finding.refresh_from_db()
    assert acceptance.state == "expired"
    assert finding.display_status == "fail"
    assert sorted(m.rcpt_tos for m in smtp_server.messages) == sorted(
        [(approver.email,), (analyst.email,)]
    )
    message = smtp_server.to(approver.email)[0]
    assert message.subject == ("[CSPM] Risk acceptance expired: 2.1.2 on story-images fails again")
    link = f"{SITE}/acceptances/{acceptance.pk}/"
    for body in (message.text, message.html):
        assert link in body
        assert acceptance.control.title in body
        assert "story-images (arn:aws:s3:::story-images)" in body
        assert "5 December 2026, 09:00 UTC" in body
        assert "1 open failing finding in its scope" in body
    assert "count as failing again" in message.text

    # The next tick expires nothing and tells nobody anything.
    assert expire(AFTER + dt.timedelta(minutes=5)) == []
    assert len(smtp_server.messages) == 2


def test_nothing_is_expired_or_sent_before_the_expiry(smtp_server, expire, accept, analyst):
    acceptance, _ = accept(analyst)
    assert expire(EXPIRY - dt.timedelta(seconds=1)) == []
    assert smtp_server.messages == []
    acceptance.refresh_from_db()
    assert acceptance.state == "active"


def test_one_email_per_person_lists_everything_that_expired(
    smtp_server, expire, accept, analyst, approver
):
    first, _ = accept(approver)
    second, _ = accept(approver)
    assert sorted(expire()) == sorted([first.pk, second.pk])
    (message,) = smtp_server.messages
    assert message.rcpt_tos == (approver.email,)
    assert message.subject == "[CSPM] 2 risk acceptances expired: their findings fail again"
    for acceptance in (first, second):
        assert f"/acceptances/{acceptance.pk}/" in message.text


def test_a_refused_notice_is_logged_and_the_others_still_go_out(
    smtp_server, expire, accept, approver, approver2, caplog
):
    accept(approver)
    accept(approver2)
    smtp_server.reject(approver.email)
    assert len(expire()) == 2
    assert [m.rcpt_tos for m in smtp_server.messages] == [(approver2.email,)]
    assert f"Could not send acceptance-expired email to {approver.email}" in caplog.text


def test_the_command_expires_notifies_and_summarises(
    smtp_server, accept, analyst, django_capture_on_commit_callbacks
):
    acceptance, finding = accept(analyst, name="story-images")

    def run() -> str:
        out = StringIO()
        with (
            time_machine.travel(AFTER, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            call_command("expire_acceptances", stdout=out)
        return out.getvalue()

    assert run() == (
        "Expired 1 acceptance(s); their findings fail again and their owners are notified:\n"
        f"  #{acceptance.pk} 2.1.2 on resource story-images, expired 2026-12-05 09:00 UTC, "
        f"owner {analyst.username}\n"
    )
    finding.refresh_from_db()
    assert finding.display_status == "fail"
    assert len(smtp_server.messages) == 1
    assert run() == "Nothing to expire.\n"
    assert len(smtp_server.messages) == 1


def test_the_task_expires_and_notifies(
    smtp_server, accept, analyst, django_capture_on_commit_callbacks
):
    acceptance, _ = accept(analyst)
    with (
        time_machine.travel(AFTER, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.expire_acceptances.delay()
    acceptance.refresh_from_db()
    assert acceptance.state == RiskAcceptance.State.EXPIRED
    assert len(smtp_server.messages) == 1


def test_beat_runs_expiry_every_5_minutes_and_reminders_hourly():
    schedule = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert schedule["acceptances.expire_acceptances"] == 300.0
    assert schedule["acceptances.send_expiry_reminders"] == 3600.0
