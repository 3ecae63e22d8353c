"""A scan ends whatever goes wrong: odd bytes from the cloud land, a write error fails only
its unit, and a planning error of any kind fails the scan instead of leaving it queued."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import orjson
import pytest
from django.core.management import call_command
from django.db import connection

from findings.models import Resource, Scan, ScanRegion
from findings.services import register_account, scans
from findings.services.ingest import db_text, to_json

pytestmark = pytest.mark.django_db


@pytest.mark.postgres
def test_a_nul_in_a_description_lands_and_a_write_error_fails_only_its_unit(catalog, aws):
    account, _ = register_account(
        account_id="123456789012",
        name="odd bytes",
        endpoint_url=aws,
        regions=["eu-west-1", "us-east-1"],
        scan_interval_hours=0,
    )
    kms = boto3.client(
        "kms",
        region_name="us-east-1",
        endpoint_url=aws,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    key_id = kms.create_key(Description="payments\x00 key")["KeyMetadata"]["KeyId"]
    # A real write error, raised by the database itself, for eu-west-1's resources only.
    table = Resource._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_eu_west_1() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'disk quota exceeded on tablespace scans'; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER refuse_eu_west_1 BEFORE INSERT ON {table} FOR EACH ROW "
            "WHEN (NEW.region = 'eu-west-1') EXECUTE FUNCTION refuse_eu_west_1()"
        )

    scan = scans.start_scan(account, dispatch=False)
    scan = scans.run_scan_inline(scan.pk)

    assert scan.state == Scan.State.PARTIAL, scan.error
    units = {row.region: row for row in scan.regions.all()}
    assert units["us-east-1"].state == units["global"].state == ScanRegion.State.SUCCEEDED
    key = Resource.objects.get(resource_type="AWS::KMS::Key", arn__endswith=key_id)
    assert key.configuration["Description"] == "payments key"  # the NUL left out, the rest kept
    failed = units["eu-west-1"]
    assert failed.state == ScanRegion.State.FAILED
    assert "disk quota exceeded on tablespace scans" in failed.error
    assert "eu-west-1" in scan.error
    assert not Resource.objects.filter(region="eu-west-1").exists()  # nothing half written


HTML = (
    b"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>Sign in</title></head>"
    b"<body><p>Please sign in to continue<br></body></html>"
)


@pytest.fixture
def html_endpoint() -> Iterator[str]:
    """A loopback HTTP server answering every request with a sign-in page, as a proxy or a
    captive portal in front of the real endpoint would."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(HTML)))
            self.end_headers()
            self.wfile.write(HTML)

        do_GET = do_POST

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_endpoint_answering_html_fails_the_scan_instead_of_leaving_it_queued(
    catalog, html_endpoint, capsys
):
    account, _ = register_account(
        account_id="123456789012", name="portal", endpoint_url=html_endpoint, regions=[]
    )
    with pytest.raises(SystemExit) as exited:
        call_command("scan", "--account-id", "123456789012")
    assert exited.value.code == 1
    scan = Scan.objects.get(account=account)
    assert scan.state == Scan.State.FAILED
    assert "ResponseParserError" in scan.error and "invalid XML" in scan.error
    assert "Scan failed: Planning failed: ResponseParserError" in capsys.readouterr().err
    # Nothing is left live: the next request starts a new scan.
    assert scans.start_scan(account, dispatch=False) != scan


def test_stored_copies_leave_out_only_what_postgresql_refuses():
    # NULs go, in text and in JSON; an escaped backslash before "u0000" is text, and stays.
    assert db_text("a\x00b") == "ab"
    assert db_text("lone \ud800 surrogate") == "lone ? surrogate"
    value = {"Description": "a\x00b", "Path": "C:\\u0000", "Tags": {"k\x00": "\\\x00"}}
    assert orjson.loads(to_json(value)) == {
        "Description": "ab",
        "Path": "C:\\u0000",
        "Tags": {"k": "\\"},
    }
    assert orjson.loads(to_json({"name": "x\ud800"})) == {"name": "x?"}
