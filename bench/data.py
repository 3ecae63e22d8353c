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


PASSWORD = "bench-password-not-secret"  # noqa: S105
BENCH_USER = "bench-admin"


def build_triage_estate(resources: int, checks: int) -> None:
    """The triage bench's estate (``write_spread_estate`` over 4 accounts, ``resources`` ×
    ``checks`` findings), an admin ``bench-admin`` who logs in with ``PASSWORD``, a zone
    "shards 0-2" and five zone-wide acceptances on controls of the default benchmark, then
    ``VACUUM ANALYZE``. Shared by the benches that compare their figures with the triage one."""
    import datetime as dt
    import time

    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.utils import timezone

    from acceptances import services
    from findings.models import Finding
    from findings.queries import get_default_benchmark

    t0 = time.perf_counter()
    write_spread_estate(4, resources, checks)
    print(f"estate: {Finding.objects.count():,} findings in {time.perf_counter() - t0:.0f} s")
    admin, _ = User.objects.get_or_create(username=BENCH_USER, defaults={"is_staff": True})
    admin.set_password(PASSWORD)
    admin.save()
    admin.groups.add(Group.objects.get(name="admin"))
    admin = User.objects.get(pk=admin.pk)
    zone = services.save_zone(
        actor=admin, name="shards 0-2", rules={"tags": ["Shard in (0, 1, 2)"]}
    )
    # Some decisions, so that accepted counts are not all zero: on the default benchmark's
    # controls (the overview the triage bench times), which leaves the other benchmarks free
    # of acceptances (the benchmarks bench removes and enables them again).
    benchmark = get_default_benchmark()
    for control in benchmark.controls.filter(checks__isnull=False).distinct()[:5]:
        services.accept_risk(
            actor=admin,
            control=control,
            zone=zone,
            owner=admin,
            reason="risk_owned",
            justification="bench",
            # Within the shipped risk appetite whatever the control's severity.
            expires_at=timezone.now() + dt.timedelta(days=30),
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
