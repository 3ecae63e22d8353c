"""Recommendations CIS calls manual that the IAM APIs can still decide (hardware MFA on the root
user, the root user not used for daily tasks, no access keys made at a console user's setup) are
decided by checks in every loaded CIS version, found by their titles: a person still decides the
control ("checked, manual in the benchmark"), with our findings as evidence.

The story's simulated account has no root MFA at all (moto's account summary says
AccountMFAEnabled 0, as 1.5 shows), so 1.6 fails on it; moto writes no root row in the
credential report, so 1.7 fails saying root use cannot be told; the story has no IAM user, so
1.11 has nothing to judge."""

from __future__ import annotations

import pytest

from findings import queries, services
from findings.models import Benchmark, Finding

pytestmark = pytest.mark.django_db

# (words every version's title holds, the check that decides it)
MANUAL_IAM = (
    (("hardware MFA", "root"), "iam_root_hardware_mfa_enabled"),
    (("Eliminate use of the 'root' user",), "iam_root_not_used_recently"),
    (("access keys", "initial", "setup", "console password"), "iam_user_no_access_key_at_setup"),
)


# v7.0.0 dropped "no access keys at initial setup" (v4.0.1 1.11).
DROPPED = {("7.0.0", "iam_user_no_access_key_at_setup")}


def _by_title(benchmark: Benchmark, words: tuple[str, ...]):
    matches = [c for c in benchmark.controls.all() if all(w in c.title for w in words)]
    assert len(matches) <= 1, (benchmark.version, words, [c.ref for c in matches])
    return matches[0] if matches else None


def test_every_cis_version_has_them_decided_by_checks_and_manual(catalog) -> None:
    services.sync_checks()
    versions = Benchmark.objects.filter(slug="cis-aws-foundations")
    assert set(versions.values_list("version", flat=True)) >= {"2.0.0", "3.0.0", "4.0.1"}
    for benchmark in versions:
        for words, check_id in MANUAL_IAM:
            control = _by_title(benchmark, words)
            if control is None:
                assert (benchmark.version, check_id) in DROPPED, (benchmark.version, words)
                continue
            assert not control.automated, (benchmark.version, control.ref)
            # v2.0.0 through the check's registration, later versions through "checks".
            deciding = list(control.checks.values_list("check_id", flat=True))
            assert deciding == [check_id], (benchmark.version, control.ref)


def test_the_story_scan_shows_them_as_evidence_of_manual_controls(story_account, scan_now) -> None:
    scan_now(story_account)
    root = f"arn:aws:iam::{story_account.account_id}:root"
    verdicts = {
        (f.control_check.check_id, f.resource.arn): f.status
        for f in Finding.objects.filter(
            control_check__check_id__in=[check_id for _words, check_id in MANUAL_IAM]
        ).select_related("control_check", "resource")
    }
    assert verdicts == {
        ("iam_root_hardware_mfa_enabled", root): "fail",
        ("iam_root_not_used_recently", root): "fail",
    }
    for version in ("2.0.0", "4.0.1"):
        benchmark = Benchmark.objects.get(slug="cis-aws-foundations", version=version)
        posture = {row.control.ref: row for row in queries.get_control_posture(benchmark)}
        for words, _check_id in MANUAL_IAM[:2]:
            row = posture[_by_title(benchmark, words).ref]
            # Counted as failing evidence, but the status is a person's: "manual".
            assert (row.failing, row.status) == (1, "manual"), (version, row.control.ref)
