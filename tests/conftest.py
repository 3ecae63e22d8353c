"""Shared fixtures: personas, the loaded catalog, and factories for scan results.

Servers (moto, SMTP, Celery worker) live in ``tests/plugins`` and start only for tests that ask
for them, so unit tests of pure logic run without any.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.utils import timezone

from cspm.roles import ADMIN, ANALYST, APPROVER, VIEWER

pytest_plugins = [
    "tests.plugins.aws",
    "tests.plugins.worker",
    "tests.plugins.smtp",
    "tests.plugins.broker",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the embedded SQLite run, skip what needs PostgreSQL."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (run with DATABASE_URL set)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _story_benchmark() -> None:
    """The story was audited against CIS AWS Foundations v2.0.0: pages, exports and workers
    default to it in the tests (the product defaults to the newest CIS version loaded;
    tests/findings/test_benchmarks_side_by_side.py covers that)."""
    import os

    from django.conf import settings

    settings.CSPM_DEFAULT_BENCHMARK = "cis-aws-foundations@2.0.0"
    os.environ["CSPM_DEFAULT_BENCHMARK"] = "cis-aws-foundations@2.0.0"


@pytest.fixture(autouse=True)
def _fresh_aws_sessions():
    """Each test assumes roles anew: cached sessions would hide what a test set up."""
    from findings.aws.session import forget_sessions

    forget_sessions()
    yield
    forget_sessions()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Posture counts are cached; a test starts from an empty cache, as a new deployment does."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def committed_db(transactional_db) -> None:
    """Committed rows, for another thread or process to read. Each such test flushes the
    database afterwards, data migrations' rows included: put the roles, the built-in zone and
    the shipped risk appetite back first."""
    import importlib

    from django.apps import apps

    from acceptances.models import Zone
    from cspm.roles import sync_roles

    sync_roles(apps)
    Zone.objects.get_or_create(
        is_builtin=True,
        defaults={
            "name": "Entire infrastructure",
            "description": "Every resource of every connected account.",
        },
    )
    importlib.import_module("acceptances.migrations.0012_risk_register").shipped_appetite(
        apps, None
    )


def _persona(username: str, role: str | None, staff: bool = True) -> User:
    user = User.objects.create_user(
        username=username, email=f"{username}@example.com", password="correct horse battery"
    )
    user.is_staff = staff
    user.save(update_fields=["is_staff"])
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def admin_user(db) -> User:
    return _persona("alice-admin", ADMIN)


@pytest.fixture
def approver(db) -> User:
    return _persona("arthur-approver", APPROVER)


@pytest.fixture
def approver2(db) -> User:
    return _persona("ada-approver", APPROVER)


@pytest.fixture
def analyst(db) -> User:
    return _persona("ann-analyst", ANALYST)


@pytest.fixture
def viewer(db) -> User:
    return _persona("victor-viewer", VIEWER)


@pytest.fixture
def outsider(db) -> User:
    """Logged in, but holds no role: must be refused everything."""
    return _persona("oscar-outsider", None)


@pytest.fixture
def catalog(db):
    """The shipped CIS AWS Foundations v2.0.0 catalog, loaded."""
    from findings import services

    results = [services.load_catalog(path) for path in services.catalog_files()]
    return next(r.benchmark for r in results if r.benchmark.version == "2.0.0")


_counter = itertools.count(1)


@pytest.fixture
def make_account(db) -> Callable[..., object]:
    from findings.models import CloudAccount

    def make(account_id: str | None = None, name: str = "prod", **extra) -> CloudAccount:
        number = next(_counter)
        return CloudAccount.objects.create(
            account_id=account_id or f"{100000000000 + number}", name=f"{name}-{number}", **extra
        )

    return make


@pytest.fixture
def make_finding(db, catalog) -> Callable[..., object]:
    """Create a resource and a finding of a check that evidences the given control refs."""
    from findings.models import Check, Finding, Resource

    def make(
        *,
        account,
        control_ref: str = "2.1.2",
        status: str = "fail",
        resource: Resource | None = None,
        resource_type: str = "AWS::S3::Bucket",
        region: str = "us-east-1",
        name: str | None = None,
        tags: dict | None = None,
        check_id: str | None = None,
        now: dt.datetime | None = None,
    ) -> Finding:
        now = now or timezone.now()
        if resource is None:
            name = name or f"res-{next(_counter)}"
            resource = Resource.objects.create(
                account=account,
                region=region,
                scan_unit="global" if resource_type == "AWS::S3::Bucket" else region,
                resource_type=resource_type,
                arn=f"arn:aws:s3:::{name}",
                name=name,
                tags=tags or {},
                first_seen=now,
            )
        check, created = Check.objects.get_or_create(
            check_id=check_id or f"test_check_{control_ref.replace('.', '_')}",
            defaults={
                "title": f"Test check for {control_ref}",
                "service": "s3",
                "resource_type": resource.resource_type,
            },
        )
        if created:
            check.controls.add(catalog.controls.get(ref=control_ref))
        return Finding.objects.create(
            control_check=check,
            resource=resource,
            account=account,
            region=resource.region,
            status=status,
            first_seen=now,
            status_changed_at=now,
        )

    return make


@pytest.fixture
def story(aws):
    """The story's web stack, seeded in the simulated account (moto server on loopback)."""
    from simulation.account import seed_story_stack

    return seed_story_stack(aws, bucket_name="story-images")


@pytest.fixture
def story_account(catalog, story, aws):
    """The story's account, registered to scan one region (plus the global unit): quick."""
    from findings.services import register_account

    account, _ = register_account(
        account_id=story.account_id,
        name="story",
        endpoint_url=aws,
        regions=["us-east-1"],
        scan_interval_hours=0,
    )
    return account


@pytest.fixture
def scan_now(django_capture_on_commit_callbacks):
    """Run a whole scan as the workers would (eager tasks), commit callbacks included, and
    check how it ended (``expect=None`` leaves that to the test)."""
    from findings.models import Scan
    from findings.services import scans

    def run(account, expect: str | None = Scan.State.SUCCEEDED) -> Scan:
        with django_capture_on_commit_callbacks(execute=True):
            scan = scans.start_scan(account)
        scan.refresh_from_db()
        if expect is not None:
            assert scan.state == expect, scan.error
        return scan

    return run


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"
