"""CIS AWS Foundations v3.0.0 and v4.0.1 ship beside v2.0.0, with the checks that decide them.

Counts and renumbering follow the benchmarks themselves: v3.0.0 dropped v2.0.0's 3.3 (CloudTrail
bucket not public) and 3.4 (CloudTrail to CloudWatch Logs); v4.0.1 moved EBS encryption to
5.1.1, RDS to 2.2, EFS to 2.3, added RDS Multi-AZ (2.2.4) and CIFS (5.1.2), and the IMDSv2
recommendation moved from 5.6 to 5.7.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from findings import services
from findings.checks import REGISTRY
from findings.models import KNOWN_PLACEHOLDERS, Benchmark, Check
from findings.services.catalog import _validate_catalog

pytestmark = pytest.mark.django_db

FILES = {
    "3.0.0": services.CATALOG_DIR / "cis_aws_foundations_3.0.0.json",
    "4.0.1": services.CATALOG_DIR / "cis_aws_foundations_4.0.1.json",
}
PROSE = (
    "description",
    "rationale",
    "impact",
    "remediation_console",
    "remediation_cli",
    "terraform",
)


def _data(version: str) -> dict:
    return json.loads(FILES[version].read_text(encoding="utf-8"))


def _benchmark(version: str) -> Benchmark:
    return Benchmark.objects.get(slug="cis-aws-foundations", version=version)


@pytest.mark.parametrize("version", sorted(FILES))
def test_each_file_is_well_formed_and_names_only_registered_checks(version):
    data = _data(version)
    _validate_catalog(data, FILES[version].name)  # raises on any problem
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
    for version in ("2.0.0", "3.0.0", "4.0.1"):
        benchmark = _benchmark(version)
        for control in benchmark.controls.filter(automated=True):
            assert control.checks.filter(active=True).exists(), (version, control.ref)
    # Loading every file again changes nothing.
    again = [services.load_catalog(path) for path in services.catalog_files()]
    assert all(r.created == 0 and r.updated == 0 for r in again)


@pytest.mark.parametrize(
    ("version", "sections", "subsections"),
    [
        (
            "3.0.0",
            {"1": 22, "2": 9, "3": 9, "4": 16, "5": 6},
            {"2.1": 4, "2.2": 1, "2.3": 3, "2.4": 1},
        ),
        (
            "4.0.1",
            {"1": 22, "2": 9, "3": 9, "4": 16, "5": 8},
            {"2.1": 4, "2.2": 4, "2.3": 1, "5.1": 2},
        ),
    ],
)
def test_recommendations_per_section_match_the_benchmark(catalog, version, sections, subsections):
    controls = list(_benchmark(version).controls.all())
    assert Counter(c.ref.split(".")[0] for c in controls) == sections
    assert Counter(c.section_ref for c in controls if "." in c.section_ref) == subsections
    assert len(controls) == sum(sections.values())


def test_the_imdsv2_recommendation_moves_from_5_6_to_5_7(catalog):
    assert _benchmark("3.0.0").controls.get(ref="5.6").title == (
        "Ensure that EC2 Metadata Service only allows IMDSv2"
    )
    v4 = _benchmark("4.0.1").controls.get(ref="5.7")
    assert v4.title == "Ensure that the EC2 Metadata Service only allows IMDSv2"
    assert v4.automated and v4.level == 1 and v4.section_ref == "5"
    assert (
        _benchmark("4.0.1")
        .controls.get(ref="5.6")
        .title.startswith("Ensure routing tables for VPC peering")
    )


def test_the_imdsv2_check_decides_the_imdsv2_control_in_every_version(catalog):
    services.sync_checks()
    check = Check.objects.get(check_id="ec2_instance_imdsv2_required")
    decided = {(c.benchmark.version, c.ref) for c in check.controls.select_related("benchmark")}
    for benchmark in Benchmark.objects.filter(slug="cis-aws-foundations"):
        imds = benchmark.controls.get(title__contains="IMDSv2")
        assert (benchmark.version, imds.ref) in decided
    assert {("2.0.0", "5.6"), ("3.0.0", "5.6"), ("4.0.1", "5.7")} <= decided


def test_v3_drops_the_cloudtrail_bucket_and_cloudwatch_logs_recommendations(catalog):
    v2 = {c.title for c in _benchmark("2.0.0").controls.all()}
    dropped = {
        "Ensure the S3 bucket used to store CloudTrail logs is not publicly accessible",
        "Ensure CloudTrail trails are integrated with CloudWatch Logs",
    }
    assert dropped <= v2
    for version in ("3.0.0", "4.0.1"):
        titles = {c.title for c in _benchmark(version).controls.all()}
        assert not dropped & titles, version
    v3 = _benchmark("3.0.0").controls
    assert v3.get(ref="3.3").title == "Ensure AWS Config is enabled in all regions"
    assert v3.get(ref="3.4").title == (
        "Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket"
    )
    assert v3.get(ref="3.9").title == (
        "Ensure that Object-level logging for read events is enabled for S3 bucket"
    )
    # The checks that decided v2.0.0 3.3 and 3.4 decide nothing in v3.0.0.
    services.sync_checks()
    for check_id in ("cloudtrail_bucket_not_public", "cloudtrail_cloudwatch_logs_delivering"):
        versions = {
            c.benchmark.version
            for c in Check.objects.get(check_id=check_id).controls.all()
            if c.benchmark.slug == "cis-aws-foundations"  # FSBP's CloudTrail.5/.6 read them too
        }
        assert versions == {"2.0.0"}, check_id


def test_v4_renumbers_storage_and_adds_multi_az_and_cifs(catalog):
    v4 = {c.ref: c for c in _benchmark("4.0.1").controls.all()}
    assert v4["5.1.1"].title == "Ensure EBS volume encryption is enabled in all regions"
    assert v4["2.2.1"].title == "Ensure that encryption-at-rest is enabled for RDS instances"
    assert v4["2.2.3"].title == "Ensure that RDS instances are not publicly accessible"
    assert v4["2.3.1"].title == "Ensure that encryption is enabled for EFS file systems"
    assert v4["2.2.4"].title == (
        "Ensure Multi-AZ deployments are used for enhanced availability in Amazon RDS"
    )
    assert v4["5.1.2"].title == (
        "Ensure CIFS access is restricted to trusted networks to prevent unauthorized access"
    )
    # Manual in the benchmark, yet decided by checks: shown as "checked, manual".
    assert not v4["2.2.4"].automated and not v4["5.1.2"].automated
    assert set(v4["2.2.4"].check_ids) == {"rds_instance_multi_az", "rds_cluster_multi_az"}
    assert set(v4["5.1.2"].check_ids) == {
        "ec2_security_group_no_cifs_from_internet",
        "ec2_nacl_no_cifs_from_internet",
    }
    # Status changes against v3.0.0: unauthorized API calls and EFS encryption became automated.
    v3 = {c.ref: c for c in _benchmark("3.0.0").controls.all()}
    assert v4["4.1"].automated and not v3["4.1"].automated
    assert v4["2.3.1"].automated and not v3["2.4.1"].automated
    assert v4["5.1.1"].check_ids == v3["2.2.1"].check_ids == ["ec2_ebs_default_encryption_enabled"]


@pytest.mark.parametrize("version", sorted(FILES))
def test_cross_references_in_the_prose_point_at_controls_of_the_same_version(version):
    data = _data(version)
    refs = {c["ref"] for c in data["controls"]}
    for control in data["controls"]:
        for field in PROSE:
            for ref in re.findall(r"CIS (\d+\.\d+(?:\.\d+)?)", control[field]):
                assert ref in refs, (version, control["ref"], field, ref)
    by_ref = {c["ref"]: c for c in data["controls"]}
    # The monitoring alarms no longer send readers to the dropped CloudWatch Logs control.
    assert "(CIS 3.4)" not in by_ref["4.1"]["remediation_console"]


def test_v2_stays_the_benchmark_listed_first(catalog):
    versions = list(
        Benchmark.objects.filter(slug="cis-aws-foundations").values_list("version", flat=True)
    )
    # Later versions (v5.0.0, v6.0.0, v7.0.0, ...) are listed after these, in version order.
    assert versions[:3] == ["2.0.0", "3.0.0", "4.0.1"]
    assert versions == sorted(versions, key=lambda v: tuple(int(p) for p in v.split(".")))
    # Benchmarks list by slug ("aws-fsbp" comes before CIS); within CIS, v2.0.0 first.
    assert Benchmark.objects.filter(slug="cis-aws-foundations").first().version == "2.0.0"
