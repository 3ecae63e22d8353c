"""Exports take a benchmark: the posture export (page and API) lists that benchmark's
controls, and the findings export (page, API, command) names controls by its refs."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from findings.models import Benchmark
from findings.services import sync_checks

pytestmark = pytest.mark.django_db


def _bench(version: str) -> Benchmark:
    return Benchmark.objects.get(slug="cis-aws-foundations", version=version)


@pytest.fixture
def instance(catalog, make_account, make_finding):
    """IMDSv1 allowed on an instance: v2.0.0 5.6, v3.0.0 5.6 and v4.0.1 5.7 read it."""
    sync_checks()
    return make_finding(
        account=make_account(),
        check_id="ec2_instance_imdsv2_required",
        resource_type="AWS::EC2::Instance",
        name="web-server",
    )


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(_body(response).decode())))


def test_the_api_posture_takes_a_benchmark(api, viewer, instance):
    body = api(viewer).get("/api/v1/posture/", {"benchmark": _bench("4.0.1").pk}).json()
    assert body["benchmark"]["version"] == "4.0.1"
    row = next(r for r in body["controls"] if r["control"]["ref"] == "5.7")
    assert row["failing"] == 1 and row["status"] == "fail"


def test_the_api_posture_export_lists_one_benchmarks_controls(api, viewer, instance):
    client = api(viewer)
    response = client.get(
        "/api/v1/posture/export/", {"benchmark": _bench("4.0.1").pk, "format": "csv"}
    )
    assert response.status_code == 200
    assert 'filename="posture-cis-aws-foundations-4.0.1.csv"' in response["Content-Disposition"]
    rows = _csv(response)
    assert {r["benchmark_version"] for r in rows} == {"4.0.1"}
    assert len(rows) == _bench("4.0.1").controls.count()
    imds = next(r for r in rows if r["control"] == "5.7")
    assert (imds["status"], imds["failing"], imds["checks"]) == (
        "fail",
        "1",
        "ec2_instance_imdsv2_required",
    )
    default = json.loads(_body(client.get("/api/v1/posture/export/")))
    assert {r["benchmark_version"] for r in default} == {"2.0.0"}  # the default benchmark
    assert next(r for r in default if r["control"] == "5.6")["failing"] == 1

    Benchmark.objects.filter(pk=_bench("3.0.0").pk).update(enabled=False)
    refused = client.get("/api/v1/posture/export/", {"benchmark": _bench("3.0.0").pk})
    assert refused.status_code == 400 and "is disabled" in refused.content.decode()


def test_the_posture_export_needs_a_role(api, outsider, instance):
    assert api(outsider).get("/api/v1/posture/export/").status_code == 403
    assert api().get("/api/v1/posture/export/").status_code in (401, 403)


def test_the_overview_export_follows_its_filters(client, viewer, instance):
    client.force_login(viewer)
    response = client.get(
        reverse("posture-export"),
        {"benchmark": _bench("4.0.1").pk, "status": "fail", "format": "json"},
    )
    assert response.status_code == 200
    rows = json.loads(_body(response))
    assert [(r["benchmark_version"], r["control"]) for r in rows] == [("4.0.1", "5.7")]
    assert b"posture-export-csv" in client.get(reverse("home")).content
    Benchmark.objects.filter(pk=_bench("3.0.0").pk).update(enabled=False)
    refused = client.get(reverse("posture-export"), {"benchmark": _bench("3.0.0").pk})
    assert refused.status_code == 400 and "is disabled" in refused.content.decode()


def test_the_findings_export_names_controls_in_the_chosen_benchmark(api, client, viewer, instance):
    v4 = _bench("4.0.1")
    page = client
    page.force_login(viewer)
    for response in (
        api(viewer).get("/api/v1/findings/export/", {"benchmark": v4.pk, "format": "csv"}),
        page.get(reverse("finding-export"), {"benchmark": v4.pk, "format": "csv"}),
    ):
        [row] = _csv(response)
        assert row["controls"] == "CIS 4.0.1 5.7"
    # No benchmark: every enabled one names it.
    Benchmark.objects.filter(pk=_bench("3.0.0").pk).update(enabled=False)
    [row] = json.loads(_body(api(viewer).get("/api/v1/findings/export/")))
    assert row["controls"] == [
        "AWS FSBP 1.0.0 EC2.8",
        "CIS 2.0.0 5.6",
        "CIS 4.0.1 5.7",
        "CIS 5.0.0 5.7",
        "CIS 6.0.0 6.7",
        "CIS 7.0.0 6.7",
    ]


def test_the_export_command_takes_a_benchmark(instance, capsys):
    call_command("export_findings", benchmark="cis-aws-foundations@4.0.1")
    [row] = json.loads(capsys.readouterr().out)
    assert row["controls"] == ["CIS 4.0.1 5.7"]
    with pytest.raises(CommandError, match="No benchmark 'nope@1' is loaded"):
        call_command("export_findings", benchmark="nope@1")
    Benchmark.objects.filter(pk=_bench("3.0.0").pk).update(enabled=False)
    with pytest.raises(CommandError, match="is disabled"):
        call_command("export_findings", benchmark="cis-aws-foundations@3.0.0")
