"""Scans and their drift alert through a real Celery worker process (Redis, PostgreSQL)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from acceptances import services
from acceptances.models import DriftAlert
from findings.models import Scan
from findings.services import register_account, scans
from simulation.account import client, seed_story_stack
from tests.plugins.worker import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.servers]


@pytest.fixture
def worker_mails_to(smtp_server, monkeypatch):
    """The worker is another process: tell it, through its environment, where to send mail.
    (Requested before ``celery_worker``, which copies the environment when it starts.)"""
    monkeypatch.setenv("EMAIL_HOST", smtp_server.host)
    monkeypatch.setenv("EMAIL_PORT", str(smtp_server.port))
    monkeypatch.setenv("EMAIL_USE_TLS", "0")
    monkeypatch.setenv("EMAIL_USE_SSL", "0")
    return smtp_server


def test_the_worker_closes_the_scan_and_sends_the_alert_once(
    worker_mails_to, catalog, aws, celery_worker
):
    # Transactional tests run after others flushed the tables: the role groups and the built-in
    # zone that migrations created are gone, so a superuser watches an all-matching zone.
    watcher = User.objects.create_superuser("wendy", "wendy@example.com", "correct horse")
    everything = services.save_zone(actor=watcher, name="everything", rules={})
    story = seed_story_stack(aws, bucket_name="story-images")
    account, _ = register_account(
        account_id=story.account_id,
        name="story",
        endpoint_url=aws,
        regions=["us-east-1"],
        scan_interval_hours=0,
    )
    services.watch_zone(watcher, everything, actor=watcher)

    def scan() -> Scan:
        started = scans.start_scan(account)  # committed at once: no transaction around tests
        wait_for(lambda: Scan.objects.get(pk=started.pk).is_finished, timeout=240)
        finished = Scan.objects.get(pk=started.pk)
        assert finished.state == Scan.State.SUCCEEDED, finished.error
        return finished

    scan()  # the baseline
    client(aws, "ec2").modify_instance_metadata_options(
        InstanceId=story.instance_id, HttpTokens="required", HttpEndpoint="enabled"
    )
    second = scan()
    assert second.change_counts["fixed"] == 1
    wait_for(lambda: DriftAlert.objects.filter(scan=second, sent_at__isnull=False).exists())
    wait_for(lambda: len(worker_mails_to.messages) == 1, timeout=30)
    [message] = worker_mails_to.messages
    assert message.rcpt_tos == (watcher.email,) and "web-server" in message.text
