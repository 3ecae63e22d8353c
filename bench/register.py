"""The risk register as of a date over 10,000 acceptances with 100,000 history rows.

    .venv/bin/python bench/register.py [--acceptances 10000] [--events 100000] [--runs 5]
                                       [--reuse]

Builds (or with --reuse, keeps) acceptances over a year of history on PostgreSQL with
bulk_create: each one's creation snapshot, approval, sign-off, coverage changes, edits,
extensions, four-eyes changes, and for many an end (revoked or expired), like the services
write them. Then times the register rebuilt from the history as of mid-year and as of the end
(median of ``--runs``), the page (first page of rows, through Django's test client), and each
export of the mid-year register: CSV, JSON, PDF and the bundle. Prints the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

from common import median, reproduce, setup_django

START = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
END = dt.datetime(2026, 6, 30, tzinfo=dt.UTC)


def build(acceptances: int, events: int) -> None:
    from django.contrib.auth.models import Group, User
    from django.db import connection

    from acceptances.models import AcceptanceEvent, RiskAcceptance, Zone
    from findings.models import CloudAccount, Control, Resource

    rng = random.Random(14)
    t0 = time.perf_counter()
    owners = User.objects.bulk_create(
        [User(username=f"owner-{i}", email=f"owner-{i}@example.com") for i in range(200)]
    )
    approvers = User.objects.bulk_create([User(username=f"approver-{i}") for i in range(10)])
    viewer, _ = User.objects.get_or_create(username="bench-viewer")
    viewer.groups.add(Group.objects.get(name="viewer"))
    account = CloudAccount.objects.create(account_id="999900000014", name="bench")
    resources = Resource.objects.bulk_create(
        [
            Resource(
                account=account,
                region="eu-west-1",
                scan_unit="eu-west-1",
                resource_type="AWS::EC2::Instance",
                arn=f"arn:aws:ec2:eu-west-1:999900000014:instance/i-{i:017x}",
                name=f"web-{i}",
                first_seen=START,
            )
            for i in range(acceptances)
        ],
        batch_size=2000,
    )
    zones = Zone.objects.bulk_create([Zone(name=f"zone-{i}", rules={}) for i in range(20)])
    controls = list(Control.objects.filter(benchmark__version="2.0.0").order_by("position"))
    ratings = ["low", "medium", "high", "critical"]

    rows = []
    plans = []
    per = max(3, events // acceptances)
    for i in range(acceptances):
        owner = owners[i % len(owners)]
        # A few zone-scoped ones (one per control and zone), the rest on one resource each.
        zone = zones[i % len(zones)] if i < len(zones) * 10 else None
        control = controls[(i // len(zones)) % len(controls)] if zone else controls[i % 40]
        created = START + dt.timedelta(minutes=rng.randrange(0, 300 * 24 * 60))
        expires = created + dt.timedelta(days=rng.choice([30, 60, 90, 180, 365]))
        likelihood, impact = rng.randint(1, 5), rng.randint(1, 5)
        ends = rng.random()
        state = "revoked" if ends < 0.15 else "expired" if expires < END else "active"
        rows.append(
            RiskAcceptance(
                control=control,
                zone=zone,
                resource=None if zone else resources[i],
                reason="risk_owned",
                justification=f"Bench decision {i}: =compensated by the WAF",
                owner=owner,
                created_by=owner,
                state=state,
                expires_at=expires,
                likelihood=likelihood,
                impact=impact,
                residual_rating=ratings[min(3, likelihood * impact // 6)],
                owner_signed_off_at=created,
                revoked_at=END if state == "revoked" else None,
            )
        )
        plans.append((created, expires, state, owner, likelihood, impact))
    RiskAcceptance.objects.bulk_create(rows, batch_size=2000)

    history = []
    for acceptance, (created, expires, state, owner, likelihood, impact) in zip(
        rows, plans, strict=True
    ):
        at = created
        rating = acceptance.residual_rating
        history.append(
            AcceptanceEvent(
                acceptance=acceptance,
                action="proposed",
                actor=owner,
                at=at,
                changes={
                    "justification": [None, acceptance.justification],
                    "reason": [None, "risk_owned"],
                    "reason_detail": [None, ""],
                    "owner": [None, owner.username],
                    "expires_at": [None, expires.isoformat()],
                    "treatment": [None, "retain"],
                    "likelihood": [None, likelihood],
                    "impact": [None, impact],
                    "residual_rating": [None, rating],
                    "compensating_measures": [None, ""],
                    "state": [None, "proposed"],
                    "owner_signed_off_at": [None, created.isoformat()],
                },
            )
        )
        at += dt.timedelta(hours=rng.randint(1, 48))
        history.append(
            AcceptanceEvent(
                acceptance=acceptance,
                action="approved",
                actor=approvers[rng.randrange(10)],
                at=at,
                changes={"state": ["proposed", "active"]},
            )
        )
        covered = rng.randint(1, 20)
        history.append(
            AcceptanceEvent(
                acceptance=acceptance,
                action="coverage",
                at=at,
                changes={"covered": [None, covered]},
            )
        )
        end = min(expires, END)
        for _ in range(per - 4):
            at += dt.timedelta(hours=rng.randint(1, 240))
            if at >= end:
                break
            kind = rng.random()
            if kind < 0.6:
                new = max(0, covered + rng.randint(-3, 3))
                history.append(
                    AcceptanceEvent(
                        acceptance=acceptance,
                        action="coverage",
                        at=at,
                        changes={"covered": [covered, new]},
                    )
                )
                covered = new
            elif kind < 0.8:
                history.append(
                    AcceptanceEvent(
                        acceptance=acceptance,
                        action="edited",
                        actor=owner,
                        at=at,
                        changes={"justification": ["...", f"Reviewed on {at:%Y-%m-%d}"]},
                    )
                )
            elif kind < 0.9:
                history.append(
                    AcceptanceEvent(
                        acceptance=acceptance,
                        action="change_proposed",
                        actor=owner,
                        at=at,
                        changes={"expires_at": [expires.isoformat(), None]},
                    )
                )
            else:
                history.append(
                    AcceptanceEvent(
                        acceptance=acceptance,
                        action="change_rejected",
                        actor=approvers[rng.randrange(10)],
                        at=at,
                    )
                )
        if state == "revoked":
            history.append(
                AcceptanceEvent(
                    acceptance=acceptance,
                    action="revoked",
                    actor=approvers[0],
                    at=max(at, END - dt.timedelta(days=1)),
                    changes={"state": ["active", "revoked"]},
                )
            )
        elif state == "expired":
            history.append(
                AcceptanceEvent(
                    acceptance=acceptance,
                    action="expired",
                    at=expires + dt.timedelta(minutes=2),
                    changes={"state": ["active", "expired"]},
                )
            )
    # Top up to the asked number with coverage moves, spread over the year.
    while len(history) < events:
        acceptance = rows[rng.randrange(len(rows))]
        n = rng.randint(0, 20)
        history.append(
            AcceptanceEvent(
                acceptance=acceptance,
                action="coverage",
                at=START + dt.timedelta(minutes=rng.randrange(0, 365 * 24 * 60)),
                changes={"covered": [n, n + 1]},
            )
        )
    AcceptanceEvent.objects.bulk_create(history, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"built {RiskAcceptance.objects.count():,} acceptances, "
        f"{AcceptanceEvent.objects.count():,} history rows in {time.perf_counter() - t0:.1f} s"
    )


def timed(runs: int, work) -> tuple[float, object]:
    seconds, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - t0)
    return median(seconds), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--acceptances", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep the history built before")
    args = parser.parse_args()
    setup_django(fresh=not args.reuse)
    if not args.reuse:
        build(args.acceptances, args.events)

    from django.contrib.auth.models import User
    from django.test import Client
    from django.test.utils import override_settings

    from acceptances import register_export
    from acceptances.models import AcceptanceEvent
    from acceptances.register import rebuild

    total = AcceptanceEvent.objects.count()
    mid = START + (END - START) / 2
    print(f"history: {total:,} events")
    for label, at in (("mid-year", mid), ("year end", END)):
        seconds, register = timed(args.runs, lambda at=at: rebuild(at))
        counts = register.counts()
        states = ", ".join(f"{label} {n:,}" for _k, label, n in counts["state"])
        print(
            f"register as of {label} ({at:%Y-%m-%d}): {len(register.entries):,} acceptances "
            f"({states}) rebuilt in {seconds * 1000:.0f} ms (median of {args.runs})"
        )
    register = rebuild(mid)
    for fmt in register_export.FORMATS:
        runs = max(1, args.runs // 2)
        seconds, body = timed(runs, lambda fmt=fmt: register_export.render(register, fmt))
        print(
            f"export {fmt:6}: {len(body) / 1e6:7.2f} MB in {seconds * 1000:6.0f} ms "
            f"(median of {runs}, after the rebuild)"
        )
    client = Client()
    client.force_login(User.objects.get(username="bench-viewer"))
    with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False):
        seconds, response = timed(
            args.runs, lambda: client.get("/register/", {"at": mid.strftime("%Y-%m-%dT%H:%M")})
        )
        assert response.status_code == 200, response.status_code
        print(f"register page (rebuild, counts, first 100 rows): {seconds * 1000:.0f} ms")
        seconds, response = timed(
            max(1, args.runs // 2),
            lambda: client.get(
                "/register/export/", {"at": mid.strftime("%Y-%m-%dT%H:%M"), "format": "bundle"}
            ),
        )
        assert response.status_code == 200, response.status_code
        print(f"bundle download end to end (rebuild and all three files): {seconds * 1000:.0f} ms")
    reproduce("register.py", "--reuse")


if __name__ == "__main__":
    main()
