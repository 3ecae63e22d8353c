"""Writes of the benchmark catalog and of accounts."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from findings.models import (
    _PLACEHOLDER_RE,
    KNOWN_PLACEHOLDERS,
    Benchmark,
    Check,
    CloudAccount,
    Control,
    Severity,
)

CATALOG_DIR = Path(__file__).resolve().parent.parent / "catalog"
REF_MAX_LENGTH = Control._meta.get_field("ref").max_length or 40

_CONTROL_FIELDS = {
    "ref": str,
    "title": str,
    "section": str,
    "automated": bool,
    "severity": str,
    "resource_types": list,
    "description": str,
    "rationale": str,
    "impact": str,
    "remediation_console": str,
    "remediation_cli": str,
    "terraform": str,
    "references": list,
}


@dataclass
class CatalogLoad:
    benchmark: Benchmark
    created: int
    updated: int
    unchanged: int


def _flag(bench: Any, name: str, default: bool) -> Any:
    return bench.get(name, default) if isinstance(bench, dict) else default


def _validate_catalog(data: Any, source: str) -> None:
    """Refuse a malformed catalog file before touching the database, naming each problem.

    Two benchmark keys relax the CIS rules, for benchmarks such as AWS FSBP:
    ``"profile_levels": false`` (its controls have ``"level": null``, where CIS needs 1 or 2)
    and ``"not_evaluated_controls": true`` (an automated control may be marked
    ``"evaluated": false``: no check of ours decides it yet, and it names its ``"service"`` so
    that it is listed as not evaluated, never as passing).
    """
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ValidationError(f"{source}: the catalog must be a JSON object.")
    bench = data.get("benchmark")
    if not isinstance(bench, dict) or not all(
        isinstance(bench.get(k), str) and bench.get(k) for k in ("slug", "name", "version")
    ):
        problems.append("benchmark: needs slug, name and version")
    levels = _flag(bench, "profile_levels", True)
    may_skip = _flag(bench, "not_evaluated_controls", False)
    for name, value in (("profile_levels", levels), ("not_evaluated_controls", may_skip)):
        if not isinstance(value, bool):
            problems.append(f"benchmark: '{name}' must be true or false")
    sections = {
        s.get("ref"): s.get("title") for s in data.get("sections", []) if isinstance(s, dict)
    }
    controls = data.get("controls")
    if not isinstance(controls, list) or not controls:
        problems.append("controls: needs a non-empty list")
        controls = []
    seen: set[str] = set()
    for index, control in enumerate(controls):
        where = f"controls[{index}]"
        if not isinstance(control, dict):
            problems.append(f"{where}: not an object")
            continue
        where = f"control {control.get('ref', index)}"
        for name, kind in _CONTROL_FIELDS.items():
            if not isinstance(control.get(name), kind):
                problems.append(f"{where}: '{name}' must be a {kind.__name__}")
        for name in ("ref", "section"):
            if isinstance(control.get(name), str) and len(control[name]) > REF_MAX_LENGTH:
                problems.append(f"{where}: '{name}' is longer than {REF_MAX_LENGTH} characters")
        if control.get("ref") in seen:
            problems.append(f"{where}: duplicate ref")
        seen.add(control.get("ref"))
        if control.get("section") not in sections:
            problems.append(f"{where}: unknown section {control.get('section')!r}")
        if control.get("severity") not in Severity.values:
            problems.append(f"{where}: severity must be one of {', '.join(Severity.values)}")
        if levels is False:
            if control.get("level") is not None:
                problems.append(
                    f"{where}: level must be null (the benchmark has no profile levels)"
                )
        elif control.get("level") not in (1, 2) or isinstance(control.get("level"), bool):
            problems.append(f"{where}: level must be 1 or 2")
        service = control.get("service", "")
        if not isinstance(service, str):
            problems.append(f"{where}: 'service' must be a str")
        evaluated = control.get("evaluated", True)
        if not isinstance(evaluated, bool):
            problems.append(f"{where}: 'evaluated' must be true or false")
        elif evaluated is False:
            if may_skip is not True:
                problems.append(
                    f"{where}: 'evaluated': false needs the benchmark to declare "
                    "'not_evaluated_controls': true (every automated control of this "
                    "benchmark must be decided by a check)"
                )
            if control.get("automated") is not True:
                problems.append(
                    f"{where}: only an automated control can be marked 'evaluated': false "
                    "(a manual one is decided by a person)"
                )
            if control.get("checks"):
                problems.append(
                    f"{where}: marked 'evaluated': false but names checks; drop one or the other"
                )
            if not (isinstance(service, str) and service.strip()):
                problems.append(
                    f"{where}: marked 'evaluated': false, so it must name its 'service' (shown "
                    'as "no collector reads <service>")'
                )
        checks = control.get("checks", [])
        if not isinstance(checks, list) or not all(isinstance(c, str) and c for c in checks):
            problems.append(f"{where}: 'checks' must be a list of check ids")
        elif len(set(checks)) != len(checks):
            problems.append(f"{where}: a check is named twice in 'checks'")
        for name in (
            "description",
            "rationale",
            "impact",
            "remediation_console",
            "remediation_cli",
            "terraform",
        ):
            text = control.get(name)
            unknown = (
                sorted(set(_PLACEHOLDER_RE.findall(text)) - KNOWN_PLACEHOLDERS)
                if isinstance(text, str)
                else []
            )
            if unknown:
                problems.append(
                    f"{where}: '{name}' has placeholders nothing fills: "
                    + ", ".join("{{ " + placeholder + " }}" for placeholder in unknown)
                )
    if problems:
        raise ValidationError([f"{source}: {p}" for p in problems])


def catalog_files() -> list[Path]:
    return sorted(CATALOG_DIR.glob("*.json"))


@transaction.atomic
def load_catalog(path: Path) -> CatalogLoad:
    """Create or update one benchmark's controls from a catalog file; idempotent.

    Loading the same file twice changes nothing. Controls are never deleted here: findings and
    acceptances refer to them.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValidationError(f"{path}: cannot read the catalog ({exc}).") from None
    _validate_catalog(data, Path(path).name)
    meta = data["benchmark"]
    published = dt.date.fromisoformat(meta["published"]) if meta.get("published") else None
    benchmark, _ = Benchmark.objects.get_or_create(
        slug=meta["slug"], version=meta["version"], defaults={"name": meta["name"]}
    )
    bench_changes = {"name": meta["name"], "published": published, "url": meta.get("url", "")}
    if any(getattr(benchmark, k) != v for k, v in bench_changes.items()):
        for key, value in bench_changes.items():
            setattr(benchmark, key, value)
        benchmark.save()
    sections = {s["ref"]: s["title"] for s in data["sections"]}
    existing = {c.ref: c for c in benchmark.controls.all()}
    # Natural order of refs (1.2 < 1.10 < 2.1.1), over the file's and any kept from before.
    refs = sorted({*existing, *(item["ref"] for item in data["controls"])}, key=Control.sort_key)
    positions = {ref: number for number, ref in enumerate(refs, start=1)}
    new: list[Control] = []
    changed: list[Control] = []
    unchanged = 0
    fields = ["position"]
    for item in data["controls"]:
        values = {
            "title": item["title"],
            "section_ref": item["section"],
            "section_title": sections[item["section"]],
            "level": item["level"],
            "automated": item["automated"],
            "severity": item["severity"],
            "resource_types": item["resource_types"],
            "description": item["description"],
            "rationale": item["rationale"],
            "impact": item["impact"],
            "remediation_console": item["remediation_console"],
            "remediation_cli": item["remediation_cli"],
            "terraform": item["terraform"],
            "references": item["references"],
            "check_ids": item.get("checks", []),
            "service": item.get("service", ""),
            "evaluated": item.get("evaluated", True),
        }
        fields = ["position", *values]
        control = existing.get(item["ref"])
        if control is None:
            new.append(
                Control(
                    benchmark=benchmark,
                    ref=item["ref"],
                    position=positions[item["ref"]],
                    **values,
                )
            )
        elif any(getattr(control, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(control, key, value)
            changed.append(control)
        else:
            unchanged += 1
    # In bulk: every test and every fresh install loads each shipped catalog (hundreds of
    # controls); one statement per control made that the slow part.
    Control.objects.bulk_create(new, batch_size=500)
    moved = [c for c in existing.values() if c.position != positions[c.ref]]
    for control in moved:
        control.position = positions[control.ref]
    by_pk = {c.pk: c for c in [*changed, *moved]}
    if by_pk:
        Control.objects.bulk_update(list(by_pk.values()), fields, batch_size=500)
    created, updated = len(new), len(changed)
    return CatalogLoad(benchmark, created, updated, unchanged)


@transaction.atomic
def register_account(
    *,
    account_id: str,
    name: str,
    role_arn: str = "",
    external_id: str = "",
    regions: list[str] | None = None,
    endpoint_url: str = "",
    scan_interval_hours: int = 24,
    enabled: bool | None = None,
) -> tuple[CloudAccount, bool]:
    """Create or update an account by its id, validating everything first.

    ``enabled`` None leaves an existing account's switch as it is (new accounts are enabled).
    Returns (account, created).
    """
    account = CloudAccount.objects.filter(account_id=account_id).first()
    created = account is None
    if account is None:
        account = CloudAccount(account_id=account_id)
    account.name = name
    account.role_arn = role_arn
    account.external_id = external_id
    account.regions = sorted(set(regions or []))
    account.endpoint_url = endpoint_url
    account.scan_interval_hours = scan_interval_hours
    if enabled is not None:
        account.enabled = enabled
    account.full_clean()
    account.save()
    return account, created


@transaction.atomic
def sync_checks() -> dict[str, int]:
    """Create or update a Check row per registered check and link it to its controls.

    A check decides the controls its registration names (``@check(controls=...)``, refs of
    the benchmark it was written for) and every control whose catalog entry lists it
    (``"checks"``), in any benchmark. Every automated control must be decided by at least one
    registered check, unless its catalog marked it ``"evaluated": false`` (then no check may
    decide it: it is listed as not evaluated), and a catalog may name only registered checks.
    Checks no longer shipped are kept (findings refer to them) but marked inactive.
    """
    from findings.checks import REGISTRY

    all_controls = list(Control.objects.select_related("benchmark"))
    controls = {(c.benchmark.slug, c.benchmark.version, c.ref): c for c in all_controls}
    declared: dict[str, list[Control]] = {}
    problems: list[str] = []
    for control in all_controls:
        for check_id in control.check_ids:
            if check_id not in REGISTRY:
                problems.append(
                    f"{control.benchmark} {control.ref} names check {check_id}, which is not "
                    "registered."
                )
            declared.setdefault(check_id, []).append(control)
    decided = {c.pk for cs in declared.values() for c in cs} | {
        controls[(s.benchmark, s.version, ref)].pk
        for s in REGISTRY.values()
        for ref in s.controls
        if (s.benchmark, s.version, ref) in controls
    }
    problems.extend(
        f"{c.benchmark} {c.ref} is automated but no registered check decides it."
        for c in all_controls
        if c.automated and c.evaluated and c.pk not in decided
    )
    problems.extend(
        f"{c.benchmark} {c.ref} is marked not evaluated, but a registered check decides it; "
        "drop the mark."
        for c in all_controls
        if not c.evaluated and c.pk in decided
    )
    if problems:
        raise ValidationError(problems)
    existing = {c.check_id: c for c in Check.objects.prefetch_related("controls")}
    counts = {"created": 0, "updated": 0, "unchanged": 0, "retired": 0}
    for spec in REGISTRY.values():
        wanted = list(declared.get(spec.check_id, []))
        for ref in spec.controls:
            key = (spec.benchmark, spec.version, ref)
            if key not in controls:
                raise ValidationError(
                    f"Check {spec.check_id} evidences {spec.benchmark} {spec.version} {ref}, "
                    "which the catalog does not hold; load the catalog first."
                )
            if controls[key] not in wanted:
                wanted.append(controls[key])
        values = {
            "title": spec.title,
            "service": spec.service,
            "resource_type": spec.resource_type,
            "active": True,
        }
        row = existing.get(spec.check_id)
        if row is None:
            row = Check.objects.create(check_id=spec.check_id, **values)
            counts["created"] += 1
        elif any(getattr(row, k) != v for k, v in values.items()) or {
            c.pk for c in row.controls.all()
        } != {c.pk for c in wanted}:
            for key, value in values.items():
                setattr(row, key, value)
            row.save()
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
            continue
        row.controls.set(wanted)
    retired = Check.objects.exclude(check_id__in=list(REGISTRY)).filter(active=True)
    counts["retired"] = retired.update(active=False)
    return counts
