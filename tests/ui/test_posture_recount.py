"""The first overview after a change reads cached counts: the write queues a recount on commit,
which counts under the new fingerprint before anyone asks. With the broker down the write
stands and the page counts by itself."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from acceptances import services
from acceptances.models import RiskAcceptance

pytestmark = pytest.mark.django_db


def _recounts(client) -> int:
    """How many posture counting queries one overview view runs."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("home")).status_code == 200
    return sum(1 for q in queries.captured_queries if "AS worst" in q["sql"])


def _accept(analyst, catalog, estate) -> RiskAcceptance:
    return services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        zone=estate.prod,
        owner=analyst,
        reason="risk_owned",
        justification="Images are public by design.",
    )


def test_the_first_overview_after_an_acceptance_reads_counts_counted_on_commit(
    login, viewer, analyst, estate, catalog, django_capture_on_commit_callbacks
):
    client = login(viewer)
    assert _recounts(client) > 0  # nothing cached yet: this view counts
    assert _recounts(client) == 0
    # The write commits; its recount runs (in process: tasks run eagerly in tests).
    with django_capture_on_commit_callbacks(execute=True):
        _accept(analyst, catalog, estate)
    assert _recounts(client) == 0
    rows = client.get(reverse("home")).context["all_rows"]
    mfa = next(r for r in rows if r.control.ref == "2.1.2")
    assert (mfa.failing, mfa.accepted) == (1, 2)  # fresh figures, not the old cached ones


@pytest.mark.postgres
@pytest.mark.servers
def test_with_the_broker_down_the_write_stands_and_the_page_counts_by_itself(
    login, viewer, analyst, estate, catalog, broker_down, django_capture_on_commit_callbacks, caplog
):
    client = login(viewer)
    with django_capture_on_commit_callbacks(execute=True):
        acceptance = _accept(analyst, catalog, estate)
    # Queueing the recount failed, was logged, and raised nothing.
    assert "_send_recount" in caplog.text
    assert RiskAcceptance.objects.filter(pk=acceptance.pk).exists()
    assert _recounts(client) > 0


def test_a_transaction_of_many_changes_queues_one_recount(
    analyst, estate, catalog, django_capture_on_commit_callbacks
):
    from findings.services.posture import _send_recount

    with django_capture_on_commit_callbacks() as callbacks:
        _accept(analyst, catalog, estate)
        services.accept_risk(
            actor=analyst,
            control=catalog.controls.get(ref="5.6"),
            zone=estate.prod,
            owner=analyst,
            reason="risk_owned",
            justification="Known.",
            # 5.6 is of high severity: the shipped risk appetite wants an end within 90 days.
            expires_at=timezone.now() + dt.timedelta(days=30),
        )
    assert sum(1 for c in callbacks if c is _send_recount) == 1


def test_the_first_overview_after_a_scan_reads_counts_counted_on_commit(
    story_account, scan_now, viewer, client
):
    scan_now(story_account)
    client.force_login(viewer)
    assert _recounts(client) == 0


def test_a_recount_still_waiting_absorbs_the_next_writes(
    committed_db, login, viewer, analyst, approver, estate, catalog
):
    """A scan's units commit one after another: while a queued recount has not started, later
    writes queue nothing more; the waiting one counts the latest data when it runs. (Committed
    rows: each write's on-commit callbacks run at its own commit, as in production.)"""
    from django.core.cache import cache

    from findings.services.posture import RECOUNT_PENDING_KEY
    from findings.tasks import recount_posture

    client = login(viewer)
    cache.set(RECOUNT_PENDING_KEY, True)  # queued by an earlier write, not started yet
    _accept(analyst, catalog, estate)
    assert cache.get(RECOUNT_PENDING_KEY)  # nothing more queued, nothing counted
    assert _recounts(client) > 0
    cache.clear()
    cache.set(RECOUNT_PENDING_KEY, True)
    services.revoke_acceptance(RiskAcceptance.objects.get(), actor=approver, note="Done.")
    recount_posture()  # the waiting recount runs: it counts the latest data
    assert cache.get(RECOUNT_PENDING_KEY) is None
    assert _recounts(client) == 0
    # A write after it started queues (here: runs at once, tasks are eager) the next one.
    _accept(analyst, catalog, estate)
    assert _recounts(client) == 0
