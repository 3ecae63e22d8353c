"""The history in plain words (labels, dates as people read them, names) and the audit log of
every decision: filters, paging, CSV and JSON exports; a viewer reads it, an outsider may not."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import time_machine
from django.test import Client

from acceptances import services

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def decided(estate, approver, approver2, analyst):
    """An acceptance created by the approver, then edited by another approver: its reason,
    end and owner changed; its note starts like a formula a spreadsheet would run."""
    approver2.first_name, approver2.last_name = "Ada", "Lovelace"
    approver2.save(update_fields=["first_name", "last_name"])
    finding = estate.findings["images"]
    with time_machine.travel(START, tick=False):
        acceptance = services.accept_risk(
            actor=approver,
            control=finding.control_check.controls.get(),
            resource=finding.resource,
            owner=approver,
            reason="not_relevant",
            justification="Only public images.",
            expires_at=dt.datetime(2027, 2, 28, 23, 59, tzinfo=dt.UTC),
        )
    with time_machine.travel(START + dt.timedelta(days=3), tick=False):
        services.update_acceptance(
            acceptance,
            actor=approver2,
            note="+ Owned by the platform team now.",
            reason="risk_owned",
            owner=approver2,
            expires_at=dt.datetime(2027, 3, 30, 23, 59, tzinfo=dt.UTC),
        )
    return acceptance


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_history_reads_in_plain_words(decided, approver):
    text = _client(approver).get(f"/acceptances/{decided.pk}/").content.decode()
    assert "Reason changed from Not relevant here to Risk owned" in text
    assert "End changed from 28 Feb 2027 to 30 Mar 2027" in text
    assert "Owner changed from arthur-approver to Ada Lovelace (ada-approver)" in text
    # The creation reads from nothing, with the choice's label and the day as people write it.
    assert "Reason changed from — to Not relevant here" in text
    assert "by Ada Lovelace (ada-approver) · " in text
    assert "5 Nov 2026, 09:30 UTC" in text
    # No raw stored values.
    assert "risk_owned" not in text and "2027-03-30T" not in text


def test_the_audit_log_filters_by_person_action_and_days(decided, approver, approver2, viewer):
    client = _client(viewer)  # a viewer reads it
    everything = client.get("/audit/").content.decode()
    assert everything.count("data-event=") == 2
    assert "Reason changed from Not relevant here to Risk owned" in everything

    by_ada = client.get("/audit/", {"person": approver2.pk}).content.decode()
    assert by_ada.count("data-event=") == 1 and "Owned by the platform team now." in by_ada
    created = client.get("/audit/", {"action": "created"}).content.decode()
    assert created.count("data-event=") == 1 and "Owned by the platform team" not in created
    # Days are inclusive at both ends.
    first_day = client.get("/audit/", {"since": "2026-11-02", "until": "2026-11-02"})
    assert first_day.content.decode().count("data-event=") == 1
    later = client.get("/audit/", {"since": "2026-11-03", "until": "2026-11-05"})
    assert "Owned by the platform team now." in later.content.decode()
    assert client.get("/audit/", {"since": "2026-11-06"}).content.decode().count("data-event=") == 0
    # A reversed range is refused beside its field, not silently empty.
    reversed_range = client.get("/audit/", {"since": "2026-11-05", "until": "2026-11-01"})
    assert reversed_range.status_code == 400
    assert "The last day must not be before the first." in reversed_range.content.decode()


def test_the_audit_log_pages(decided, approver, monkeypatch):
    from acceptances import views

    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    client = _client(approver)
    first = client.get("/audit/").content.decode()
    assert "Page 1 of 2" in first and "Owned by the platform team now." in first
    second = client.get("/audit/", {"page": 2}).content.decode()
    assert "Owned by the platform team now." not in second


def test_the_audit_log_exports_csv_neutralised_and_json(decided, approver, approver2, outsider):
    client = _client(approver)
    response = client.get("/audit/", {"export": "csv", "action": "created"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    row = rows[0]
    assert row["by"] == "arthur-approver" and row["action"] == "Created"
    assert row["acceptance"] == str(decided.pk) and row["control"] == "2.1.2"
    assert "Reason changed from — to Not relevant here" in row["changes"]
    response = client.get("/audit/", {"export": "csv", "person": approver2.pk})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    # The note would run as a formula: it gets a leading quote, the rest unchanged.
    assert [r["note"] for r in rows] == ["'+ Owned by the platform team now."]

    response = client.get("/audit/", {"export": "json"})
    events = json.loads(b"".join(response.streaming_content))
    assert len(events) == 2
    assert events[0]["diff"]["reason"] == ["not_relevant", "risk_owned"]
    assert events[0]["note"] == "+ Owned by the platform team now."  # JSON is exact
    assert "Reason changed from Not relevant here to Risk owned" in events[0]["changes"]

    assert _client(outsider).get("/audit/").status_code == 403
    assert Client().get("/audit/").status_code == 302  # to the login page
