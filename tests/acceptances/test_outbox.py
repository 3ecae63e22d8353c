"""The outbox: an email decided with a change is kept with it, so a process that stops after the
commit, or a mail server that is down, loses nothing; beat sends what is left, once.

Real parts: committed transactions (PostgreSQL or SQLite) and the SMTP server on loopback.
"""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from django.db import transaction
from django.utils import timezone

from acceptances import outbox, services
from acceptances.models import AppetiteRule, OutboundEmail
from acceptances.services.compensation import check_appetite
from acceptances.tasks import deliver_outbox

pytestmark = pytest.mark.usefixtures("committed_db")


class Stopped(Exception):
    """The process stops here: nothing after it runs."""


@pytest.fixture
def too_long(catalog, make_account, make_finding, analyst):
    """An IMDS acceptance for 60 days, and a rule that now allows 14: flagging it emails."""
    finding = make_finding(
        account=make_account(), control_ref="5.6", resource_type="AWS::EC2::Instance"
    )
    acceptance = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="5.6"),
        resource=finding.resource,
        owner=analyst,
        reason="risk_owned",
        justification="Until the OS upgrade lands.",
        expires_at=timezone.now() + dt.timedelta(days=60),
    )
    AppetiteRule.objects.create(name="High: two weeks", severity="high", max_term_days=14)
    return acceptance


def _review_mails(smtp_server) -> list:
    return [m for m in smtp_server.messages if "re-review" in m.subject]


def test_a_process_stopping_after_the_commit_leaves_the_email_to_beat(too_long, smtp_server):
    smtp_server.messages.clear()
    with pytest.raises(Stopped), transaction.atomic():
        # Registered first, so it runs first after the commit: the process "stops" between
        # the commit of the flag and the send.
        transaction.on_commit(lambda: (_ for _ in ()).throw(Stopped()))
        assert check_appetite() == [too_long.pk]
    too_long.refresh_from_db()
    assert too_long.review_flagged_at is not None  # the change is committed ...
    assert _review_mails(smtp_server) == []  # ... its email not sent, but kept:
    (kept,) = OutboundEmail.objects.filter(sent_at__isnull=True)
    assert kept.template == "acceptance-review" and kept.address == too_long.owner.email
    assert deliver_outbox() == 1  # beat's run
    (mail,) = _review_mails(smtp_server)
    assert mail.rcpt_tos == (too_long.owner.email,) and "High: two weeks" in mail.text
    assert deliver_outbox() == 0  # sent once
    assert len(_review_mails(smtp_server)) == 1


def test_a_mail_server_down_is_retried_until_it_answers(too_long, smtp_server, settings):
    smtp_server.messages.clear()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings.EMAIL_PORT = closed
    with transaction.atomic():
        check_appetite()
    (kept,) = OutboundEmail.objects.all()
    assert kept.sent_at is None and kept.attempts == 1 and kept.last_error
    assert kept.claimed_at is None  # released for the next run
    settings.EMAIL_PORT = smtp_server.port
    assert deliver_outbox() == 1
    kept.refresh_from_db()
    assert kept.sent_at is not None and kept.attempts == 2
    assert len(_review_mails(smtp_server)) == 1


def test_a_rolled_back_change_mails_nobody_and_a_stale_claim_is_taken_over(too_long, smtp_server):
    smtp_server.messages.clear()
    with pytest.raises(Stopped), transaction.atomic():
        check_appetite()
        raise Stopped
    assert not OutboundEmail.objects.exists()
    too_long.refresh_from_db()
    assert too_long.review_flagged_at is None
    # A run that claimed a row and died holds it until the claim times out.
    now = timezone.now()
    OutboundEmail.objects.create(
        template="acceptance-review",
        address="owner@example.com",
        name="Owner",
        context={"summary": "The zone grew."},
        created_at=now,
        claimed_at=now,
    )
    assert outbox.deliver(now=now) == 0
    later = now + dt.timedelta(seconds=outbox.CLAIM_SECONDS + 1)
    assert outbox.deliver(now=later) == 1
    assert [m.rcpt_tos for m in smtp_server.messages] == [("owner@example.com",)]
