"""The register as of any date, rebuilt from the history written by the real services: terms,
approvals, a pending four-eyes change, coverage counts, revocation and expiry read as they stood
between two steps; its CSV, JSON, PDF (read back with a PDF reader) and bundle; the command."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from acceptances import register_export, services
from acceptances.models import AcceptanceEvent, RiskAcceptance
from acceptances.register import MISSING, export_row, parse_as_of, rebuild, text_row
from findings.models import Finding

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)  # proposals
T1 = T0 + dt.timedelta(days=1)  # approvals
T2 = T0 + dt.timedelta(days=2)  # a third bucket fails in the zone
T3 = T0 + dt.timedelta(days=3)  # a later end is proposed (four-eyes)
T4 = T0 + dt.timedelta(days=4)  # ... and approved
T5 = T0 + dt.timedelta(days=5)  # the zone acceptance is revoked
FIRST_END = dt.datetime(2026, 6, 20, 12, 0, tzinfo=dt.UTC)
LATER_END = dt.datetime(2026, 7, 31, 12, 0, tzinfo=dt.UTC)
SHORT_END = T0 + dt.timedelta(days=6)  # the bucket acceptance runs out ...
JOB_TICK = SHORT_END + dt.timedelta(minutes=3)  # ... and the expiry job records it here
NOW = dt.datetime(2026, 7, 1, 0, 0, tzinfo=dt.UTC)


def _between(a: dt.datetime, b: dt.datetime) -> dt.datetime:
    return a + (b - a) / 2


@pytest.fixture
def history(settings, catalog, make_account, make_finding, approver, approver2):
    """Through the services, with four-eyes on: a zone acceptance (2 findings, then 3) approved,
    extended by an approved change, revoked; a bucket acceptance approved and expired by the
    job a few minutes after its end. Owner == creator (their creation is the sign-off)."""
    settings.CSPM_REQUIRE_APPROVAL = True
    account = make_account()
    tags = {"Environment": "prod"}
    make_finding(account=account, name="prod-a", tags=tags, now=T0)
    make_finding(account=account, name="prod-b", tags=tags, now=T0)
    lone = make_finding(account=account, name="lone-bucket", now=T0)
    zone = services.save_zone(actor=approver, name="prod", rules={"tags": ["Environment=prod"]})
    control = catalog.controls.get(ref="2.1.2")
    zoned = services.accept_risk(
        actor=approver,
        control=control,
        zone=zone,
        owner=approver,
        reason="risk_owned",
        justification="=MFA Delete needs the root user; 安全 reviewed.",
        expires_at=FIRST_END,
        now=T0,
    )
    single = services.accept_risk(
        actor=approver,
        control=control,
        resource=lone.resource,
        owner=approver,
        reason="custom",
        reason_detail="Vendor bucket",
        justification="The vendor manages it.",
        expires_at=SHORT_END,
        now=T0 + dt.timedelta(minutes=5),
    )
    services.approve_acceptance(zoned, actor=approver2, now=T1)
    services.approve_acceptance(single, actor=approver2, now=T1 + dt.timedelta(minutes=5))
    third = make_finding(account=account, name="prod-c", tags=tags, now=T2)
    services.refresh_zone_membership(zone, now=T2)
    services.refresh_coverage(Finding.objects.filter(pk=third.pk), now=T2)
    change = services.update_acceptance(
        zoned, actor=approver, expires_at=LATER_END, now=T3
    ).proposed_change
    assert change is not None
    services.approve_acceptance_change(change, actor=approver2, now=T4)
    services.revoke_acceptance(zoned, actor=approver2, note="Root MFA fixed", now=T5)
    assert services.expire_due_acceptances(now=JOB_TICK) == [single.pk]
    return {"zoned": zoned, "single": single, "zone": zone}


def _entry(register, pk):
    return next(entry for entry in register.entries if entry.pk == pk)


def test_before_anything_was_decided_the_register_is_empty(history):
    assert rebuild(T0 - dt.timedelta(seconds=1), now=NOW).entries == []


def test_between_proposal_and_approval_it_shows_the_proposal_uncovered(history):
    register = rebuild(_between(T0, T1), now=NOW)
    zoned = _entry(register, history["zoned"].pk)
    assert zoned.state == "proposed"
    assert zoned.approved_by == "" and zoned.approved_at is None
    assert zoned.covered == 0
    assert zoned.terms["justification"] == "=MFA Delete needs the root user; 安全 reviewed."
    assert zoned.terms["expires_at"] == FIRST_END
    assert zoned.terms["owner"] == "arthur-approver"
    assert zoned.created_by == "arthur-approver" and zoned.created_at == T0
    assert zoned.scope == "zone prod" and zoned.control_ref == "2.1.2"


def test_between_approval_and_new_failure_it_covers_two_findings(history):
    register = rebuild(_between(T1, T2), now=NOW)
    zoned = _entry(register, history["zoned"].pk)
    assert zoned.state == "active"
    assert (zoned.approved_by, zoned.approved_at) == ("ada-approver", T1)
    assert zoned.covered == 2
    single = _entry(register, history["single"].pk)
    assert (single.state, single.covered) == ("active", 1)
    assert single.terms["reason"] == "custom" and single.terms["reason_detail"] == "Vendor bucket"
    assert register.counts()["state"] == [("active", "Active", 2)]


def test_a_proposed_later_end_is_not_in_force_until_approved(history):
    pending = _entry(rebuild(_between(T3, T4), now=NOW), history["zoned"].pk)
    assert pending.covered == 3
    assert pending.change_pending is True
    assert pending.terms["expires_at"] == FIRST_END
    approved = _entry(rebuild(_between(T4, T5), now=NOW), history["zoned"].pk)
    assert approved.change_pending is False
    assert approved.terms["expires_at"] == LATER_END


def test_after_revocation_it_reads_revoked_and_covers_nothing(history):
    zoned = _entry(rebuild(_between(T5, SHORT_END), now=NOW), history["zoned"].pk)
    assert zoned.state == "revoked"
    assert (zoned.revoked_by, zoned.revoked_at) == ("ada-approver", T5)
    assert zoned.covered == 0
    # Its terms stay as they were when it ended.
    assert zoned.terms["expires_at"] == LATER_END


def test_an_acceptance_reads_expired_from_its_end_before_the_job_records_it(history):
    before_tick = _entry(
        rebuild(SHORT_END + dt.timedelta(minutes=1), now=NOW), history["single"].pk
    )
    assert before_tick.state == "expired" and before_tick.expired_by_term
    assert before_tick.expired_at == SHORT_END and before_tick.covered == 0
    after_tick = _entry(rebuild(JOB_TICK + dt.timedelta(minutes=1), now=NOW), history["single"].pk)
    assert after_tick.state == "expired" and not after_tick.expired_by_term
    assert after_tick.expired_at == JOB_TICK
    just_before = _entry(
        rebuild(SHORT_END - dt.timedelta(minutes=1), now=NOW), history["single"].pk
    )
    assert just_before.state == "active" and just_before.covered == 1


def test_history_written_before_a_field_existed_reads_not_recorded(
    catalog, make_account, make_finding, approver
):
    """An old acceptance: its creation event holds the first terms only, no assessment and no
    coverage count; the register says so instead of guessing from today's row."""
    bucket = make_finding(account=make_account(), name="old-bucket")
    old = RiskAcceptance.objects.create(
        control=catalog.controls.get(ref="2.1.2"),
        resource=bucket.resource,
        reason="risk_owned",
        justification="Old decision",
        owner=approver,
        created_by=approver,
        likelihood=2,
        impact=2,
        residual_rating="low",
    )
    AcceptanceEvent.objects.create(
        acceptance=old,
        action="created",
        actor=approver,
        at=T0,
        changes={"justification": [None, "Old decision"], "reason": [None, "risk_owned"]},
    )
    entry = _entry(rebuild(T1, now=NOW), old.pk)
    assert entry.state == "active"
    assert entry.terms["justification"] == "Old decision"
    assert entry.terms["residual_rating"] is MISSING and entry.covered is MISSING
    row = text_row(entry)
    assert row["residual_rating"] == "not recorded" and row["covered"] == "not recorded"
    assert export_row(entry)["residual_rating"] is None
    assert {"residual_rating", "covered", "owner"} <= set(export_row(entry)["not_recorded"])


def test_the_csv_and_json_hold_the_register_at_that_date(history):
    register = rebuild(_between(T2, T3), now=NOW)
    rows = list(csv.DictReader(io.StringIO(register_export.to_csv(register).decode())))
    zoned = next(row for row in rows if row["acceptance"] == str(history["zoned"].pk))
    # A cell a spreadsheet would run as a formula is neutralised; other characters kept exactly.
    assert zoned["justification"] == "'=MFA Delete needs the root user; 安全 reviewed."
    assert (zoned["state"], zoned["covered"], zoned["approved_by"]) == (
        "Active",
        "3",
        "ada-approver",
    )
    assert zoned["owner"] == "arthur-approver" and zoned["zone"] == "prod"
    document = json.loads(register_export.to_json(register))
    assert document["at"] == register.at.isoformat() and document["count"] == 2
    found = {row["acceptance"]: row for row in document["acceptances"]}
    assert found[history["zoned"].pk]["justification"].startswith("=MFA")
    assert found[history["zoned"].pk]["expires_at"] == FIRST_END.isoformat()
    assert found[history["single"].pk]["covered"] == 1
    assert document["counts"]["zone"] == [
        {"key": str(history["zone"].pk), "label": "prod", "count": 1},
        {"key": "resource", "label": "Single resources", "count": 1},
    ]


def test_the_pdf_opens_in_a_reader_with_its_summary_and_rows(history):
    at = _between(T5, SHORT_END)
    reader = PdfReader(io.BytesIO(register_export.to_pdf(rebuild(at, now=NOW))))
    first = reader.pages[0].extract_text()
    assert "Risk register as of 2026-06-06 21:00 UTC" in first
    assert "By state" in first and "By residual rating" in first and "By zone" in first
    lines = [" ".join(line.split()) for line in first.splitlines()]
    assert "Active 1" in lines and "Revoked 1" in lines
    assert "prod 1" in lines and "Single resources 1" in lines
    assert "2 acceptances." in first
    rest = "\n".join(page.extract_text() for page in reader.pages[1:])
    assert "2.1.2" in rest and "arthur-approver" in rest and "zone prod" in rest
    # Outside the core font's Latin-1: shown as code points, visibly.
    assert "[U+5B89][U+5168]" in rest


def test_the_bundle_manifest_digests_match_its_files(history):
    register = rebuild(_between(T1, T2), now=NOW)
    archive = zipfile.ZipFile(io.BytesIO(register_export.to_bundle(register)))
    assert sorted(archive.namelist()) == [
        "manifest.json",
        "register.csv",
        "register.json",
        "register.pdf",
    ]
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["at"] == register.at.isoformat()
    assert manifest["generated_at"] == NOW.isoformat()
    assert manifest["acceptances"] == 2
    assert manifest["app"]["version"]
    assert [f["name"] for f in manifest["files"]] == [
        "register.csv",
        "register.json",
        "register.pdf",
    ]
    for item in manifest["files"]:
        body = archive.read(item["name"])
        assert item["sha256"] == hashlib.sha256(body).hexdigest()
        assert item["size"] == len(body)
    assert archive.read("register.pdf").startswith(b"%PDF-")


def test_the_date_is_validated_with_what_is_wrong():
    now = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
    assert parse_as_of("", now) == now
    assert parse_as_of("2026-06-30T00:00", now) == dt.datetime(2026, 6, 30, tzinfo=dt.UTC)
    assert parse_as_of("2026-06-30", now) == dt.datetime(2026, 6, 30, 23, 59, 59, tzinfo=dt.UTC)
    assert parse_as_of("2026-06-30T02:00+02:00", now) == dt.datetime(2026, 6, 30, tzinfo=dt.UTC)
    with pytest.raises(Exception, match="not a date and time"):
        parse_as_of("30/06/2026", now)
    with pytest.raises(Exception, match="not a date and time"):
        parse_as_of("2026-02-30T00:00", now)
    with pytest.raises(Exception, match="in the future"):
        parse_as_of("2026-07-02T00:00", now)


def test_the_command_writes_each_format(history, tmp_path):
    out = tmp_path / "register.zip"
    err = StringIO()
    call_command("register", at="2026-06-02T12:00", format="bundle", output=str(out), stderr=err)
    assert "2 acceptances" in err.getvalue()
    manifest = json.loads(zipfile.ZipFile(out).read("manifest.json"))
    assert manifest["at"] == "2026-06-02T12:00:00+00:00"
    pdf = tmp_path / "register.pdf"
    call_command(
        "register", at="2026-06-02T12:00", format="pdf", output=str(pdf), stderr=StringIO()
    )
    assert "Risk register as of 2026-06-02 12:00" in PdfReader(pdf).pages[0].extract_text()
    data = tmp_path / "register.json"
    call_command(
        "register", at="2026-06-02T12:00", format="json", output=str(data), stderr=StringIO()
    )
    assert json.loads(data.read_text())["count"] == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"at": "yesterday", "format": "csv"}, "--at: “yesterday” is not a date and time"),
        ({"at": "2999-01-01T00:00", "format": "csv"}, "--at: 2999-01-01 00:00 is in the future"),
        ({"at": "", "format": "docx"}, "--format: unknown format 'docx'"),
    ],
)
def test_the_command_refuses_bad_input(db, tmp_path, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("register", output=str(tmp_path / "out"), **options)


def test_the_command_refuses_a_missing_directory(db, tmp_path):
    with pytest.raises(CommandError, match="is not a directory"):
        call_command("register", format="csv", output=str(tmp_path / "nowhere" / "out.csv"))
