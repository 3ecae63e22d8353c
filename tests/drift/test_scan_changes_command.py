"""``manage.py scan_changes SCAN_ID``: a scan's changes as text or JSON."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def scan(closed_scan, make_finding, add_change):
    scan = closed_scan()
    new = make_finding(account=scan.account, control_ref="2.1.1", name="uploads")
    add_change(scan, new)
    fixed = make_finding(
        account=scan.account,
        control_ref="5.6",
        name="web",
        status="pass",
        resource_type="AWS::EC2::Instance",
    )
    add_change(scan, fixed, kind="fixed")
    return scan


def run(*args: str) -> str:
    out = StringIO()
    call_command("scan_changes", *args, stdout=out)
    return out.getvalue()


def test_it_prints_a_scans_changes_as_text(scan):
    text = run(str(scan.pk))
    assert f"Scan #{scan.pk}" in text
    assert "1 newly failing (0 of them accepted), 1 fixed, 0 gone" in text
    newly, fixed = text.split("Fixed:")
    assert "2.1.1 uploads (AWS::S3::Bucket, us-east-1)" in newly and "[medium]" in newly
    assert "5.6 web" in fixed


def test_it_prints_json_and_filters_by_kind(scan):
    document = json.loads(run(str(scan.pk), "--format", "json", "--kind", "fixed"))
    assert document["scan"]["id"] == scan.pk
    assert document["counts"]["new_failure"] == 1  # the counts are the whole scan's
    [change] = document["changes"]
    assert change["kind"] == "fixed" and change["controls"] == ["5.6"]
    assert change["resource_name"] == "web" and change["region"] == "us-east-1"


def test_an_unknown_scan_is_a_clear_error(db):
    with pytest.raises(CommandError, match="There is no scan #424242"):
        run("424242")
    with pytest.raises(CommandError):
        run("not-a-number")
