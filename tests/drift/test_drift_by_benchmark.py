"""Drift alerts read benchmarks: a watch chooses which (the default one when none), and the
email lists what newly fails by each chosen benchmark's control refs and titles, one line per
control, each resource once under it. Sent through the real SMTP server of the drift tests."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from acceptances import drift, services
from acceptances.models import Zone
from findings.models import Benchmark
from findings.services import sync_checks

pytestmark = pytest.mark.django_db

IMDS_V2 = "5.6 Ensure that EC2 Metadata Service only allows IMDSv2"
IMDS_V4 = "5.7 Ensure that the EC2 Metadata Service only allows IMDSv2"
CIFS_V4 = "5.1.2 Ensure CIFS access is restricted to trusted networks"


def _bench(version: str) -> Benchmark:
    return Benchmark.objects.get(slug="cis-aws-foundations", version=version)


@pytest.fixture
def scan(catalog, closed_scan, make_account, make_finding, add_change):
    """One scan: IMDSv1 newly allowed on an instance (a check v2.0.0 5.6 and v4.0.1 5.7
    share), and SMB open on a server by both its security group and NACL checks (v4.0.1 5.1.2
    alone; the two checks decide one control: the resource is listed once)."""
    sync_checks()
    account = make_account()
    scan = closed_scan(account)
    instance = make_finding(
        account=account,
        check_id="ec2_instance_imdsv2_required",
        resource_type="AWS::EC2::Instance",
        name="web-server",
    )
    smb = make_finding(
        account=account,
        check_id="ec2_security_group_no_cifs_from_internet",
        resource_type="AWS::EC2::Instance",
        name="file-server",
    )
    smb_nacl = make_finding(
        account=account,
        check_id="ec2_nacl_no_cifs_from_internet",
        resource=smb.resource,
    )
    for finding in (instance, smb, smb_nacl):
        add_change(scan, finding)
    return scan


@pytest.fixture
def everything(db) -> Zone:
    return Zone.objects.get(is_builtin=True)


def test_a_watch_without_benchmarks_reads_the_default_one(scan, everything, analyst, smtp_server):
    services.watch_zone(analyst, everything, actor=analyst)
    drift.send_drift_alerts(scan.pk)
    [message] = smtp_server.messages
    assert "NEWLY FAILING, CIS Amazon Web Services Foundations Benchmark v2.0.0" in message.text
    assert IMDS_V2 in message.text
    assert "v4.0.1" not in message.text and "5.7 " not in message.text
    assert "3 newly failing" in message.subject  # every finding counts...
    # ...and the checks no v2.0.0 control reads are still named, by check.
    assert "ec2_security_group_no_cifs_from_internet" in message.text


def test_a_watch_lists_each_chosen_benchmark_by_its_refs_once_per_resource(
    scan, everything, analyst, smtp_server
):
    services.watch_zone(
        analyst, everything, actor=analyst, benchmarks=[_bench("2.0.0"), _bench("4.0.1")]
    )
    drift.send_drift_alerts(scan.pk)
    [message] = smtp_server.messages
    text = message.text
    v2 = text.index("NEWLY FAILING, CIS Amazon Web Services Foundations Benchmark v2.0.0")
    v4 = text.index("NEWLY FAILING, CIS Amazon Web Services Foundations Benchmark v4.0.1")
    assert v2 < text.index(IMDS_V2) < v4 < text.index(IMDS_V4)
    assert text.count(IMDS_V2) == 1 and text.count(IMDS_V4) == 1
    # One line for 5.1.2, its resource once though both of its checks newly fail on it.
    assert text.count(CIFS_V4) == 1
    assert text.count("Resource: file-server") == 1
    assert text.count("Resource: web-server") == 2  # under 5.6 of v2.0.0 and 5.7 of v4.0.1
    assert "Other checks" not in text  # every failure has a control in a chosen benchmark
    assert "NEWLY FAILING, CIS Amazon Web Services Foundations Benchmark v3.0.0" not in text
    assert "Newly failing, CIS Amazon Web Services Foundations Benchmark v4.0.1" in message.html
    assert message.html.count("file-server</a>") == 1


def test_each_watch_lists_its_findings_under_its_own_benchmarks(
    scan, everything, approver, analyst, smtp_server
):
    prod = services.save_zone(actor=approver, name="nothing", rules={"tags": ["Env=none"]})
    services.watch_zone(analyst, everything, actor=analyst, benchmarks=[_bench("4.0.1")])
    services.watch_zone(analyst, prod, actor=analyst, benchmarks=[_bench("2.0.0")])
    drift.send_drift_alerts(scan.pk)
    [message] = smtp_server.messages
    # The v2.0.0 watch's zone holds none of them: only v4.0.1 lists them.
    assert IMDS_V4 in message.text and IMDS_V2 not in message.text


def test_a_disabled_benchmark_is_refused_and_one_disabled_later_is_left_out(
    scan, everything, analyst, smtp_server
):
    Benchmark.objects.filter(pk=_bench("3.0.0").pk).update(enabled=False)
    with pytest.raises(ValidationError, match="is disabled"):
        services.watch_zone(analyst, everything, actor=analyst, benchmarks=[_bench("3.0.0")])

    services.watch_zone(analyst, everything, actor=analyst, benchmarks=[_bench("4.0.1")])
    Benchmark.objects.filter(pk=_bench("4.0.1").pk).update(enabled=False)
    drift.send_drift_alerts(scan.pk)
    [message] = smtp_server.messages
    assert IMDS_V2 in message.text and IMDS_V4 not in message.text  # back to the default


def test_the_api_watch_takes_benchmarks(everything, analyst, catalog):
    url = f"/api/v1/zones/{everything.pk}/watch/"
    client = APIClient()
    client.force_login(analyst)
    response = client.post(url, {"benchmarks": [_bench("4.0.1").pk]}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["benchmarks"] == [_bench("4.0.1").pk]
    # Left out: unchanged; a severity change keeps them.
    assert client.post(url, {"min_severity": "high"}, format="json").json()["benchmarks"] == [
        _bench("4.0.1").pk
    ]
    Benchmark.objects.filter(pk=_bench("3.0.0").pk).update(enabled=False)
    refused = client.post(url, {"benchmarks": [_bench("3.0.0").pk]}, format="json")
    assert refused.status_code == 400 and "is disabled" in refused.content.decode()


def test_the_zone_page_watch_form_takes_benchmarks(client, everything, analyst, catalog):
    client.force_login(analyst)
    page = client.get(reverse("zone-edit", args=[everything.pk]))
    assert b'name="benchmarks"' in page.content
    client.post(
        reverse("zone-watch", args=[everything.pk]),
        {"min_severity": "", "benchmarks": [_bench("4.0.1").pk], "back": "zone"},
    )
    watch = everything.watches.get(user=analyst)
    assert list(watch.benchmarks.all()) == [_bench("4.0.1")]
    page = client.get(reverse("zone-edit", args=[everything.pk]))
    assert "CIS Amazon Web Services Foundations Benchmark v4.0.1" in page.content.decode()
