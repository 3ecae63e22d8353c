"""CIS AWS Foundations v5.0.0 ships beside v2.0.0, v3.0.0 and v4.0.1, decided by the same checks.

Against v4.0.1, v5.0.0 drops 1.3 (security questions) and moves the rest of section 1 up by one
(1.4 -> 1.3 ... 1.22 -> 1.21); 1.20 becomes 1.19 "IAM External Access Analyzer". Sections 2 to 5
keep their numbers. CIS now marks 3.1, 3.4 and 4.1 manual (still checked) and 5.1.2 automated.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter

import pytest
from django.utils import timezone

from acceptances import services as acceptance_services
from acceptances.benchmarks import across_benchmarks, carry_over
from findings import services
from findings.checks import REGISTRY
from findings.models import KNOWN_PLACEHOLDERS, Benchmark, Finding
from findings.queries.benchmarks import diff_benchmarks, versions_without
from findings.services.catalog import _validate_catalog

FILE = services.CATALOG_DIR / "cis_aws_foundations_5.0.0.json"
V4_FILE = services.CATALOG_DIR / "cis_aws_foundations_4.0.1.json"
PROSE = (
    "description",
    "rationale",
    "impact",
    "remediation_console",
    "remediation_cli",
    "terraform",
)
# v4.0.1 ref -> v5.0.0 ref: section 1 moves up by one once 1.3 is gone.
SECTION_1_MOVES = [(f"1.{n}", f"1.{n - 1}") for n in range(4, 23)]


def _data(path=FILE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _benchmark(version: str) -> Benchmark:
    return Benchmark.objects.get(slug="cis-aws-foundations", version=version)


def test_the_file_is_well_formed_and_names_only_registered_checks():
    data = _data()
    _validate_catalog(data, FILE.name)  # raises on any problem
    assert data["benchmark"] == {
        "slug": "cis-aws-foundations",
        "name": "CIS Amazon Web Services Foundations Benchmark",
        "version": "5.0.0",
        "url": "https://www.cisecurity.org/benchmark/amazon_web_services",
    }
    for control in data["controls"]:
        checks = control.get("checks", [])
        assert all(check in REGISTRY for check in checks), control["ref"]
        if control["automated"]:
            assert checks, f"{control['ref']} is automated but names no check"
        for field in PROSE:
            names = set(re.findall(r"\{\{\s*([a-z_]+)\s*\}\}", control[field]))
            assert names <= KNOWN_PLACEHOLDERS, (control["ref"], field, names)


def test_our_v4_prose_carries_over_with_only_the_renumbered_references_changed():
    v4 = {c["title"]: c for c in _data(V4_FILE)["controls"]}
    v4["Ensure that IAM External Access Analyzer is enabled for all regions"] = v4.pop(
        "Ensure that IAM Access Analyzer is enabled for all regions"
    )
    changed = set()
    for control in _data()["controls"]:
        old = v4[control["title"]]
        for field in (*PROSE, "references", "resource_types", "severity", "checks"):
            if control[field] != old[field]:
                changed.add((control["ref"], field))
    # Cross references follow section 1 (1.5 -> 1.4 ...); 4.1 and 5.1.2 say their new status.
    assert changed == {
        ("1.5", "description"),
        ("1.7", "terraform"),
        ("1.8", "terraform"),
        ("4.1", "description"),
        ("4.2", "rationale"),
        ("4.3", "rationale"),
        ("5.1.2", "description"),
    }


def test_cross_references_in_the_prose_point_at_the_same_recommendation_as_in_v4():
    v4 = {c["ref"]: c for c in _data(V4_FILE)["controls"]}
    v5 = {c["ref"]: c for c in _data()["controls"]}
    moved = dict(SECTION_1_MOVES)
    for ref, control in v5.items():
        for field in PROSE:
            for target in re.findall(r"CIS (\d+\.\d+(?:\.\d+)?)", control[field]):
                assert target in v5, (ref, field, target)
    old_ref = {new: old for old, new in SECTION_1_MOVES}
    for ref in ("1.5", "4.2", "4.3"):
        old = v4[old_ref.get(ref, ref)]
        old_targets = re.findall(r"(?:CIS|beyond) (1\.\d+)", " ".join(old[f] for f in PROSE))
        new_targets = re.findall(r"(?:CIS|beyond) (1\.\d+)", " ".join(v5[ref][f] for f in PROSE))
        assert new_targets == [moved[t] for t in old_targets], ref
        for old_target, new_target in zip(old_targets, new_targets, strict=True):
            assert v5[new_target]["title"] == v4[old_target]["title"]


@pytest.mark.django_db
def test_it_loads_beside_the_others_and_every_automated_control_is_decided(catalog):
    services.sync_checks()  # refuses unknown checks and automated controls nothing decides
    v5 = _benchmark("5.0.0")
    for control in v5.controls.filter(automated=True):
        assert control.checks.filter(active=True).exists(), control.ref
    again = services.load_catalog(FILE)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 63)


@pytest.mark.django_db
def test_recommendations_per_section_and_profile_match_the_benchmark(catalog):
    controls = list(_benchmark("5.0.0").controls.all())
    assert len(controls) == 63
    assert Counter(c.ref.split(".")[0] for c in controls) == {
        "1": 21,
        "2": 9,
        "3": 9,
        "4": 16,
        "5": 8,
    }
    assert Counter(c.section_ref for c in controls if "." in c.section_ref) == {
        "2.1": 4,
        "2.2": 4,
        "2.3": 1,
        "5.1": 2,
    }
    assert Counter(c.level for c in controls) == {1: 41, 2: 22}
    assert [c.ref for c in controls][:4] == ["1.1", "1.2", "1.3", "1.4"]


@pytest.mark.django_db
def test_the_diff_from_v4_drops_security_questions_and_moves_section_1_up(catalog):
    services.sync_checks()
    diff = diff_benchmarks(_benchmark("4.0.1"), _benchmark("5.0.0"))
    assert [c.ref for c in diff.removed] == ["1.3"]
    assert diff.removed[0].title == "Ensure security questions are registered in the AWS account"
    assert diff.added == []
    assert [(p.old.ref, p.new.ref) for p in diff.renumbered] == SECTION_1_MOVES
    assert all(p.old.ref == p.new.ref for p in diff.unchanged)
    assert len(diff.unchanged) == 63 - len(SECTION_1_MOVES)
    assert diff.newly_evaluated == {}  # v5.0.0 reads no check v4.0.1 did not


@pytest.mark.django_db
def test_moved_controls_are_decided_by_the_checks_of_their_v4_counterpart(catalog):
    services.sync_checks()
    v4 = {c.ref: c for c in _benchmark("4.0.1").controls.all()}
    v5 = {c.ref: c for c in _benchmark("5.0.0").controls.all()}
    pairs = dict(SECTION_1_MOVES) | {ref: ref for ref in v5 if not ref.startswith("1.")}
    pairs |= {"1.1": "1.1", "1.2": "1.2"}
    for old, new in pairs.items():
        assert v5[new].title == v4[old].title or (old, new) == ("1.20", "1.19")
        assert set(v5[new].check_ids) == set(v4[old].check_ids), (old, new)
        assert {c.check_id for c in v5[new].checks.all()} == set(v4[old].check_ids), (old, new)
    assert v5["5.7"].check_ids == ["ec2_instance_imdsv2_required"]
    assert v5["2.1.2"].check_ids == ["s3_bucket_mfa_delete_enabled"]
    assert set(v5["2.1.4"].check_ids) == {
        "s3_bucket_public_access_blocked",
        "s3_account_public_access_blocked",
    }
    assert v5["1.3"].check_ids == v4["1.4"].check_ids == ["iam_root_no_access_key"]
    assert v5["1.19"].check_ids == v4["1.20"].check_ids == ["accessanalyzer_enabled"]
    assert v5["1.19"].title == "Ensure that IAM External Access Analyzer is enabled for all regions"


@pytest.mark.django_db
def test_status_changes_against_v4_keep_the_checks(catalog):
    v4 = {c.ref: c for c in _benchmark("4.0.1").controls.all()}
    v5 = {c.ref: c for c in _benchmark("5.0.0").controls.all()}
    # Manual in v5.0.0, still decided by checks: shown as "checked, manual in the benchmark".
    for ref in ("3.1", "3.4", "4.1"):
        assert v4[ref].automated and not v5[ref].automated, ref
        assert v5[ref].check_ids == v4[ref].check_ids != [], ref
    assert not v4["5.1.2"].automated and v5["5.1.2"].automated
    assert "CIS marks the recommendation automated" in v5["5.1.2"].description
    assert "CIS marks it manual" in v5["4.1"].description


@pytest.mark.django_db
def test_the_security_questions_control_is_no_longer_in_v5(catalog):
    questions = _benchmark("4.0.1").controls.get(ref="1.3")
    # Nor in v6.0.0 and v7.0.0, which follow v5.0.0 there.
    assert [b.version for b in versions_without(questions)] == ["5.0.0", "6.0.0", "7.0.0"]


def _accept(analyst, control, resource) -> object:
    return acceptance_services.accept_risk(
        actor=analyst,
        control=control,
        resource=resource,
        owner=analyst,
        reason="risk_owned",
        justification="Until the OS upgrade lands.",
        # The shipped risk appetite allows 30 days for high-severity controls.
        expires_at=timezone.now() + dt.timedelta(days=30),
    )


@pytest.mark.django_db
def test_acceptances_under_v4_follow_their_check_to_v5(story_account, scan_now, analyst):
    scan_now(story_account)
    services.sync_checks()
    v4, v5 = _benchmark("4.0.1"), _benchmark("5.0.0")
    web = Finding.objects.get(control_check__check_id="ec2_instance_imdsv2_required").resource
    imds = _accept(analyst, v4.controls.get(ref="5.7"), web)
    password = Finding.objects.get(
        control_check__check_id="iam_password_policy_min_length_14", status="fail"
    )
    length = _accept(analyst, v4.controls.get(ref="1.8"), password.resource)

    for acceptance, v5_ref in ((imds, "5.7"), (length, "1.7")):
        across = across_benchmarks(acceptance)
        where = {
            g.benchmark.version: [(r.control.ref, r.covered) for r in g.controls]
            for g in across.elsewhere
        }
        assert where["5.0.0"] == [(v5_ref, True)]
        assert "5.0.0" not in {b.version for b in across.no_longer_in}

    carried, lost = carry_over(diff_benchmarks(v4, v5))
    assert {(c.acceptance.pk, tuple(x.ref for x in c.controls)) for c in carried} == {
        (imds.pk, ("5.7",)),
        (length.pk, ("1.7",)),
    }
    assert lost == []
