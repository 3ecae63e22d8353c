"""The CIS AWS Foundations v2.0.0 catalog ships whole and loads idempotently."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from findings import services
from findings.models import Benchmark, Check, Control

pytestmark = pytest.mark.django_db

CATALOG = services.CATALOG_DIR / "cis_aws_foundations_2.0.0.json"


def test_it_holds_all_64_recommendations_of_v2_0_0(catalog):
    controls = list(catalog.controls.all())
    assert len(controls) == 64
    per_section = Counter(c.ref.split(".")[0] for c in controls)
    assert per_section == {"1": 22, "2": 9, "3": 11, "4": 16, "5": 6}
    # In the benchmark's own order: 1.2 before 1.10, 2.1.4 before 2.2.1.
    refs = [c.ref for c in controls]
    assert refs.index("1.2") < refs.index("1.10") < refs.index("2.1.1") < refs.index("2.2.1")


def test_it_marks_automated_and_manual_recommendations(catalog):
    by_ref = {c.ref: c for c in catalog.controls.all()}
    for ref in ("1.4", "1.5", "1.8", "2.1.1", "2.1.4", "3.1", "5.1", "5.6"):
        assert by_ref[ref].automated, ref
    for ref in ("1.1", "1.2", "1.3", "1.7", "5.5"):
        assert not by_ref[ref].automated, ref
    assert 0 < sum(c.automated for c in by_ref.values()) < 64


def test_every_control_is_documented_and_fixable_ones_carry_terraform(catalog):
    for control in catalog.controls.all():
        assert control.description and control.rationale, control.ref
        assert control.severity in {"low", "medium", "high", "critical"}, control.ref
        assert control.level in (1, 2), control.ref
    story = {
        c.ref: c for c in catalog.controls.filter(ref__in=["2.1.1", "2.1.2", "2.1.4", "5.1", "5.6"])
    }
    assert all(c.terraform for c in story.values())


def test_terraform_renders_with_a_real_resources_names(catalog):
    control = catalog.controls.get(ref="2.1.1")
    assert "bucket_name" in control.terraform_placeholders
    rendered = control.render_terraform({"bucket_name": "story-images"})
    assert "story-images" in rendered
    assert "{{ bucket_name }}" not in rendered
    assert "SecureTransport" in rendered
    imds = catalog.controls.get(ref="5.6").render_terraform({"instance_id": "i-0abc"})
    assert "http_tokens" in imds and '"required"' in imds


def test_loading_twice_changes_nothing(catalog):
    before = {c.pk: (c.title, c.terraform, c.position) for c in Control.objects.all()}
    again = services.load_catalog(CATALOG)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 64)
    # One benchmark row per shipped catalog file (v2.0.0 to v5.0.0), none added by reloading.
    assert Benchmark.objects.count() == len(services.catalog_files())
    after = {c.pk: (c.title, c.terraform, c.position) for c in Control.objects.all()}
    assert after == before


def test_the_command_reports_what_it_did(db, capsys):
    call_command("load_catalog")
    call_command("load_catalog")
    out = [line for line in capsys.readouterr().out.splitlines() if "v2.0.0" in line]
    assert out[0].endswith("64 created, 0 updated, 0 unchanged.")
    assert out[1].endswith("0 created, 0 updated, 64 unchanged.")


def test_it_can_hold_another_benchmark_beside_it(catalog, tmp_path):
    data = json.loads(CATALOG.read_text())
    data["benchmark"]["version"] = "9.9.9"
    data["controls"] = data["controls"][:3]
    other = tmp_path / "v9.json"
    other.write_text(json.dumps(data))
    before = Benchmark.objects.count()
    services.load_catalog(other)
    assert Benchmark.objects.count() == before + 1
    assert catalog.controls.count() == 64


def test_a_malformed_catalog_is_refused_with_the_bad_parts_named(db, tmp_path):
    data = json.loads(CATALOG.read_text())
    data["controls"][0]["severity"] = "apocalyptic"
    del data["controls"][1]["title"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ValidationError) as info:
        services.load_catalog(bad)
    text = " ".join(info.value.messages)
    assert "severity must be one of" in text and "'title' must be a str" in text
    assert Control.objects.count() == 0


def _second_benchmark(tmp_path, controls: list[dict]) -> object:
    data = json.loads(CATALOG.read_text())
    data["benchmark"].update(slug="example-next", name="Example next", version="1.0.0")
    data["controls"] = controls
    path = tmp_path / "next.json"
    path.write_text(json.dumps(data))
    return path


def test_a_catalog_names_the_checks_that_decide_its_controls(catalog, tmp_path):
    v2 = {c["ref"]: c for c in json.loads(CATALOG.read_text())["controls"]}
    # The IMDSv2 recommendation renumbered, decided by the same check as v2.0.0 5.6.
    moved = {**v2["5.6"], "ref": "5.7", "checks": ["ec2_instance_imdsv2_required"]}
    services.load_catalog(_second_benchmark(tmp_path, [moved]))
    services.sync_checks()
    check = Check.objects.get(check_id="ec2_instance_imdsv2_required")
    decided = {(c.benchmark.slug, c.benchmark.version, c.ref) for c in check.controls.all()}
    assert {("cis-aws-foundations", "2.0.0", "5.6"), ("example-next", "1.0.0", "5.7")} <= decided


def test_syncing_refuses_unknown_checks_and_automated_controls_nothing_decides(catalog, tmp_path):
    v2 = {c["ref"]: c for c in json.loads(CATALOG.read_text())["controls"]}
    services.load_catalog(
        _second_benchmark(
            tmp_path,
            [
                {**v2["5.6"], "ref": "9.1", "checks": ["ec2_no_such_check"]},
                {**v2["2.1.1"], "ref": "9.2", "automated": True, "checks": []},
            ],
        )
    )
    with pytest.raises(ValidationError) as info:
        services.sync_checks()
    text = " ".join(info.value.messages)
    assert "9.1 names check ec2_no_such_check, which is not registered" in text
    assert "9.2 is automated but no registered check decides it" in text


def test_a_placeholder_nothing_fills_is_refused_at_load(db, tmp_path):
    data = json.loads(CATALOG.read_text())
    data["controls"][0]["terraform"] = 'resource "x" "y" { name = "{{ bukcet_name }}" }'
    data["controls"][1]["checks"] = ["one", "one"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ValidationError) as info:
        services.load_catalog(bad)
    text = " ".join(info.value.messages)
    assert "placeholders nothing fills: {{ bukcet_name }}" in text
    assert "a check is named twice" in text


# --- Benchmarks without profile levels, and controls no check decides (AWS FSBP) -------------


def _catalog_file(tmp_path, bench: dict, controls: list[dict], name: str = "other.json"):
    data = json.loads(CATALOG.read_text())
    data["benchmark"] = {"slug": "example-best", "name": "Example", "version": "1.0.0", **bench}
    data["sections"] = [{"ref": "ECS", "title": "ECS"}, {"ref": "EC2", "title": "EC2"}]
    data["controls"] = controls
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def _control(ref: str, **changes) -> dict:
    base = {c["ref"]: c for c in json.loads(CATALOG.read_text())["controls"]}["5.6"]
    return {**base, "ref": ref, "section": ref.split(".")[0], **changes}


def test_a_cis_catalog_still_needs_level_1_or_2(db, tmp_path):
    path = _catalog_file(tmp_path, {}, [_control("EC2.8", level=None)])
    with pytest.raises(ValidationError) as info:
        services.load_catalog(path)
    assert "control EC2.8: level must be 1 or 2" in " ".join(info.value.messages)


def test_a_benchmark_without_profile_levels_needs_null_levels(db, tmp_path):
    path = _catalog_file(tmp_path, {"profile_levels": False}, [_control("EC2.8", level=1)])
    with pytest.raises(ValidationError) as info:
        services.load_catalog(path)
    assert "control EC2.8: level must be null (the benchmark has no profile levels)" in (
        " ".join(info.value.messages)
    )
    ok = _catalog_file(tmp_path, {"profile_levels": False}, [_control("EC2.8", level=None)])
    loaded = services.load_catalog(ok).benchmark
    assert loaded.controls.get(ref="EC2.8").level is None


def test_not_evaluated_needs_the_benchmark_to_allow_it(db, tmp_path):
    unchecked = _control("ECS.2", checks=[], evaluated=False, service="ECS")
    path = _catalog_file(tmp_path, {}, [unchecked])
    with pytest.raises(ValidationError) as info:
        services.load_catalog(path)
    assert (
        "control ECS.2: 'evaluated': false needs the benchmark to declare "
        "'not_evaluated_controls': true"
    ) in " ".join(info.value.messages)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"automated": False}, "only an automated control can be marked 'evaluated': false"),
        (
            {"checks": ["ec2_instance_imdsv2_required"]},
            "marked 'evaluated': false but names checks",
        ),
        ({"service": ""}, "marked 'evaluated': false, so it must name its 'service'"),
        ({"evaluated": "no"}, "'evaluated' must be true or false"),
    ],
)
def test_a_not_evaluated_control_is_automated_without_checks_and_names_its_service(
    db, tmp_path, changes, message
):
    control = {**_control("ECS.2", checks=[], evaluated=False, service="ECS"), **changes}
    path = _catalog_file(tmp_path, {"not_evaluated_controls": True}, [control])
    with pytest.raises(ValidationError) as info:
        services.load_catalog(path)
    assert f"control ECS.2: {message}" in " ".join(info.value.messages)


def test_a_marked_control_loads_and_syncs_while_unmarked_ones_still_need_a_check(catalog, tmp_path):
    marked = _control("ECS.2", checks=[], evaluated=False, service="ECS")
    decided = _control("EC2.8", checks=["ec2_instance_imdsv2_required"], service="EC2")
    path = _catalog_file(tmp_path, {"not_evaluated_controls": True}, [marked, decided])
    benchmark = services.load_catalog(path).benchmark
    services.sync_checks()  # the marked control needs no check
    ecs = benchmark.controls.get(ref="ECS.2")
    assert (ecs.evaluated, ecs.service, ecs.check_ids) == (False, "ECS", [])
    assert ecs.not_evaluated_reason == "Not evaluated: no collector reads ECS"
    assert benchmark.controls.get(ref="EC2.8").evaluated

    # In the same catalog, an automated control neither decided nor marked is refused.
    unmarked = _control("ECS.3", checks=[], service="ECS")
    again = _catalog_file(tmp_path, {"not_evaluated_controls": True}, [marked, unmarked], "2.json")
    services.load_catalog(again)
    with pytest.raises(ValidationError) as info:
        services.sync_checks()
    assert "ECS.3 is automated but no registered check decides it" in " ".join(info.value.messages)


def test_a_control_a_check_decides_cannot_be_marked_not_evaluated(catalog):
    # v2.0.0 5.6 is decided by the IMDSv2 check's own registration.
    Control.objects.filter(benchmark=catalog, ref="5.6").update(evaluated=False)
    with pytest.raises(ValidationError) as info:
        services.sync_checks()
    assert "5.6 is marked not evaluated, but a registered check decides it" in " ".join(
        info.value.messages
    )
