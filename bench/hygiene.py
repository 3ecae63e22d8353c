"""The exception hygiene page at scale: 10,000 acceptances with 100,000 history rows.

    .venv/bin/python bench/hygiene.py [--acceptances 10000] [--events 100000] [--runs 7]
                                      [--reuse]

Builds (or with --reuse, keeps) acceptances in every state over two years, each with its
history (proposals and their decisions, edits, extensions, expiries and renewals, refused
self-approvals), decided and pending proposed changes, resources gone, written with
``bulk_create`` on PostgreSQL (``BENCH_DATABASE_URL``, default database ``cspm_bench_hygiene``).
Then times, median of ``--runs``: the page's figures (``acceptances.hygiene.get_hygiene``,
with its query count), the page through the Django test client, and the heaviest lists behind
its numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/cspm_bench_hygiene"


def build(acceptances: int, events: int) -> None:
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.utils import timezone

    from acceptances.models import AcceptanceChange, AcceptanceEvent, RiskAcceptance, Zone
    from findings.models import CloudAccount, Control, Resource

    rng = random.Random(14)
    now = timezone.now()
    t0 = time.perf_counter()
    users = []
    for name, role in (
        ("bench-viewer", "viewer"),
        ("bench-a1", "approver"),
        ("bench-a2", "approver"),
    ):
        user, _ = User.objects.get_or_create(username=name)
        user.groups.add(Group.objects.get(name=role))
        users.append(user)
    _viewer, first, second = users
    controls = list(Control.objects.filter(benchmark__version="2.0.0").order_by("pk")[:10])
    per_control = -(-acceptances // len(controls))
    account = CloudAccount.objects.create(account_id="999900000014", name="bench-hygiene")
    resources = Resource.objects.bulk_create(
        Resource(
            account=account,
            region="eu-west-1",
            scan_unit="eu-west-1",
            resource_type="AWS::EC2::Instance",
            arn=f"arn:aws:ec2:eu-west-1:999900000014:instance/i-{i:017x}",
            name=f"i-{i:017x}",
            first_seen=now - dt.timedelta(days=800),
            # One in fifty is gone.
            gone_at=now - dt.timedelta(days=rng.randint(1, 300)) if i % 50 == 0 else None,
        )
        for i in range(per_control)
    )
    zones = Zone.objects.bulk_create(
        Zone(name=f"bench zone {i}", rules={"tags": [f"Shard={i}"]}) for i in range(20)
    )

    # created_at is auto_now_add: the history needs it in the past, as the rows were made.
    created_field = RiskAcceptance._meta.get_field("created_at")
    created_field.auto_now_add = False
    states = RiskAcceptance.State
    rows = []
    for i in range(acceptances):
        control = controls[i // per_control]
        created = now - dt.timedelta(days=rng.uniform(0, 730))
        kind = i % 20
        state = (
            states.PROPOSED
            if kind == 0
            else states.AWAITING_OWNER
            if kind == 1
            else states.SUSPENDED
            if kind == 2
            else states.EXPIRED
            if kind in (3, 4, 5)
            else states.REVOKED
            if kind == 6
            else states.ACTIVE
        )
        never = i % 3 == 0 and state != states.EXPIRED
        zone = zones[i % len(zones)] if i % per_control < len(zones) else None
        rows.append(
            RiskAcceptance(
                control=control,
                resource=None if zone else resources[i % per_control],
                zone=zone,
                reason="risk_owned",
                justification="bench",
                owner=first,
                created_by=first,
                approved_by=second if state != states.PROPOSED else None,
                approved_at=created + dt.timedelta(days=2) if state != states.PROPOSED else None,
                state=state,
                created_at=created,
                expires_at=None
                if never
                else (
                    created + dt.timedelta(days=rng.randint(30, 60))
                    if state == states.EXPIRED
                    else now + dt.timedelta(days=rng.randint(1, 400))
                ),
                revoked_at=now - dt.timedelta(days=1) if state == states.REVOKED else None,
                revoked_by=second if state == states.REVOKED else None,
                suspended_at=now if state == states.SUSPENDED else None,
                review_flagged_at=now - dt.timedelta(days=rng.randint(0, 60))
                if i % 25 == 0
                else None,
                renewals=0,
            )
        )
    made = RiskAcceptance.objects.bulk_create(rows, batch_size=2000)
    created_field.auto_now_add = True

    Action = AcceptanceEvent.Action
    history = []
    changes = []
    per = max(2, events // acceptances)
    for i, acceptance in enumerate(made):
        at = acceptance.created_at
        proposed = i % 2 == 0
        history.append(
            AcceptanceEvent(
                acceptance=acceptance,
                action=Action.PROPOSED if proposed else Action.CREATED,
                actor=first,
                at=at,
                changes={"state": [None, "proposed" if proposed else "active"]},
            )
        )
        if proposed and acceptance.state != states.PROPOSED:
            if i % 10 == 0:
                history.append(
                    AcceptanceEvent(
                        acceptance=acceptance,
                        action=Action.APPROVAL_REFUSED,
                        actor=first,
                        at=at + dt.timedelta(hours=1),
                        note="An acceptance must be approved by someone other than its creator.",
                    )
                )
            history.append(
                AcceptanceEvent(
                    acceptance=acceptance,
                    action=Action.APPROVED,
                    actor=second,
                    at=at + dt.timedelta(hours=rng.randint(2, 24 * 20)),
                    changes={"state": ["proposed", "active"]},
                )
            )
        # Renewals: a third of the acceptances once or more.
        for _ in range(rng.choice((0, 0, 1, 2, 3)) if i % 3 == 0 else 0):
            at = at + dt.timedelta(days=rng.randint(5, 60))
            history.append(AcceptanceEvent(acceptance=acceptance, action=Action.EXPIRED, at=at))
            history.append(
                AcceptanceEvent(
                    acceptance=acceptance,
                    action=Action.REACCEPTED,
                    actor=second,
                    at=at + dt.timedelta(days=1),
                    changes={"state": ["expired", "active"]},
                )
            )
        if i % 5 == 0:
            proposed_at = at + dt.timedelta(days=rng.randint(1, 30))
            pending = i % 50 == 0 and acceptance.state == states.ACTIVE
            decided_at = None if pending else proposed_at + dt.timedelta(hours=rng.randint(1, 500))
            changes.append(
                AcceptanceChange(
                    acceptance=acceptance,
                    terms={"justification": "wider"},
                    proposed_by=first,
                    proposed_at=proposed_at,
                    state="pending" if pending else ("approved" if i % 2 else "rejected"),
                    decided_by=None if pending else second,
                    decided_at=decided_at,
                )
            )
        # The rest of its share: edits and coverage counts, as scans and people make them.
        while sum(1 for e in history[-per:] if e.acceptance is acceptance) < per:
            at = at + dt.timedelta(days=rng.randint(1, 20))
            history.append(
                AcceptanceEvent(
                    acceptance=acceptance,
                    action=rng.choice((Action.EDITED, Action.COVERAGE, Action.EXTENDED)),
                    actor=second,
                    at=min(at, now),
                    changes={"covered": [1, 2]},
                )
            )
    AcceptanceEvent.objects.bulk_create(history, batch_size=5000)
    AcceptanceChange.objects.bulk_create(changes, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"built: {RiskAcceptance.objects.count():,} acceptances, "
        f"{AcceptanceEvent.objects.count():,} history rows, "
        f"{AcceptanceChange.objects.count():,} proposed changes, "
        f"{Resource.objects.count():,} resources in {time.perf_counter() - t0:.1f} s"
    )


def timed(runs: int, work) -> tuple[float, object]:
    """Median milliseconds of ``runs`` calls (after one warm-up), and the last result."""
    from common import median

    result = work()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = work()
        samples.append((time.perf_counter() - t0) * 1000)
    return median(samples), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--acceptances", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="keep the database built before")
    args = parser.parse_args()
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_DB)
    os.environ["ALLOWED_HOSTS"] = "testserver"
    from common import reproduce, setup_django

    setup_django(fresh=not args.reuse)

    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from acceptances.hygiene import get_hygiene

    if not args.reuse:
        build(args.acceptances, args.events)

    with CaptureQueriesContext(connection) as queries:
        figures = get_hygiene()
    ms, figures = timed(args.runs, get_hygiene)
    print(f"\nfigures (get_hygiene): {ms:.0f} ms median of {args.runs}, {len(queries)} queries")
    for name, count in figures.counts.items():
        print(f"  {name:<20} {count:>7,}")
    for name in ("awaiting_approval", "awaiting_signoff"):
        waiting = getattr(figures, name)
        print(f"  {name:<20} oldest {waiting.oldest}, median {waiting.median}")
    for name in ("proposals_recent", "proposals_all", "changes_recent", "changes_all"):
        times = getattr(figures, name)
        print(f"  {name:<20} {times.count:>7,} decided, median {times.median}")
    print(f"  {'refused':<20} {figures.refused_recent:,} (90 days), {figures.refused_all:,} (all)")

    client = Client()
    client.force_login(User.objects.get(username="bench-viewer"))

    def page(path: str):
        def get():
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            return response

        return get

    print()
    for path in (
        "/hygiene/",
        "/acceptances/",  # the list unfiltered: what the lists below add to it
        "/acceptances/?hygiene=no_end",
        "/acceptances/?hygiene=renewed_often",
        "/acceptances/?hygiene=review_due",
        "/acceptances/?hygiene=decided_recently",
        "/acceptances/?state=proposed&sort=waiting",
        "/audit/?action=change_decided",
    ):
        ms, _ = timed(args.runs, page(path))
        print(f"{path:<45} {ms:>7.0f} ms (median of {args.runs}, test client)")
    reproduce("hygiene.py", "--reuse")


if __name__ == "__main__":
    main()
