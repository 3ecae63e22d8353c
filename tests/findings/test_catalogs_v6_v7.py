"""CIS AWS Foundations v6.0.0 and v7.0.0 ship beside v2.0.0 to v4.0.1, decided by the same checks.

Both versions move identity and access management to section 2 (storage to 3, logging to 4,
monitoring to 5, networking to 6). v6.0.0 drops v4.0.1's security questions (1.3); v7.0.0 also
drops the access keys at user setup (1.11) and one active key per user (1.13), and adds AWS
Organizations recommendations (2.1.x), resource policies without an unrestricted principal
(2.21), access logging of web front ends (4.10) and VPC endpoints (6.8).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter

import pytest
from django.urls import reverse
from django.utils import timezone

from acceptances import services as acceptance_services
from acceptances.benchmarks import across_benchmarks
from findings import services
from findings.checks import REGISTRY
from findings.models import KNOWN_PLACEHOLDERS, Benchmark, Finding
from findings.queries.benchmarks import diff_benchmarks
from findings.services.catalog import _validate_catalog

pytestmark = pytest.mark.django_db

FILES = {
    "6.0.0": services.CATALOG_DIR / "cis_aws_foundations_6.0.0.json",
    "7.0.0": services.CATALOG_DIR / "cis_aws_foundations_7.0.0.json",
}
PROSE = (
    "description",
    "rationale",
    "impact",
    "remediation_console",
    "remediation_cli",
    "terraform",
)
# Where the recommendations the issue follows sit in each version.
IMDSV2 = {
    "2.0.0": "5.6",
    "3.0.0": "5.6",
    "4.0.1": "5.7",
    "5.0.0": "5.7",
    "6.0.0": "6.7",
    "7.0.0": "6.7",
}
MFA_DELETE = {
    "2.0.0": "2.1.2",
    "3.0.0": "2.1.2",
    "4.0.1": "2.1.2",
    "5.0.0": "2.1.2",
    "6.0.0": "3.1.2",
    "7.0.0": "3.1.2",
}
BLOCK_PUBLIC_ACCESS = {"4.0.1": "2.1.4", "5.0.0": "2.1.4", "6.0.0": "3.1.4", "7.0.0": "3.1.4"}


def _data(version: str) -> dict:
    return json.loads(FILES[version].read_text(encoding="utf-8"))


def _benchmark(version: str) -> Benchmark:
    return Benchmark.objects.get(slug="cis-aws-foundations", version=version)


@pytest.mark.parametrize("version", sorted(FILES))
def test_each_file_is_well_formed_and_names_only_registered_checks(version):
    data = _data(version)
    _validate_catalog(data, FILES[version].name)  # raises on any problem
    assert data["benchmark"] == {
        "slug": "cis-aws-foundations",
        "name": "CIS Amazon Web Services Foundations Benchmark",
        "version": version,
        "url": "https://www.cisecurity.org/benchmark/amazon_web_services",
    }
    refs = [c["ref"] for c in data["controls"]]
    assert len(refs) == len(set(refs))
    for control in data["controls"]:
        checks = control.get("checks", [])
        assert all(check in REGISTRY for check in checks), control["ref"]
        if control["automated"]:
            assert checks, f"{version} {control['ref']} is automated but names no check"
        for field in PROSE:
            names = set(re.findall(r"\{\{\s*([a-z_]+)\s*\}\}", control[field]))
            assert names <= KNOWN_PLACEHOLDERS, (control["ref"], field, names - KNOWN_PLACEHOLDERS)


def test_every_catalog_loads_and_every_automated_control_is_decided(catalog):
    services.sync_checks()  # refuses unknown checks and automated controls nothing decides
    for version in FILES:
        for control in _benchmark(version).controls.filter(automated=True):
            assert control.checks.filter(active=True).exists(), (version, control.ref)
    again = [services.load_catalog(path) for path in services.catalog_files()]
    assert all(r.created == 0 and r.updated == 0 for r in again)


@pytest.mark.parametrize(
    ("version", "sections", "subsections", "automated"),
    [
        (
            "6.0.0",
            {"2": 21, "3": 9, "4": 9, "5": 16, "6": 8},
            {"3.1": 4, "3.2": 4, "3.3": 1, "6.1": 2},
            35,
        ),
        (
            "7.0.0",
            {"2": 26, "3": 9, "4": 10, "5": 16, "6": 9},
            {"2.1": 6, "3.1": 4, "3.2": 4, "3.3": 1, "6.1": 2},
            34,
        ),
    ],
)
def test_recommendations_per_section_match_the_benchmark(
    catalog, version, sections, subsections, automated
):
    controls = list(_benchmark(version).controls.all())
    assert Counter(c.ref.split(".")[0] for c in controls) == sections
    assert Counter(c.section_ref for c in controls if "." in c.section_ref) == subsections
    assert len(controls) == sum(sections.values())
    assert sum(c.automated for c in controls) == automated
    titles = {c.section_ref: c.section_title for c in controls}
    assert titles["2"] == "Identity and Access Management" and titles["6"] == "Networking"


def test_moved_recommendations_keep_their_checks(catalog):
    services.sync_checks()
    by_version = {
        version: {c.ref: c for c in _benchmark(version).controls.all()}
        for version in ("2.0.0", "3.0.0", "4.0.1", "5.0.0", "6.0.0", "7.0.0")
    }
    imds = {v: by_version[v][ref] for v, ref in IMDSV2.items()}
    assert {c.title for c in imds.values()} >= {
        "Ensure that the EC2 Metadata Service only allows IMDSv2"
    }
    for version, control in imds.items():
        decided_by = set(control.checks.values_list("check_id", flat=True))
        assert decided_by == {"ec2_instance_imdsv2_required"}, version
        assert control.automated and control.level == 1
    for version, ref in MFA_DELETE.items():
        control = by_version[version][ref]
        assert control.title == "Ensure MFA Delete is enabled on S3 buckets"
        decided_by = set(control.checks.values_list("check_id", flat=True))
        assert decided_by == {"s3_bucket_mfa_delete_enabled"}, version
    for version, ref in BLOCK_PUBLIC_ACCESS.items():
        decided_by = set(by_version[version][ref].checks.values_list("check_id", flat=True))
        assert decided_by == {
            "s3_bucket_public_access_blocked",
            "s3_account_public_access_blocked",
        }, version


@pytest.mark.parametrize(("version", "same_title"), [("6.0.0", 62), ("7.0.0", 59)])
def test_every_recommendation_carried_over_from_v4_keeps_its_checks_and_severity(
    catalog, version, same_title
):
    v4 = {c.title: c for c in _benchmark("4.0.1").controls.all()}
    carried = [c for c in _benchmark(version).controls.all() if c.title in v4]
    # The rest carried over under a reworded title (Access Analyzer; v7 contact details).
    assert len(carried) == same_title
    for control in carried:
        before = v4[control.title]
        assert control.check_ids == before.check_ids, (version, control.ref)
        assert control.severity == before.severity, (version, control.ref)


def test_v7_drops_three_iam_recommendations_and_renumbers_through_the_diff(catalog):
    services.sync_checks()
    v6 = {c.ref: c.title for c in _benchmark("6.0.0").controls.all()}
    v7 = {c.ref: c.title for c in _benchmark("7.0.0").controls.all()}
    dropped = {
        "Ensure security questions are registered in the AWS account",
        "Do not create access keys during initial setup for IAM users with a console password",
        "Ensure there is only one active access key for any single IAM user",
    }
    assert dropped & set(v7.values()) == set()
    assert dropped - set(v6.values()) == {
        "Ensure security questions are registered in the AWS account"
    }
    diff = diff_benchmarks(_benchmark("4.0.1"), _benchmark("7.0.0"))
    moved = {(p.old.ref, p.new.ref) for p in diff.renumbered}
    assert {("5.7", "6.7"), ("2.1.2", "3.1.2"), ("2.1.4", "3.1.4"), ("1.4", "2.4")} <= moved
    assert {c.ref for c in diff.removed} >= {"1.3", "1.11", "1.13"}
    assert {"2.1.1", "2.1.2", "2.1.3", "2.1.4", "2.21", "4.10", "6.8"} <= {
        c.ref for c in diff.added
    }
    assert diff.unchanged == []  # every recommendation of v4.0.1 that stays has a new number


def test_v7_new_recommendations_are_decided_by_the_organisation_and_policy_checks(catalog):
    v7 = {c.ref: c for c in _benchmark("7.0.0").controls.all()}
    assert v7["2.1.1"].title == "Ensure centralized root access in AWS Organizations"
    assert v7["2.1.1"].section_ref == "2.1" and v7["2.1.1"].level == 2
    assert v7["2.1.1"].check_ids == ["iam_root_credentials_management_enabled"]
    assert (
        v7["2.1.5"].check_ids == v7["2.1.6"].check_ids == ["organizations_delegated_administrators"]
    )
    assert set(v7["2.21"].check_ids) == {
        "s3_bucket_policy_no_public_write",
        "sqs_queue_not_public",
        "sns_topic_not_public",
        "lambda_function_not_public",
        "kms_key_not_public",
        "glacier_vault_policy_not_public",
        "secretsmanager_secret_not_public",
        "eventbridge_bus_not_public",
    }
    assert set(v7["4.10"].check_ids) == {
        "cloudfront_distribution_logging_enabled",
        "elbv2_load_balancer_access_logging",
        "apigateway_rest_stage_access_logging",
        "apigatewayv2_stage_access_logging",
    }
    # Manual in the benchmark, yet decided by checks: shown as "checked, manual".
    for ref in ("2.1.1", "2.1.5", "2.1.6", "2.21", "4.10"):
        assert not v7[ref].automated, ref
    # Manual recommendations no API decides stay unchecked.
    for ref in ("2.1.2", "2.1.3", "2.1.4", "6.8"):
        assert v7[ref].check_ids == [] and not v7[ref].automated, ref
    # Automated/manual changes against v4.0.1 that both v6.0.0 and v7.0.0 make.
    v4 = {c.ref: c for c in _benchmark("4.0.1").controls.all()}
    for version in FILES:
        new = {c.ref: c for c in _benchmark(version).controls.all()}
        assert v4["3.1"].automated and not new["4.1"].automated  # CloudTrail in all regions
        assert v4["3.4"].automated and not new["4.4"].automated  # CloudTrail bucket logging
        assert v4["4.1"].automated and not new["5.1"].automated  # unauthorized API calls
        assert not v4["5.1.2"].automated and new["6.1.2"].automated  # CIFS


@pytest.mark.parametrize("version", sorted(FILES))
def test_cross_references_in_the_prose_point_at_controls_of_the_same_version(version):
    data = _data(version)
    by_ref = {c["ref"]: c for c in data["controls"]}
    for control in data["controls"]:
        for field in PROSE:
            for ref in re.findall(r"CIS (\d+\.\d+(?:\.\d+)?)", control[field]):
                assert ref in by_ref, (version, control["ref"], field, ref)
    # The renumbered references name the new place of the control they mean.
    assert "CIS 4.3" in by_ref["5.16"]["impact"]  # AWS Config
    assert "CIS 4.3" not in by_ref["5.16"]["impact"].replace("CIS 4.3", "", 1)
    assert by_ref["4.3"]["title"] == "Ensure AWS Config is enabled in all regions"


def _accept(analyst, control, resource) -> object:
    return acceptance_services.accept_risk(
        actor=analyst,
        control=control,
        resource=resource,
        owner=analyst,
        reason="risk_owned",
        justification="Until the OS upgrade lands.",
        expires_at=timezone.now() + dt.timedelta(days=30),
    )


def test_acceptances_made_under_v2_show_under_v6_and_v7(
    catalog, story_account, scan_now, analyst, client
):
    scan_now(story_account)
    web = Finding.objects.get(control_check__check_id="ec2_instance_imdsv2_required").resource
    imds = _accept(analyst, catalog.controls.get(ref="5.6"), web)
    bucket = Finding.objects.get(
        control_check__check_id="s3_bucket_mfa_delete_enabled", resource__name="story-images"
    ).resource
    mfa = _accept(analyst, catalog.controls.get(ref="2.1.2"), bucket)

    where = {
        g.benchmark.version: [(r.control.ref, r.covered) for r in g.controls]
        for g in across_benchmarks(imds).elsewhere
    }
    # AWS FSBP (1.0.0) reads them too, as EC2.8 and S3.20.
    assert where == {v: [(ref, True)] for v, ref in IMDSV2.items() if v != "2.0.0"} | {
        "1.0.0": [("EC2.8", True)]
    }
    mfa_across = across_benchmarks(mfa)
    assert {
        g.benchmark.version: [(r.control.ref, r.covered) for r in g.controls]
        for g in mfa_across.elsewhere
    } == {v: [(ref, True)] for v, ref in MFA_DELETE.items() if v != "2.0.0"} | {
        "1.0.0": [("S3.20", True)]
    }
    # Every shipped version has MFA Delete: the acceptance is "no longer in" none of them.
    assert mfa_across.no_longer_in == []

    client.force_login(analyst)
    for ref, acceptance in (("6.7", imds), ("3.1.2", mfa)):
        control = _benchmark("7.0.0").controls.get(ref=ref)
        page = client.get(reverse("control-detail", args=[control.pk])).content.decode()
        assert 'data-testid="control-accepted">1<' in page, ref
        assert f"#{acceptance.pk}</a>" in page, ref
