"""Expiry reminders: who is reminded, when, once, and by a real SMTP server."""

from __future__ import annotations

import datetime as dt
import re
import threading
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from acceptances import notifications, services, tasks
from acceptances.models import ExpiryReminder, RiskAcceptance, Zone

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
SITE = "https://cspm.example.com"
LINK = re.compile(r"https://cspm\.example\.com/acceptances/(\d+)/")


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE
    settings.CSPM_REMINDER_DAYS = [30, 7, 1]
    settings.CSPM_REQUIRE_APPROVAL = False


@pytest.fixture
def account(make_account):
    return make_account()


@pytest.fixture
def accept(catalog, account, make_finding):
    """Accept control 2.1.2 on a new bucket, expiring ``days`` after NOW."""

    def accept(
        actor, *, days: float, owner=None, name: str | None = None, now: dt.datetime = NOW
    ) -> RiskAcceptance:
        finding = make_finding(account=account, control_ref="2.1.2", name=name, now=now)
        with time_machine.travel(now, tick=False):
            return services.accept_risk(
                actor=actor,
                control=catalog.controls.get(ref="2.1.2"),
                resource=finding.resource,
                owner=owner or actor,
                reason="risk_owned",
                justification="MFA Delete needs the root user; versioning covers mistakes.",
                expires_at=NOW + dt.timedelta(days=days),
            )

    return accept


@pytest.fixture
def remind(django_capture_on_commit_callbacks):
    """Run the reminder service at a frozen moment; the emails go out as the claim commits."""

    def remind(at: dt.datetime = NOW, **kwargs) -> notifications.ReminderReport:
        with (
            time_machine.travel(at, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            report = notifications.send_expiry_reminders(**kwargs)
        return report

    return remind


def _linked_ids(message) -> list[int]:
    """The acceptances a digest links to, in order (one renew link each, in both parts)."""
    text_ids = [int(pk) for pk in LINK.findall(message.text)]
    assert text_ids == [int(pk) for pk in LINK.findall(message.html)]
    return text_ids


# --- Recipients and content -----------------------------------------------------------------


def test_the_owner_and_a_different_creator_each_get_the_reminder_over_smtp(
    smtp_server, remind, accept, analyst, approver
):
    acceptance = accept(analyst, owner=approver, days=7, name="story-images")
    remind()
    assert sorted(m.rcpt_tos for m in smtp_server.messages) == sorted(
        [(approver.email,), (analyst.email,)]
    )
    message = smtp_server.to(approver.email)[0]
    assert message.subject == "[CSPM] Risk acceptance expires in 7 days: 2.1.2 on story-images"
    assert message.message["From"] == "CSPM <cspm@localhost>"
    assert message.message["To"] == approver.email
    link = f"{SITE}/acceptances/{acceptance.pk}/"
    for body in (message.text, message.html):
        assert link in body
        assert "2.1.2" in body and acceptance.control.title in body
        assert "story-images (arn:aws:s3:::story-images)" in body
        assert "Risk owned" in body
        assert "5 December 2026, 09:00 UTC" in body
        assert "in 7 days" in body
    assert f'href="{link}"' in message.html
    reminder = ExpiryReminder.objects.get(acceptance=acceptance)
    assert reminder.threshold_days == 7 and reminder.expires_at == acceptance.expires_at
    assert sorted(reminder.recipients) == sorted([approver.email, analyst.email])


def test_an_owner_who_created_it_gets_a_single_email(smtp_server, remind, accept, analyst):
    accept(analyst, days=7)
    remind()
    assert [m.rcpt_tos for m in smtp_server.messages] == [(analyst.email,)]


def test_people_without_an_email_or_no_longer_active_are_skipped(
    smtp_server, remind, accept, analyst, approver, approver2
):
    approver.email = ""
    approver.save(update_fields=["email"])
    reachable = accept(analyst, owner=approver, days=7)
    nobody = accept(approver2, owner=approver, days=7)
    approver2.is_active = False
    approver2.save(update_fields=["is_active"])

    report = remind()

    assert [m.rcpt_tos for m in smtp_server.messages] == [(analyst.email,)]
    assert _linked_ids(smtp_server.messages[0]) == [reachable.pk]
    assert ExpiryReminder.objects.get(acceptance=reachable).recipients == [analyst.email]
    # Recorded, and reported, so that "nobody could be told" is never silent.
    assert ExpiryReminder.objects.get(acceptance=nobody).recipients == []
    assert report.unreachable == [nobody.pk]


def test_user_supplied_text_is_escaped_in_the_html_part(smtp_server, remind, catalog, analyst):
    acceptance = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        zone=Zone.objects.get(is_builtin=True),
        owner=analyst,
        reason="custom",
        reason_detail="<b>vendor</b> & partner",
        justification="Contract signed.",
        expires_at=NOW + dt.timedelta(days=1),
        now=NOW,
    )
    remind()
    (message,) = smtp_server.to(analyst.email)
    assert "&lt;b&gt;vendor&lt;/b&gt; &amp; partner" in message.html
    assert "<b>vendor</b> & partner" in message.text
    assert message.subject.endswith("2.1.2 on zone Entire infrastructure")
    assert _linked_ids(message) == [acceptance.pk]


# --- Thresholds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "days_left,threshold",
    [(30, 30), (20, 30), (7, 7), (2, 7), (1, 1), (0.25, 1), (30.5, None)],
)
def test_the_smallest_threshold_that_applies_is_the_only_reminder(
    smtp_server, remind, accept, analyst, days_left, threshold
):
    acceptance = accept(analyst, days=days_left)
    remind()
    reminders = list(acceptance.reminders.values_list("threshold_days", flat=True))
    if threshold is None:
        assert reminders == [] and smtp_server.messages == []
    else:
        assert reminders == [threshold]
        assert len(smtp_server.messages) == 1


def test_two_days_before_expiry_it_gets_the_7_day_reminder_once_then_the_1_day_one(
    smtp_server, remind, accept, analyst
):
    acceptance = accept(analyst, days=2)
    for hours in range(0, 24, 6):  # runs during the day after: nothing new
        remind(NOW + dt.timedelta(hours=hours))
    assert [m.subject for m in smtp_server.messages] == [
        "[CSPM] Risk acceptance expires in 2 days: 2.1.2 on " + acceptance.resource.name
    ]
    remind(NOW + dt.timedelta(days=1, hours=1))
    assert len(smtp_server.messages) == 2
    assert "expires in 1 day:" in smtp_server.messages[1].subject
    assert sorted(acceptance.reminders.values_list("threshold_days", flat=True)) == [1, 7]


def test_each_threshold_is_reminded_in_turn(smtp_server, remind, accept, analyst):
    accept(analyst, days=40)
    sent_at = {}
    for day in range(40):
        for hour in (0, 12):
            at = NOW + dt.timedelta(days=day, hours=hour)
            before = len(smtp_server.messages)
            remind(at)
            if len(smtp_server.messages) > before:
                sent_at[day, hour] = smtp_server.messages[-1].subject
    # 30 days left at day 10, 7 at day 33, 1 at day 39; exactly one email each.
    assert sorted(sent_at) == [(10, 0), (33, 0), (39, 0)]
    assert [s.split(":")[0] for s in sent_at.values()] == [
        "[CSPM] Risk acceptance expires in 30 days",
        "[CSPM] Risk acceptance expires in 7 days",
        "[CSPM] Risk acceptance expires in 1 day",
    ]


# --- Digests and idempotency ----------------------------------------------------------------


def test_one_digest_per_person_lists_all_their_acceptances_soonest_first(
    smtp_server, remind, accept, analyst, approver, approver2
):
    later = accept(analyst, owner=approver, days=20)
    soon = accept(analyst, owner=approver, days=2)
    middle = accept(analyst, owner=approver, days=5)
    other = accept(analyst, owner=approver2, days=6)

    report = remind()

    assert len(smtp_server.messages) == 3
    (for_approver,) = smtp_server.to(approver.email)
    assert _linked_ids(for_approver) == [soon.pk, middle.pk, later.pk]
    assert for_approver.subject == "[CSPM] 3 risk acceptances expire soon, the first in 2 days"
    (for_approver2,) = smtp_server.to(approver2.email)
    assert _linked_ids(for_approver2) == [other.pk]
    (for_creator,) = smtp_server.to(analyst.email)
    assert _linked_ids(for_creator) == [soon.pk, middle.pk, other.pk, later.pk]
    assert sorted(report.sent) == sorted([approver.email, approver2.email, analyst.email])
    assert {r.acceptance_id: r.threshold_days for r in report.reminders} == {
        soon.pk: 7,
        middle.pk: 7,
        other.pk: 7,
        later.pk: 30,
    }


def test_a_second_run_sends_nothing(smtp_server, remind, accept, analyst, approver):
    accept(analyst, owner=approver, days=7)
    accept(analyst, owner=approver, days=25)
    remind()
    assert len(smtp_server.messages) == 2
    smtp_server.clear()
    report = remind(NOW + dt.timedelta(minutes=5))
    assert report.reminders == [] and report.sent == []
    assert smtp_server.messages == []
    assert ExpiryReminder.objects.count() == 2


def test_a_dry_run_reports_the_same_but_claims_and_sends_nothing(
    smtp_server, remind, accept, analyst, approver
):
    acceptance = accept(analyst, owner=approver, days=7)
    dry = remind(dry_run=True)
    assert dry.dry_run and dry.digests == {
        approver.email: [acceptance.pk],
        analyst.email: [acceptance.pk],
    }
    assert smtp_server.messages == [] and not ExpiryReminder.objects.exists()
    real = remind()
    assert real.reminders == dry.reminders and real.digests == dry.digests
    assert len(smtp_server.messages) == 2


def test_a_renewal_after_the_7_day_reminder_is_reminded_under_the_new_date_only(
    smtp_server, remind, accept, analyst, approver
):
    acceptance = accept(analyst, days=7)
    remind()
    assert len(smtp_server.messages) == 1
    renewed_to = NOW + dt.timedelta(days=60)
    services.update_acceptance(
        acceptance,
        actor=approver,
        now=NOW + dt.timedelta(days=1),
        expires_at=renewed_to,
        note="Vendor fix slipped to next quarter.",
    )
    # The old date's 1-day threshold passes in silence, as do the weeks before the new date's.
    for day in range(1, 30):
        remind(NOW + dt.timedelta(days=day, hours=23))
    assert len(smtp_server.messages) == 1
    remind(NOW + dt.timedelta(days=30))
    assert len(smtp_server.messages) == 2
    assert smtp_server.messages[1].subject.startswith("[CSPM] Risk acceptance expires in 30 days:")
    assert "27 January 2027, 09:00 UTC" in smtp_server.messages[1].text
    assert sorted(acceptance.reminders.values_list("threshold_days", "expires_at")) == [
        (7, NOW + dt.timedelta(days=7)),
        (30, renewed_to),
    ]


def test_revoked_expired_and_proposed_acceptances_are_never_reminded(
    settings, smtp_server, remind, accept, analyst, approver
):
    revoked = accept(analyst, days=7)
    services.revoke_acceptance(revoked, actor=approver, now=NOW)
    expired = accept(analyst, days=1)
    assert services.expire_due_acceptances(NOW + dt.timedelta(days=1)) == [expired.pk]
    settings.CSPM_REQUIRE_APPROVAL = True
    proposed = accept(analyst, days=7)
    assert proposed.state == "proposed"
    for hours in (0, 12, 24, 36):
        remind(NOW + dt.timedelta(hours=hours))
    assert smtp_server.messages == []
    assert not ExpiryReminder.objects.exists()


# --- Failures --------------------------------------------------------------------------------


def test_a_refused_digest_does_not_stop_the_others_and_is_retried_next_run(
    smtp_server, remind, accept, approver, approver2, caplog
):
    refused = accept(approver, days=7)
    delivered = accept(approver2, days=7)
    smtp_server.reject(approver.email)

    report = remind()

    assert report.failed == [approver.email] and report.sent == [approver2.email]
    assert [m.rcpt_tos for m in smtp_server.messages] == [(approver2.email,)]
    assert "Could not send expiry-reminder email to " + approver.email in caplog.text
    # It reached nobody: the claim is released, so the next run tries again.
    assert not refused.reminders.exists()
    assert delivered.reminders.get().recipients == [approver2.email]

    smtp_server.accept(approver.email)
    report = remind(NOW + dt.timedelta(hours=1))
    assert report.sent == [approver.email]
    assert [m.rcpt_tos for m in smtp_server.messages] == [(approver2.email,), (approver.email,)]
    assert refused.reminders.get().recipients == [approver.email]


def test_a_reminder_that_reached_someone_stays_claimed_with_who_it_reached(
    smtp_server, remind, accept, analyst, approver
):
    acceptance = accept(analyst, owner=approver, days=7)
    smtp_server.reject(approver.email)
    remind()
    smtp_server.accept(approver.email)
    remind(NOW + dt.timedelta(hours=1))
    # The creator was told; retrying would mail them again on every run while the owner's
    # address fails. The owner hears at the next threshold.
    assert [m.rcpt_tos for m in smtp_server.messages] == [(analyst.email,)]
    assert acceptance.reminders.get().recipients == [analyst.email]
    remind(NOW + dt.timedelta(days=6, hours=1))
    assert len(smtp_server.to(approver.email)) == 1


# --- Command and task ------------------------------------------------------------------------


def test_the_command_dry_run_lists_who_would_get_what_and_sends_nothing(
    smtp_server, accept, analyst, approver
):
    acceptance = accept(analyst, owner=approver, days=7, name="story-images")
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("send_expiry_reminders", "--dry-run", stdout=out)
    assert out.getvalue() == (
        "Dry run: would send 2 digest(s) about 1 acceptance(s). Nothing was claimed or sent.\n"
        f"  {approver.email}\n"
        f"    #{acceptance.pk} 2.1.2 on resource story-images: 7-day reminder, "
        "expires 2026-12-05 09:00 UTC\n"
        f"  {analyst.email}\n"
        f"    #{acceptance.pk} 2.1.2 on resource story-images: 7-day reminder, "
        "expires 2026-12-05 09:00 UTC\n"
    )
    assert smtp_server.messages == [] and not ExpiryReminder.objects.exists()


def test_the_command_sends_and_summarises(
    smtp_server, accept, analyst, django_capture_on_commit_callbacks
):
    accept(analyst, days=7)
    accept(analyst, days=1)

    def run() -> str:
        out = StringIO()
        with (
            time_machine.travel(NOW, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            call_command("send_expiry_reminders", stdout=out)
        return out.getvalue()

    first = run()
    assert first.startswith("Sent 1 digest(s) about 2 acceptance(s).\n")
    assert f"  {analyst.email}\n" in first
    assert len(smtp_server.messages) == 1
    assert run() == "No reminders due.\n"
    assert len(smtp_server.messages) == 1


def test_the_command_fails_when_a_digest_could_not_be_sent(
    smtp_server, accept, analyst, django_capture_on_commit_callbacks
):
    accept(analyst, days=7)
    smtp_server.reject(analyst.email)
    out = StringIO()
    with (
        pytest.raises(CommandError, match="Could not send 1 digest"),
        time_machine.travel(NOW, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        call_command("send_expiry_reminders", stdout=out)
    assert f"  {analyst.email} (NOT SENT)" in out.getvalue()


def test_the_hourly_task_sends_the_due_reminders(
    smtp_server, accept, analyst, approver, django_capture_on_commit_callbacks
):
    accept(analyst, owner=approver, days=7)
    with (
        time_machine.travel(NOW, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.send_expiry_reminders.delay()
    assert len(smtp_server.messages) == 2


# --- Concurrency -----------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_at_once_send_each_reminder_once(smtp_server, accept, analyst, approver):
    acceptances = [accept(analyst, owner=approver, days=7) for _ in range(12)]
    expected = sorted(a.pk for a in acceptances)

    for at in (NOW, NOW + dt.timedelta(days=6, hours=1)):  # the 7-day, then the 1-day round
        smtp_server.clear()
        reports = _run_concurrently(at, workers=2)
        claimed = sorted(r.acceptance_id for report in reports for r in report.reminders)
        assert claimed == expected  # each claimed by exactly one worker
        for person in (approver, analyst):
            linked = sorted(pk for m in smtp_server.to(person.email) for pk in _linked_ids(m))
            assert linked == expected  # each reminded once, whichever worker sent it
    assert ExpiryReminder.objects.count() == 2 * len(expected)


def _run_concurrently(at: dt.datetime, workers: int) -> list[notifications.ReminderReport]:
    """Run the reminder service from several threads at once, each on its own connection."""
    start = threading.Barrier(workers)
    reports: list[notifications.ReminderReport] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            reports.append(notifications.send_expiry_reminders(now=at))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(reports) == workers
    return reports
