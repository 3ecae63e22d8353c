"""Enabling benchmarks: a scan runs only the checks enabled benchmarks' controls are decided
by; enabling one whose checks already ran shows its posture at once, and one whose checks never
ran says "not evaluated yet" until the next scan, never "pass". The command lists and switches
them; the default benchmark is always an enabled one."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from findings.models import Benchmark, Check, Finding
from findings.queries import NOT_EVALUATED_YET, get_control_posture, get_default_benchmark
from findings.services import sync_checks
from findings.services.benchmarks import set_benchmark_enabled
from findings.services.scans import mapped_checks

pytestmark = pytest.mark.django_db

# Among CIS v2.0.0, v3.0.0 and v4.0.1 (the benchmarks these tests keep enabled): decided only
# by v2.0.0 3.3 (its registration), and only by v4.0.1 5.1.2 (its catalog).
V2_ONLY = "cloudtrail_bucket_not_public"
V4_ONLY = "ec2_security_group_no_cifs_from_internet"
KEPT = ("2.0.0", "3.0.0", "4.0.1")


@pytest.fixture(autouse=True)
def _v2_to_v4_only(request) -> None:
    """Every other shipped benchmark (later CIS versions, FSBP) disabled, as a team that has
    not enabled them would have it; the tests switch these three."""
    if "catalog" in request.fixturenames or "story_account" in request.fixturenames:
        request.getfixturevalue("catalog")  # loaded first, then switched
        Benchmark.objects.exclude(slug="cis-aws-foundations", version__in=KEPT).update(
            enabled=False
        )


def _bench(version: str) -> Benchmark:
    return Benchmark.objects.get(slug="cis-aws-foundations", version=version)


def _row(version: str, ref: str):
    benchmark = _bench(version)
    control = benchmark.controls.get(ref=ref)
    return get_control_posture(benchmark, control_ids=[control.pk])[0]


def _switch(version: str, enabled: bool) -> None:
    set_benchmark_enabled(_bench(version), enabled)


def test_mapped_checks_follow_the_enabled_benchmarks(catalog) -> None:
    sync_checks()
    assert {V2_ONLY, V4_ONLY} <= mapped_checks()

    _switch("2.0.0", False)  # its registration refs are v2.0.0's: they no longer count
    assert V2_ONLY not in mapped_checks()
    assert "ec2_instance_imdsv2_required" in mapped_checks()  # v3 and v4 use it too

    _switch("4.0.1", False)
    assert V4_ONLY not in mapped_checks()
    _switch("3.0.0", True)  # already enabled: nothing changes
    assert "ec2_instance_imdsv2_required" in mapped_checks()


def test_a_scan_runs_only_enabled_checks_and_enabling_needs_no_rescan(
    story_account, scan_now, aws_front
) -> None:
    _switch("2.0.0", False)
    _switch("4.0.1", False)
    aws_front.calls.clear()

    scan_now(story_account)

    assert not Finding.objects.filter(control_check__check_id__in=[V2_ONLY, V4_ONLY]).exists()
    assert ("rds", "DescribeDBClusters") not in set(aws_front.calls)  # only v4 reads clusters
    imdsv2_findings = Finding.objects.filter(control_check__check_id="ec2_instance_imdsv2_required")
    assert imdsv2_findings.filter(status="fail").exists()

    # Enabled again, no scan: what the shared checks found shows at once...
    _switch("2.0.0", True)
    _switch("4.0.1", True)
    for version, ref in (("2.0.0", "5.6"), ("4.0.1", "5.7")):
        row = _row(version, ref)
        assert row.failing >= 1 and row.status == "fail" and row.note == ""
    # ...and controls whose checks never ran say so, never "pass".
    for version, ref in (("2.0.0", "3.3"), ("4.0.1", "5.1.2")):
        row = _row(version, ref)
        assert row.status == "not evaluated" and row.note == NOT_EVALUATED_YET
        assert row.evaluated == 0

    scan_now(story_account)  # the next scan evaluates them

    assert Finding.objects.filter(control_check__check_id=V4_ONLY).exists()
    row = _row("4.0.1", "5.1.2")
    assert row.note == "" and row.evaluated >= 1 and row.status != "not evaluated"
    # The story's trail logs to no public bucket the check reads: it ran and found nothing to
    # judge, which is recorded, so the control no longer waits for a scan.
    assert Check.objects.get(check_id=V2_ONLY).first_evaluated_at is not None
    assert _row("2.0.0", "3.3").note == ""


def test_the_default_benchmark_is_always_an_enabled_one(catalog, settings) -> None:
    settings.CSPM_DEFAULT_BENCHMARK = "cis-aws-foundations@2.0.0"
    assert get_default_benchmark() == _bench("2.0.0")

    _switch("2.0.0", False)  # the setting names a disabled one: the newest enabled CIS
    assert get_default_benchmark() == _bench("4.0.1")
    _switch("4.0.1", False)
    assert get_default_benchmark() == _bench("3.0.0")

    with pytest.raises(ValidationError, match="only enabled benchmark"):
        _switch("3.0.0", False)
    assert _bench("3.0.0").enabled


def test_the_command_lists_benchmarks_with_their_counts(catalog, capsys) -> None:
    sync_checks()
    call_command("benchmarks")
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "cis-aws-foundations@2.0.0" in x)
    assert line.startswith("enabled")
    controls = _bench("2.0.0").controls.count()
    manual = _bench("2.0.0").controls.filter(automated=False, checks__isnull=True).count()
    # No scan ran yet: every control some check decides is not evaluated.
    expected = f"{controls} controls, 0 evaluated, {manual} manual, {controls - manual} not"
    assert expected in line


def test_the_command_enables_and_disables_by_slug_and_version(catalog, capsys) -> None:
    call_command("benchmarks", disable=["cis-aws-foundations@2.0.0"])
    out = capsys.readouterr().out
    assert "cis-aws-foundations@2.0.0: disabled." in out
    assert not _bench("2.0.0").enabled
    assert any(
        x.startswith("disabled") and "cis-aws-foundations@2.0.0" in x for x in out.splitlines()
    )

    call_command("benchmarks", enable=["cis-aws-foundations@2.0.0"])
    assert "cis-aws-foundations@2.0.0: enabled." in capsys.readouterr().out
    assert _bench("2.0.0").enabled


@pytest.mark.parametrize("name", ["cis-aws-foundations@9.9.9", "nope@1.0.0", "2.0.0"])
def test_the_command_refuses_an_unknown_benchmark_changing_nothing(catalog, name) -> None:
    with pytest.raises(CommandError, match="is loaded; name one as slug@version") as exc:
        call_command("benchmarks", disable=["cis-aws-foundations@3.0.0", name])
    assert "cis-aws-foundations@2.0.0" in str(exc.value)  # lists what is loaded
    assert _bench("3.0.0").enabled  # the known one was not switched either


def test_the_command_refuses_to_disable_the_last_enabled_benchmark(catalog) -> None:
    _switch("2.0.0", False)
    _switch("3.0.0", False)
    with pytest.raises(CommandError, match="only enabled benchmark"):
        call_command("benchmarks", disable=["cis-aws-foundations@4.0.1"])
