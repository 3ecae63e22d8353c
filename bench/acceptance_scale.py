"""Risk acceptance at scale: one million findings, a zone-scoped acceptance covering ~100,000.

    .venv/bin/python bench/acceptance_scale.py [--resources 100000] [--checks 10]

Prints the seconds to define the zone, to accept the control in it (coverage materialized), to
revoke it and to expire one, each with how many findings it covered.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from common import reproduce, setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--checks", type=int, default=10)
    args = parser.parse_args()
    setup_django(fresh=True)

    from data import write_estate
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from acceptances import services
    from findings.models import Control, Finding

    t0 = time.perf_counter()
    write_estate("999900000002", args.resources, args.checks)
    total = Finding.objects.count()
    print(f"estate: {total:,} findings written in {time.perf_counter() - t0:.1f} s")
    # As autovacuum would have done by the time anyone accepts anything: planner statistics.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_staff": True})
    admin.groups.add(Group.objects.get(name="admin"))
    admin = User.objects.get(pk=admin.pk)  # fresh permission cache
    control = Control.objects.get(ref="5.6")

    t0 = time.perf_counter()
    zone = services.save_zone(
        actor=admin, name="shards 0-2", rules={"tags": ["Shard in (0, 1, 2)"]}
    )
    zone_seconds = time.perf_counter() - t0
    members = zone.memberships.count()

    def accept(expires_at=None):
        t = time.perf_counter()
        acceptance = services.accept_risk(
            actor=admin,
            control=control,
            zone=zone,
            owner=admin,
            reason="risk_owned",
            justification="bench",
            expires_at=expires_at,
        )
        return acceptance, time.perf_counter() - t

    # 5.6 is of high severity: the shipped risk appetite allows it 90 days at most.
    acceptance, accept_seconds = accept(expires_at=timezone.now() + dt.timedelta(days=30))
    covered = acceptance.covered_findings.count()
    t0 = time.perf_counter()
    services.revoke_acceptance(acceptance, actor=admin)
    revoke_seconds = time.perf_counter() - t0

    soon = timezone.now() + dt.timedelta(seconds=2)
    acceptance, _ = accept(expires_at=soon)
    time.sleep(max(0.0, (soon - timezone.now()).total_seconds()) + 0.1)
    t0 = time.perf_counter()
    expired = services.expire_due_acceptances()
    expire_seconds = time.perf_counter() - t0
    assert expired == [acceptance.pk]
    assert not Finding.objects.filter(acceptance__isnull=False).exists()

    reminder_seconds, reminded, digests = _reminders(admin, control)

    print(f"zone over {members:,} resources: defined in {zone_seconds:.2f} s")
    print(f"accept 5.6 in the zone: {accept_seconds:.2f} s, covering {covered:,} findings")
    print(f"revoke it: {revoke_seconds:.2f} s")
    print(f"expire a second one (expiry job): {expire_seconds:.2f} s")
    print(
        f"reminder job: {reminded:,} acceptances due the same day, {digests} digests, "
        f"{reminder_seconds:.2f} s"
    )
    reproduce("acceptance_scale.py", f"--resources {args.resources} --checks {args.checks}")


def _reminders(admin, control, count: int = 10_000, owners: int = 200) -> tuple[float, int, int]:
    """10,000 resource-scoped acceptances expiring within the day, owned by 200 people."""
    from django.contrib.auth.models import User
    from django.test.utils import override_settings
    from django.utils import timezone

    from acceptances.models import RiskAcceptance
    from acceptances.notifications import send_expiry_reminders
    from findings.models import Resource

    people = User.objects.bulk_create(
        [User(username=f"owner-{i}", email=f"owner-{i}@example.com") for i in range(owners)]
    )
    resources = list(Resource.objects.order_by("pk").values_list("pk", flat=True)[:count])
    due = timezone.now() + dt.timedelta(hours=12)
    RiskAcceptance.objects.bulk_create(
        [
            RiskAcceptance(
                control=control,
                resource_id=pk,
                reason="risk_owned",
                justification="bench",
                owner=people[i % owners],
                created_by=admin,
                expires_at=due,
            )
            for i, pk in enumerate(resources)
        ],
        batch_size=2000,
    )
    # The mail goes to Django's in-memory outbox: the job's own work is what is measured.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        t0 = time.perf_counter()
        report = send_expiry_reminders()
        seconds = time.perf_counter() - t0
    return seconds, len(report.reminders), len(report.sent)


if __name__ == "__main__":
    main()
