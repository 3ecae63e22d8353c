"""The scan and export_findings commands."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from findings.models import CloudAccount, Finding, Scan

pytestmark = pytest.mark.django_db


def _scan(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("scan", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = int(exc.code)
    return code, out.getvalue(), err.getvalue()


def test_it_registers_an_account_from_arguments_and_scans_it(catalog, story, aws):
    code, out, _ = _scan(
        "--account-id",
        story.account_id,
        "--name",
        "story",
        "--endpoint-url",
        aws,
        "--regions",
        "us-east-1,eu-west-1",
    )
    assert code == 0, out
    account = CloudAccount.objects.get(account_id=story.account_id)
    assert account.regions == ["eu-west-1", "us-east-1"] and account.endpoint_url == aws
    assert "[3/3]" in out and "Succeeded: 3/3 units" in out
    scan = Scan.objects.get()
    assert scan.trigger == Scan.Trigger.COMMAND and scan.state == Scan.State.SUCCEEDED
    assert f"{scan.findings_failed} failing of {scan.findings_total} findings" in out


def test_a_partial_scan_exits_non_zero_and_names_the_failed_region(catalog, story, aws_front):
    aws_front.denied.add("eu-west-1")
    code, out, err = _scan(
        "--account-id",
        story.account_id,
        "--name",
        "story",
        "--endpoint-url",
        aws_front.endpoint_url,
        "--regions",
        "us-east-1,eu-west-1",
    )
    assert code == 2
    assert "Partial" in out
    assert "eu-west-1:" in err


def test_an_account_that_cannot_be_reached_fails_the_scan(catalog):
    code, _, err = _scan(
        "--account-id",
        "123456789012",
        "--name",
        "nowhere",
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--regions",
        "us-east-1",
    )
    assert code == 1
    assert "Scan failed" in err


@pytest.mark.parametrize(
    "args,message",
    [
        (["--account-id", "12345", "--name", "bad"], "account_id: An AWS account id is exactly"),
        (["--account-id", "123456789012", "--name", "x", "--regions", "mars-1"], "mars-1"),
        (["--account-id", "123456789012"], "No account 123456789012; add --name"),
        (["--name", "x"], "--account-id is required"),
        ([], "No enabled account"),
    ],
)
def test_bad_arguments_get_a_clear_error(db, catalog, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("scan", *args, stdout=io.StringIO())


def test_export_writes_every_finding_as_json_and_csv(catalog, story, aws, tmp_path):
    _scan(
        "--account-id",
        story.account_id,
        "--name",
        "story",
        "--endpoint-url",
        aws,
        "--regions",
        "us-east-1",
    )
    total = Finding.objects.count()
    target = tmp_path / "findings.json"
    call_command(
        "export_findings", "--format", "json", "--output", str(target), stderr=io.StringIO()
    )
    rows = json.loads(target.read_text())
    assert len(rows) == total
    imds = next(
        r
        for r in rows
        if r["resource_arn"].endswith(f"instance/{story.instance_id}")
        and r["check_id"] == "ec2_instance_imdsv2_required"
    )
    assert imds["status"] == "fail" and imds["accepted"] is False
    # The same check decides the IMDSv2 control of every shipped CIS version, and FSBP's EC2.8.
    assert imds["controls"] == [
        "AWS FSBP 1.0.0 EC2.8",
        "CIS 2.0.0 5.6",
        "CIS 3.0.0 5.6",
        "CIS 4.0.1 5.7",
        "CIS 5.0.0 5.7",
        "CIS 6.0.0 6.7",
        "CIS 7.0.0 6.7",
    ]
    assert imds["account_id"] == story.account_id and imds["region"] == "us-east-1"
    assert imds["resource_type"] == "AWS::EC2::Instance"
    assert imds["first_seen"] and imds["last_seen"]

    out = io.StringIO()
    call_command("export_findings", "--format", "csv", stdout=out)
    records = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(records) == total
    assert {"check_id", "controls", "resource_arn", "status", "accepted", "last_seen"} <= set(
        records[0]
    )


def test_export_neutralises_spreadsheet_formulas_in_csv_only(db, make_account, make_finding):
    """A resource named like a formula is quoted in the CSV file, exact in the JSON file."""
    make_finding(account=make_account(), name="=cmd|' /C calc'!A0")
    out = io.StringIO()
    call_command("export_findings", "--format", "csv", stdout=out)
    (record,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert record["resource_name"] == "'=cmd|' /C calc'!A0"
    out = io.StringIO()
    call_command("export_findings", "--format", "json", stdout=out)
    assert json.loads(out.getvalue())[0]["resource_name"] == "=cmd|' /C calc'!A0"
