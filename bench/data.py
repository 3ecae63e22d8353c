"""Synthetic estates for the benchmarks: accounts, resources, findings, written at scale.

Findings are written through the real ingest service (COPY on PostgreSQL), so what the
benchmarks read is exactly what a scan would have stored.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Estate:
    account: object
    check_ids: list[str]
    arns: list[str]
    unit: object


def resources_and_checks(account_id: str, resources: int, checks: int, control_ref: str = "5.6"):
    """Register ``checks`` bench checks evidencing ``control_ref``; build ``resources`` refs."""
    from findings.checks.base import ResourceRef, Unit
    from findings.models import Check, CloudAccount, Control

    # The benchmarks start from a fresh database (common.setup_django(fresh=True)).
    account = CloudAccount.objects.create(account_id=account_id, name="bench")
    control = Control.objects.get(ref=control_ref)
    check_ids = []
    for i in range(checks):
        check, _ = Check.objects.get_or_create(
            check_id=f"bench_check_{i}",
            defaults={"title": "bench", "service": "bench", "resource_type": "AWS::EC2::Instance"},
        )
        check.controls.add(control)
        check_ids.append(check.check_id)
    unit = Unit(account.account_id, "eu-west-1")
    refs = {}
    for i in range(resources):
        arn = f"arn:aws:ec2:eu-west-1:{account.account_id}:instance/i-{i:017x}"
        refs[arn] = ResourceRef(
            arn,
            "AWS::EC2::Instance",
            "eu-west-1",
            name=f"i-{i:017x}",
            tags={"Environment": "prod" if i % 2 else "dev", "Shard": str(i % 10)},
            configuration={"InstanceType": "t3.micro"},
        )
    return account, check_ids, refs, unit


def results(refs, check_ids, flip: frozenset[int] = frozenset()):
    """One result per resource and check; a third fail. ``flip`` inverts chosen results."""
    from findings.checks.base import Result

    out = []
    n = len(check_ids)
    for r, arn in enumerate(refs):
        for c, check_id in enumerate(check_ids):
            fail = (r + c) % 3 == 0
            if (r * n + c) in flip:
                fail = not fail
            out.append(
                Result(
                    check_id,
                    arn,
                    "fail" if fail else "pass",
                    "HttpTokens is optional: IMDSv1 is still allowed"
                    if fail
                    else "IMDSv2 is required",
                    {"MetadataOptions": {"HttpTokens": "optional" if fail else "required"}},
                )
            )
    return out


def write_estate(account_id: str, resources: int, checks: int):
    """Create an estate of resources × checks findings through ingest; return its parts."""
    from django.db import transaction
    from django.utils import timezone

    from findings.models import Scan
    from findings.scanner import UnitOutcome
    from findings.services.ingest import ingest_unit

    account, check_ids, refs, unit = resources_and_checks(account_id, resources, checks)
    outcome = UnitOutcome(unit, refs, results(refs, check_ids), 0, 0.0)
    scan = Scan.objects.create(account=account, state="running")
    with transaction.atomic():
        ingest_unit(scan, outcome, timezone.now())
    return account, check_ids, refs, unit


REGIONS = ("us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2")


def write_spread_estate(accounts: int, resources: int, checks_per_resource: int = 10):
    """An estate spread like a real one: ``accounts`` accounts × four regions, ``resources`` in
    all, each judged by ``checks_per_resource`` of the catalog's real checks (so every control
    of the benchmark has findings), a third failing. Returns the accounts."""
    from django.db import transaction
    from django.utils import timezone

    from findings.checks.base import ResourceRef, Result, Unit
    from findings.models import Check, CloudAccount, Scan
    from findings.scanner import UnitOutcome
    from findings.services.ingest import ingest_unit

    check_ids = list(
        Check.objects.filter(controls__isnull=False).distinct().values_list("check_id", flat=True)
    )
    per_unit = max(1, resources // (accounts * len(REGIONS)))
    created = []
    for a in range(accounts):
        account = CloudAccount.objects.create(account_id=f"{999910000000 + a}", name=f"bench-{a}")
        created.append(account)
        scan = Scan.objects.create(account=account, state="running")
        for region in REGIONS:
            refs: dict[str, ResourceRef] = {}
            out: list[Result] = []
            for i in range(per_unit):
                arn = f"arn:aws:ec2:{region}:{account.account_id}:instance/i-{i:017x}"
                refs[arn] = ResourceRef(
                    arn,
                    "AWS::EC2::Instance",
                    region,
                    name=f"web-{a}-{region}-{i}",
                    tags={"Environment": "prod" if i % 2 else "dev", "Shard": str(i % 10)},
                    configuration={"InstanceType": "t3.micro"},
                )
                for c in range(checks_per_resource):
                    check_id = check_ids[(i + c * 5) % len(check_ids)]
                    fail = (i + c) % 3 == 0
                    out.append(
                        Result(
                            check_id,
                            arn,
                            "fail" if fail else "pass",
                            "Misconfigured: the setting is off" if fail else "Configured",
                            {"Setting": "off" if fail else "on"},
                        )
                    )
            # Results of one check for one resource must be unique.
            unique = {(r.check_id, r.resource_arn): r for r in out}
            unit = Unit(account.account_id, region)
            outcome = UnitOutcome(unit, refs, list(unique.values()), 0, 0.0)
            with transaction.atomic():
                ingest_unit(scan, outcome, timezone.now())
        Scan.objects.filter(pk=scan.pk).update(
            state="succeeded", finished_at=timezone.now(), started_at=timezone.now()
        )
    return created
