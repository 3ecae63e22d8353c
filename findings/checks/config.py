"""CIS AWS Foundations v2.0.0 check 3.5 (AWS Config enabled in all regions).

Read from the ``config`` collector (see ``findings.aws.config``), one region at a time. The
region passes when one of its configuration recorders, as in the benchmark's audit:

* records all supported resource types (``recordingGroup.allSupported`` true),
* is recording (``recording`` true), and
* last delivered successfully (``lastStatus`` ``SUCCESS``; ``PENDING`` and ``FAILURE`` fail).

Global resource types (IAM) need recording in one region only (the benchmark's console steps:
"needs to be enabled in 1 region only"), so ``includeGlobalResourceTypes`` is reported in the
evidence but not required of every region. The finding is attached to the region's settings
pseudo-resource.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check


def _problems(recorder: Mapping[str, Any], status: Mapping[str, Any]) -> list[str]:
    group = recorder.get("recordingGroup") or {}
    problems: list[str] = []
    if not group.get("allSupported"):
        problems.append("does not record all supported resource types")
    if not status.get("recording"):
        problems.append("is not recording")
    elif status.get("lastStatus") != "SUCCESS":
        problems.append(f"last status is {status.get('lastStatus') or 'unknown'}, not SUCCESS")
    return problems


@check(
    "config_recorder_recording_all_resources",
    controls=["3.5"],
    service="config",
    resource_type="AWS::Config::RegionalSettings",
    title="AWS Config records all resource types in the region",
)
def config_recorder_recording_all_resources(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    arn = unit.regional_settings_arn("config")
    region = data.get("region") or unit.region
    statuses = {s.get("name"): s for s in data.get("statuses", [])}
    channels = [c.get("name") for c in data.get("delivery_channels", [])]
    recorders = list(data.get("recorders", []))
    findings: list[dict[str, Any]] = []
    for recorder in recorders:
        status = statuses.get(recorder.get("name"), {})
        problems = _problems(recorder, status)
        group = recorder.get("recordingGroup") or {}
        entry = {
            "recorder": recorder.get("name"),
            "recordingGroup": group,
            "recording": status.get("recording"),
            "lastStatus": status.get("lastStatus"),
            "lastErrorCode": status.get("lastErrorCode"),
            "delivery_channels": channels,
        }
        if not problems:
            globals_note = (
                "including global resource types"
                if group.get("includeGlobalResourceTypes")
                else "global resource types are recorded elsewhere, if at all"
            )
            yield spec.result(
                arn,
                True,
                f"Recorder '{recorder.get('name')}' in {region} records all supported resource "
                f"types ({globals_note}) and its last status is SUCCESS.",
                entry,
            )
            return
        findings.append({**entry, "problem": " and ".join(problems)})
    if not recorders:
        yield spec.result(
            arn,
            False,
            f"AWS Config has no configuration recorder in {region}.",
            {"recorders": [], "delivery_channels": channels},
        )
        return
    yield spec.result(
        arn,
        False,
        f"No configuration recorder in {region} records all resource types successfully: "
        + "; ".join(f"'{f['recorder']}' {f['problem']}" for f in findings)
        + ".",
        {"recorders": findings},
    )
