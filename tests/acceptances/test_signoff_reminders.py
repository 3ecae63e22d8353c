"""Asking and reminding the owner to sign off (issue 14, point 2), over a real SMTP server."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from acceptances import notifications, services, tasks
from acceptances.models import RiskAcceptance

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
SITE = "https://cspm.example.com"
LINK = re.compile(r"https://cspm\.example\.com/acceptances/(\d+)/")


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.SITE_URL = SITE
    settings.CSPM_REQUIRE_APPROVAL = False
    settings.CSPM_SIGNOFF_REMINDER_DAYS = 7


@pytest.fixture
def accept(catalog, make_account, make_finding, django_capture_on_commit_callbacks):
    """Accept 2.1.2 on a new bucket at ``at``; the request email goes out as it commits."""
    account = make_account()

    def accept(actor, owner, *, at: dt.datetime = NOW) -> RiskAcceptance:
        finding = make_finding(account=account, control_ref="2.1.2", now=at)
        with (
            time_machine.travel(at, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            return services.accept_risk(
                actor=actor,
                control=catalog.controls.get(ref="2.1.2"),
                resource=finding.resource,
                owner=owner,
                reason="risk_owned",
                justification="MFA Delete needs the root user; versioning covers mistakes.",
                expires_at=at + dt.timedelta(days=90),
            )

    return accept


@pytest.fixture
def remind(django_capture_on_commit_callbacks):
    def remind(at: dt.datetime) -> list[str]:
        with (
            time_machine.travel(at, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            return notifications.send_signoff_reminders()

    return remind


def _linked(messages) -> list[int]:
    ids = []
    for message in messages:
        text = [int(pk) for pk in LINK.findall(message.text)]
        assert text == [int(pk) for pk in LINK.findall(message.html)]
        ids.extend(text)
    return ids


def test_the_owner_is_asked_by_email_when_it_starts_awaiting_them(
    smtp_server, accept, analyst, approver
):
    acceptance = accept(analyst, approver)
    assert [m.rcpt_tos for m in smtp_server.messages] == [(approver.email,)]
    message = smtp_server.messages[0]
    assert "your sign-off is needed" in message.subject and "2.1.2" in message.subject
    assert "Reminder" not in message.subject
    assert _linked([message]) == [acceptance.pk]
    assert "Until you accept its residual risk, it covers nothing" in message.text
    assert "MFA Delete needs the root user" in message.text
    assert "ann-analyst" in message.text  # who created it


def test_nobody_is_asked_when_the_creator_owns_it(smtp_server, accept, analyst):
    accept(analyst, analyst)
    assert smtp_server.messages == []


def test_with_four_eyes_the_owner_is_asked_once_it_is_approved(
    settings, smtp_server, accept, analyst, approver, approver2, django_capture_on_commit_callbacks
):
    settings.CSPM_REQUIRE_APPROVAL = True
    acceptance = accept(analyst, approver2)
    assert smtp_server.messages == []  # a proposal: the approver decides first
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_acceptance(acceptance, actor=approver)
    assert [m.rcpt_tos for m in smtp_server.messages] == [(approver2.email,)]


def test_a_new_owner_is_asked(
    smtp_server, accept, analyst, approver, approver2, django_capture_on_commit_callbacks
):
    acceptance = accept(analyst, analyst)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_acceptance(acceptance, actor=approver, owner=approver2)
    assert [m.rcpt_tos for m in smtp_server.messages] == [(approver2.email,)]


def test_owners_are_reminded_after_a_day_then_every_n_days_once_each(
    smtp_server, accept, remind, analyst, approver
):
    first = accept(analyst, approver)
    second = accept(analyst, approver, at=NOW + dt.timedelta(hours=2))
    smtp_server.clear()

    assert remind(NOW + dt.timedelta(hours=20)) == []  # not a day yet
    assert remind(NOW + dt.timedelta(hours=25)) == [approver.email]
    [message] = smtp_server.messages
    assert message.subject.startswith("[CSPM] Reminder: your sign-off is needed")
    assert _linked([message]) == [first.pk]
    assert "still awaits your sign-off" in message.text

    smtp_server.clear()
    # The second is due an hour later; the first is not reminded again.
    assert remind(NOW + dt.timedelta(hours=27)) == [approver.email]
    assert _linked(smtp_server.messages) == [second.pk]
    smtp_server.clear()
    assert remind(NOW + dt.timedelta(days=3)) == []
    assert smtp_server.messages == []

    # CSPM_SIGNOFF_REMINDER_DAYS later, one digest lists both.
    assert remind(NOW + dt.timedelta(days=8, hours=4)) == [approver.email]
    [digest] = smtp_server.messages
    assert sorted(_linked([digest])) == sorted([first.pk, second.pk])
    assert "2 risk acceptances" in digest.subject

    # Signed off: never reminded again.
    services.sign_off_acceptance(first, actor=approver)
    services.sign_off_acceptance(second, actor=approver)
    smtp_server.clear()
    assert remind(NOW + dt.timedelta(days=30)) == []
    assert smtp_server.messages == []


def test_a_second_run_at_the_same_moment_claims_and_sends_nothing(
    smtp_server, accept, remind, analyst, approver
):
    accept(analyst, approver)
    smtp_server.clear()
    at = NOW + dt.timedelta(days=2)
    assert remind(at) == [approver.email]
    assert remind(at) == []
    assert len(smtp_server.messages) == 1
    assert services.claim_due_signoff_reminders(at) == []


def test_a_reminder_that_reached_nobody_is_tried_again(
    smtp_server, accept, remind, analyst, approver
):
    acceptance = accept(analyst, approver)
    smtp_server.clear()
    smtp_server.reject(approver.email)
    at = NOW + dt.timedelta(days=2)
    assert remind(at) == []
    acceptance.refresh_from_db()
    assert acceptance.signoff_reminded_at is None  # released
    smtp_server.clear()
    assert remind(at + dt.timedelta(hours=1)) == [approver.email]
    acceptance.refresh_from_db()
    assert acceptance.signoff_reminded_at == at + dt.timedelta(hours=1)


def test_the_task_and_the_command_send_the_due_reminders(
    smtp_server, accept, analyst, approver, capsys, django_capture_on_commit_callbacks
):
    accept(analyst, approver)
    smtp_server.clear()
    with (
        time_machine.travel(NOW + dt.timedelta(days=2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.send_signoff_reminders.delay()
    assert [m.rcpt_tos for m in smtp_server.messages] == [(approver.email,)]
    with (
        time_machine.travel(NOW + dt.timedelta(days=10), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        call_command("send_signoff_reminders")
    assert "Reminded 1 owner(s): arthur-approver@example.com." in capsys.readouterr().out
    assert len(smtp_server.messages) == 2


def test_beat_runs_the_sign_off_reminders_hourly(settings):
    schedule = {e["task"]: e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["acceptances.send_signoff_reminders"] == 3600.0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_at_once_remind_each_owner_once(
    smtp_server, accept, analyst, approver, approver2
):
    owned = [accept(analyst, approver if i % 2 else approver2) for i in range(10)]
    smtp_server.clear()
    at = NOW + dt.timedelta(days=2)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            with time_machine.travel(at, tick=False):
                notifications.send_signoff_reminders(now=at)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    # Each acceptance in exactly one email, whichever worker claimed it.
    assert sorted(_linked(smtp_server.messages)) == sorted(a.pk for a in owned)
    assert RiskAcceptance.objects.filter(signoff_reminded_at=at).count() == 10
