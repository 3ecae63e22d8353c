"""The story's account scanned once, then read under CIS v2.0.0, CIS v7.0.0 and AWS FSBP.

The team accepted IMDSv1 on the web server (v2.0.0 5.6, until the OS upgrade lands) and MFA
Delete on the image bucket (v2.0.0 2.1.2). One scan, three benchmarks: the IMDS acceptance shows
wherever a control is decided by the IMDSv2 check (v7.0.0 and FSBP EC2.8 included); the MFA
Delete acceptance shows only where a control is decided by the MFA Delete check, and the
acceptance page lists each benchmark's controls it covers, and the versions it is no longer in.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from acceptances import services
from findings import services as findings_services
from findings.models import Benchmark, Finding, Resource
from findings.queries import get_control_posture

pytestmark = pytest.mark.django_db

IMDS = "ec2_instance_imdsv2_required"
MFA_DELETE = "s3_bucket_mfa_delete_enabled"


def _benchmarks() -> dict[str, Benchmark]:
    return {
        "v2": Benchmark.objects.get(slug="cis-aws-foundations", version="2.0.0"),
        "v7": Benchmark.objects.get(slug="cis-aws-foundations", version="7.0.0"),
        "fsbp": Benchmark.objects.get(slug="aws-fsbp"),
    }


def _decided_by(benchmark: Benchmark, check_id: str) -> list:
    """The benchmark's controls the check decides (by catalog or by registration)."""
    return list(benchmark.controls.filter(checks__check_id=check_id).order_by("position"))


@pytest.fixture
def story_decisions(story_account, scan_now, analyst, catalog):
    findings_services.sync_checks()
    scan_now(story_account)
    v2 = _benchmarks()["v2"]
    server = Resource.objects.get(name="web-server")
    bucket = Resource.objects.get(name="story-images")
    decisions = {}
    for ref, resource, justification in (
        ("5.6", server, "IMDSv1 until the OS upgrade lands."),
        ("2.1.2", bucket, "MFA Delete needs the root user; versioning and replication instead."),
    ):
        control = v2.controls.get(ref=ref)
        decisions[ref] = services.accept_risk(
            actor=analyst,
            control=control,
            resource=resource,
            owner=analyst,
            reason="risk_owned",
            justification=justification,
            expires_at=timezone.now() + dt.timedelta(days=30),
        )
    return decisions, server, bucket


def _accepted_on(benchmark: Benchmark, control, resource) -> bool:
    """Whether the benchmark's overview counts ``resource`` accepted under ``control``."""
    (row,) = get_control_posture(benchmark, control_ids=[control.pk])
    failing = Finding.objects.filter(
        resource=resource, control_check__controls=control, status="fail"
    )
    return row.accepted >= 1 and failing.exists()


def test_one_scan_read_by_three_benchmarks(story_decisions):
    _decisions, server, bucket = story_decisions
    benchmarks = _benchmarks()
    # The IMDS acceptance shows under all three, wherever the control moved.
    for name, benchmark in benchmarks.items():
        controls = _decided_by(benchmark, IMDS)
        assert controls, f"{name}: no control is decided by the IMDSv2 check"
        for control in controls:
            assert _accepted_on(benchmark, control, server), (name, control.ref)
    refs = {name: [c.ref for c in _decided_by(b, IMDS)] for name, b in benchmarks.items()}
    assert refs == {"v2": ["5.6"], "v7": ["6.7"], "fsbp": ["EC2.8"]}
    # MFA Delete: accepted wherever it is a control (all three have one), under its own number.
    refs = {name: [c.ref for c in _decided_by(b, MFA_DELETE)] for name, b in benchmarks.items()}
    assert refs == {"v2": ["2.1.2"], "v7": ["3.1.2"], "fsbp": ["S3.20"]}
    for name, benchmark in benchmarks.items():
        for control in _decided_by(benchmark, MFA_DELETE):
            assert _accepted_on(benchmark, control, bucket), (name, control.ref)
    # Nowhere else: the bucket's other failing controls are not accepted by it.
    v7 = benchmarks["v7"]
    (secure_transport,) = _decided_by(v7, "s3_bucket_secure_transport")
    (row,) = get_control_posture(v7, control_ids=[secure_transport.pk])
    assert row.accepted == 0 and row.failing >= 1


def test_the_acceptance_pages_list_each_benchmark(story_decisions, client, analyst):
    decisions, _server, _bucket = story_decisions
    benchmarks = _benchmarks()
    client.force_login(analyst)
    page = client.get(reverse("acceptance-detail", args=[decisions["5.6"].pk]))
    text = page.content.decode()
    for name in ("v7", "fsbp"):
        for control in _decided_by(benchmarks[name], IMDS):
            assert control.ref in text, (name, control.ref)
    assert "EC2.8" in text
    mfa = client.get(reverse("acceptance-detail", args=[decisions["2.1.2"].pk])).content.decode()
    for name in ("v7", "fsbp"):
        for control in _decided_by(benchmarks[name], MFA_DELETE):
            assert control.ref in mfa, (name, control.ref)
    # Every loaded CIS version keeps MFA Delete: it is "no longer in" none of them (a version
    # that drops a control is tested in test_benchmarks_side_by_side).
    assert "No longer in" not in mfa


def test_overview_pages_show_the_accepted_web_server(story_decisions, client, analyst):
    client.force_login(analyst)
    for name, benchmark in _benchmarks().items():
        (control,) = _decided_by(benchmark, IMDS)[:1]
        page = client.get(reverse("control-detail", args=[control.pk]), {"status": "accepted"})
        assert page.status_code == 200
        assert "web-server" in page.content.decode(), (name, control.ref)
