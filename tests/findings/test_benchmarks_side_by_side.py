"""Several benchmarks read one scan: a decision follows the check, not the version.

A second version of CIS AWS Foundations is built from the shipped v2.0.0 catalog the way a new
release changes it: the IMDSv2 recommendation renumbered (5.6 -> 5.7, decided by the same
check), MFA Delete (2.1.2) dropped, one new manual recommendation.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from acceptances import services
from acceptances.benchmarks import across_benchmarks
from findings import services as findings_services
from findings.models import Benchmark, Finding
from findings.queries import get_default_benchmark
from findings.queries.benchmarks import diff_benchmarks, find_benchmark

pytestmark = pytest.mark.django_db

NEXT = "99.0.0"


@pytest.fixture
def next_version(catalog, tmp_path) -> Benchmark:
    from findings.checks import REGISTRY

    data = json.loads(
        (findings_services.CATALOG_DIR / "cis_aws_foundations_2.0.0.json").read_text()
    )
    data["benchmark"]["version"] = NEXT
    deciding: dict[str, list[str]] = {}
    for spec in REGISTRY.values():
        for ref in spec.controls:
            deciding.setdefault(ref, []).append(spec.check_id)
    controls = []
    for control in data["controls"]:
        if control["ref"] == "2.1.2":
            continue  # dropped
        # The same checks decide each recommendation in the new version.
        control = {**control, "checks": deciding.get(control["ref"], [])}
        if control["ref"] == "5.6":
            control["ref"] = "5.7"  # renumbered
        controls.append(control)
    controls.append(
        {
            **controls[0],
            "ref": "5.8",
            "section": "5",
            "title": "Ensure a new manual recommendation is reviewed",
            "automated": False,
            "checks": [],
        }
    )
    data["controls"] = controls
    path = tmp_path / "next.json"
    path.write_text(json.dumps(data))
    benchmark = findings_services.load_catalog(path).benchmark
    findings_services.sync_checks()
    return benchmark


def _accept(analyst, control, resource) -> object:
    return services.accept_risk(
        actor=analyst,
        control=control,
        resource=resource,
        owner=analyst,
        reason="risk_owned",
        justification="Until the OS upgrade lands.",
        # The shipped risk appetite: a high-severity control for 30 days at most.
        expires_at=timezone.now() + dt.timedelta(days=30),
    )


def test_the_default_benchmark_is_the_newest_cis_unless_a_setting_names_one(
    next_version, catalog, settings
):
    settings.CSPM_DEFAULT_BENCHMARK = "cis-aws-foundations"
    assert get_default_benchmark() == next_version
    settings.CSPM_DEFAULT_BENCHMARK = "cis-aws-foundations@2.0.0"
    assert get_default_benchmark() == catalog
    assert find_benchmark("2.0.0") == catalog
    assert find_benchmark("cis-aws-foundations") == next_version
    with pytest.raises(ValueError, match=r"loaded: .*cis-aws-foundations@2\.0\.0"):
        find_benchmark("8.0.0")


def test_the_diff_names_renumbered_dropped_and_added_controls(next_version, catalog):
    diff = diff_benchmarks(catalog, next_version)
    assert [(p.old.ref, p.new.ref) for p in diff.renumbered] == [("5.6", "5.7")]
    assert [c.ref for c in diff.removed] == ["2.1.2"]
    assert [c.ref for c in diff.added] == ["5.8"]
    assert diff.newly_evaluated == {}


def test_an_acceptance_under_one_version_shows_under_the_next_and_says_what_it_left(
    next_version, catalog, story_account, scan_now, analyst, client
):
    scan_now(story_account)
    web = Finding.objects.get(control_check__check_id="ec2_instance_imdsv2_required").resource
    imds = _accept(analyst, catalog.controls.get(ref="5.6"), web)
    bucket = Finding.objects.get(
        control_check__check_id="s3_bucket_mfa_delete_enabled", resource__name="story-images"
    ).resource
    mfa = _accept(analyst, catalog.controls.get(ref="2.1.2"), bucket)

    across = across_benchmarks(imds)
    where = {
        g.benchmark.version: [(r.control.ref, r.covered) for r in g.controls]
        for g in across.elsewhere
    }
    # The shipped v3.0.0 to v7.0.0 catalogs too: IMDSv2 is 5.6 in v3, 5.7 in v4 and v5, 6.7
    # in v6 and v7; and AWS FSBP (1.0.0) decides EC2.8 with the same check.
    assert where == {
        "1.0.0": [("EC2.8", True)],
        "3.0.0": [("5.6", True)],
        "4.0.1": [("5.7", True)],
        "5.0.0": [("5.7", True)],
        "6.0.0": [("6.7", True)],
        "7.0.0": [("6.7", True)],
        NEXT: [("5.7", True)],
    }
    assert across.no_longer_in == []
    mfa_across = across_benchmarks(mfa)
    assert [b.version for b in mfa_across.no_longer_in] == [NEXT]
    assert NEXT not in {g.benchmark.version for g in mfa_across.elsewhere}

    # The next version's control page reads the same finding as accepted, and names the
    # acceptance made under v2.0.0.
    client.force_login(analyst)
    moved = next_version.controls.get(ref="5.7")
    page = client.get(reverse("control-detail", args=[moved.pk])).content.decode()
    assert 'data-testid="control-accepted">1<' in page
    assert f"#{imds.pk}</a> <span" in page and "made on 5.6 of" in page
    # MFA Delete is no control of the next version: its acceptance says so, and stays.
    detail = client.get(reverse("acceptance-detail", args=[mfa.pk])).content.decode()
    assert "No longer in" in detail and NEXT in detail
    mfa.refresh_from_db()
    assert mfa.state == "active" and mfa.covered_findings.count() == 1


def test_the_diff_command_and_page_list_what_carries_over(
    next_version, catalog, story_account, scan_now, analyst, client, capsys
):
    scan_now(story_account)
    web = Finding.objects.get(control_check__check_id="ec2_instance_imdsv2_required").resource
    imds = _accept(analyst, catalog.controls.get(ref="5.6"), web)
    bucket = Finding.objects.get(
        control_check__check_id="s3_bucket_mfa_delete_enabled", resource__name="story-images"
    ).resource
    mfa = _accept(analyst, catalog.controls.get(ref="2.1.2"), bucket)

    call_command("benchmark_diff", "2.0.0", f"cis-aws-foundations@{NEXT}")
    out = capsys.readouterr().out
    assert "1 added, 1 removed, 1 renumbered" in out
    assert "renumbered 5.6 -> 5.7" in out
    assert f"carries    #{imds.pk}" in out and "-> 5.7" in out
    assert f"no longer  #{mfa.pk}" in out

    client.force_login(analyst)
    url = reverse("benchmark-diff")
    page = client.get(url, {"old": catalog.pk, "new": next_version.pk})
    body = page.content.decode()
    assert page.status_code == 200
    assert "1 carry over · 1 would no longer apply" in body
    assert client.get(url, {"old": catalog.pk, "new": catalog.pk}).status_code == 400
    assert client.get(url, {"old": "x", "new": next_version.pk}).status_code == 400


def test_the_diff_command_refuses_unknown_versions(catalog):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=r"No benchmark .8\.0\.0. is loaded"):
        call_command("benchmark_diff", "2.0.0", "8.0.0")


def test_findings_pages_and_api_read_one_benchmark_at_a_time(
    next_version, catalog, story_account, scan_now, analyst, client
):
    from rest_framework.test import APIClient

    scan_now(story_account)
    api = APIClient()
    api.force_authenticate(analyst)

    def checks(**params) -> set[str]:
        response = api.get("/api/v1/findings/", {"page_size": 500, **params})
        assert response.status_code == 200, response.content
        return {row["check_id"] for row in response.json()["results"]}

    # A reference means a control of one benchmark: 5.7 exists only in the next version.
    assert checks(control_ref="5.7", benchmark=next_version.pk) == {"ec2_instance_imdsv2_required"}
    assert checks(control_ref="5.7") == set()  # the default benchmark (v2.0.0) has no 5.7
    assert "s3_bucket_mfa_delete_enabled" in checks(benchmark=catalog.pk)
    assert "s3_bucket_mfa_delete_enabled" not in checks(benchmark=next_version.pk)
    assert api.get("/api/v1/findings/", {"benchmark": 999999}).status_code == 400

    client.force_login(analyst)
    page = client.get(reverse("finding-list"), {"benchmark": next_version.pk, "q": "mfa-delete"})
    assert page.status_code == 200
    every = client.get(reverse("finding-list"), {"benchmark": catalog.pk, "status": "fail"})
    only_next = client.get(
        reverse("finding-list"), {"benchmark": next_version.pk, "status": "fail"}
    )
    assert "story-images" in every.content.decode()
    # The next version has no MFA Delete control: the bucket's only failures there are others.
    assert every.content.decode().count(
        "s3_bucket_mfa_delete_enabled"
    ) > only_next.content.decode().count("s3_bucket_mfa_delete_enabled")


@pytest.mark.parametrize(
    "lister, filters",
    [
        ("get_findings_list", {}),
        ("get_findings_list", {"severity": "high", "status": "fail"}),
        ("get_resources_list", {"status": "fail"}),
    ],
)
def test_a_list_of_one_benchmark_names_its_checks_to_the_database(
    next_version, catalog, story_account, scan_now, lister, filters
):
    """The catalog is read first and the findings query names the benchmark's checks: joined
    as a subquery, the planner sized it from catalog statistics that are stale right after a
    benchmark is enabled, and read a million findings check by check (9 s instead of 0.5 s)."""
    from findings import queries
    from findings.queries.lists import ListFilters

    scan_now(story_account)
    rows = getattr(queries, lister)(ListFilters(benchmark=next_version, **filters))
    sql = str(rows.query)
    assert "findings_control" not in sql
    assert "findings_check_controls" not in sql
    # The same rows as the catalog joined in the query.
    if lister == "get_findings_list":
        graded = {"control_check__controls__severity": "high"} if filters else {}
        joined = Finding.objects.filter(control_check__controls__benchmark=next_version, **graded)
        if filters:
            joined = joined.filter(status="fail", resolved_at__isnull=True, acceptance__isnull=True)
        assert joined.exists()
        assert set(rows.values_list("pk", flat=True)) == set(joined.values_list("pk", flat=True))
