"""Email about risk acceptances: reminders before they expire, a notice once they have.

The product must never let an acceptance silently run out. Owners (and creators) are reminded at
each threshold of ``settings.CSPM_REMINDER_DAYS`` and told when one expires. Emails go out only
once the transaction that decided them has committed, so a rolled-back run mails nobody.

Reminders are claimed with ``ExpiryReminder`` rows (see ``_claim_many``); expiry notices ride on the
claim ``expire_due_acceptances`` already makes (its conditional UPDATE of the state).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from acceptances import services
from acceptances.models import ExpiryReminder, FixPlan, RiskAcceptance
from cspm.email import send_templated

logger = logging.getLogger(__name__)

_RELATED = ("control", "resource", "zone", "owner", "created_by")


def change_url(acceptance_id: int) -> str:
    """Absolute link to the acceptance's page, where it is extended or renewed."""
    path = reverse("acceptance-detail", args=[acceptance_id])
    return f"{settings.SITE_URL}{path}"


def _recipients(acceptance: RiskAcceptance) -> list[AbstractBaseUser]:
    """The owner, and the creator when someone else: active users with an email, one per address."""
    people = [acceptance.owner]
    if acceptance.created_by_id != acceptance.owner_id:
        people.append(acceptance.created_by)
    chosen: dict[str, AbstractBaseUser] = {}
    for person in people:
        if person.is_active and person.email:
            chosen.setdefault(person.email, person)
    return list(chosen.values())


def _display_name(user: AbstractBaseUser) -> str:
    return user.get_full_name() or user.get_username()


def _scope(acceptance: RiskAcceptance) -> tuple[str, str]:
    """(short, full) description of what the acceptance covers."""
    if acceptance.zone_id is not None:
        label = f"zone {acceptance.zone.name}"
        return label, label
    resource = acceptance.resource
    if resource.name and resource.name != resource.arn:
        return resource.name, f"{resource.name} ({resource.arn})"
    return resource.arn, resource.arn


def _item(acceptance: RiskAcceptance) -> dict[str, Any]:
    """What an email says about one acceptance: plain values, ready after the commit."""
    short, full = _scope(acceptance)
    reason = acceptance.get_reason_display()
    if acceptance.reason_detail:
        reason = f"{reason}: {acceptance.reason_detail}"
    return {
        "pk": acceptance.pk,
        "control_ref": acceptance.control.ref,
        "control_title": acceptance.control.title,
        "scope": full,
        "scope_short": short,
        "reason": reason,
        "owner": _display_name(acceptance.owner),
        "expires_at": acceptance.expires_at,
        "url": change_url(acceptance.pk),
    }


@dataclass
class _Outgoing:
    """One email to one address, listing several acceptances."""

    name: str
    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def acceptance_ids(self) -> list[int]:
        return [item["pk"] for item in self.items]


def _add(outgoing: dict[str, _Outgoing], person: AbstractBaseUser, item: dict[str, Any]) -> None:
    outgoing.setdefault(person.email, _Outgoing(_display_name(person))).items.append(item)


def _send_each(
    template: str, outgoing: dict[str, _Outgoing], extra: dict[str, Any] | None = None
) -> tuple[list[str], list[str]]:
    """Send one email per address; a failure is logged and does not stop the others.

    Each email opens its own SMTP connection, so a connection broken by one failure cannot take
    the following emails with it. Returns (delivered, failed) addresses.
    """
    delivered: list[str] = []
    failed: list[str] = []
    for address, email in outgoing.items():
        try:
            send_templated(
                template, [address], {"name": email.name, "items": email.items, **(extra or {})}
            )
        except Exception:
            logger.exception(
                "Could not send %s email to %s (acceptances %s)",
                template,
                address,
                email.acceptance_ids,
            )
            failed.append(address)
        else:
            delivered.append(address)
    return delivered, failed


# --- Reminders --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    """One acceptance reminded at one threshold, about its current expiry date."""

    acceptance_id: int
    label: str
    threshold_days: int
    expires_at: dt.datetime
    recipients: tuple[str, ...]


@dataclass
class ReminderReport:
    """What a reminder run decided and what came of it.

    ``sent`` and ``failed`` are filled in when the emails go out, after the claim commits: that
    is before ``send_expiry_reminders`` returns, unless the caller holds a transaction open.
    """

    now: dt.datetime
    dry_run: bool
    reminders: list[Reminder] = field(default_factory=list)
    # Address -> the acceptances its digest lists.
    digests: dict[str, list[int]] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def unreachable(self) -> list[int]:
        """Acceptances nobody can be reminded about (no active owner or creator with an email)."""
        return [r.acceptance_id for r in self.reminders if not r.recipients]


def reminder_thresholds() -> list[int]:
    """The configured thresholds in days, smallest first, without repeats or non-positive days."""
    return sorted({int(days) for days in settings.CSPM_REMINDER_DAYS if int(days) > 0})


def _threshold_for(expires_at: dt.datetime, now: dt.datetime, thresholds: list[int]) -> int:
    """The smallest threshold the expiry falls within (the caller knows one does)."""
    return next(days for days in thresholds if expires_at <= now + dt.timedelta(days=days))


def _due_reminders(
    now: dt.datetime, thresholds: list[int], *, lock: bool
) -> list[tuple[RiskAcceptance, int]]:
    """Active acceptances owed a reminder now, each with the one threshold it is owed.

    The threshold rule: an acceptance is owed the reminder of the *smallest* threshold T whose
    window (now, now + T days] holds its expiry, i.e. of the band (now + previous T, now + T]
    with thresholds sorted ascending, and only if no reminder for (T, its current expiry) exists.
    So with 30/7/1 an acceptance two days from expiry is owed the 7-day reminder alone (never 30
    and 7 together); a larger threshold that was missed (the job was down, or the acceptance was
    created or renewed already inside it) is skipped, not sent late; and once reminded at T it
    hears nothing more until its expiry enters the next smaller band.
    """
    bands = Q()
    lower = now
    for days in thresholds:
        upper = now + dt.timedelta(days=days)
        reminded = ExpiryReminder.objects.filter(
            acceptance=OuterRef("pk"), threshold_days=days, expires_at=OuterRef("expires_at")
        )
        bands |= Q(~Exists(reminded), expires_at__gt=lower, expires_at__lte=upper)
        lower = upper
    due = (
        RiskAcceptance.objects.filter(bands, state__in=RiskAcceptance.EXPIRING_STATES)
        .select_related(*_RELATED)
        .order_by("pk")
    )
    if lock:
        # Lock the acceptances (in pk order, so two runs cannot deadlock) for the length of the
        # claim: a renewal (update_acceptance locks the row too) then either commits first and
        # we claim its new date, or waits until our claim of the old date has committed. No-op
        # on SQLite, where the IMMEDIATE transaction already keeps every other writer out.
        due = due.select_for_update(of=("self",))
    # Soonest expiry first: the order digests list them in.
    ordered = sorted(due, key=lambda a: (a.expires_at, a.pk))
    return [(a, _threshold_for(a.expires_at, now, thresholds)) for a in ordered]


def _claim_many(
    due: list[tuple[RiskAcceptance, int, list[str]]], now: dt.datetime
) -> dict[int, ExpiryReminder]:
    """Insert the reminder rows; return those this worker won, by acceptance id.

    ``INSERT ... ON CONFLICT DO NOTHING RETURNING``, a few hundred rows per statement: RETURNING
    lists only the rows actually inserted, on PostgreSQL and on SQLite (3.35+) alike, so the
    unique constraint answers for each row which worker owns it:

    * PostgreSQL: an INSERT of a key that a concurrent, uncommitted transaction inserted waits
      for it, then skips the row if that transaction committed.
    * SQLite: one writing transaction at a time (IMMEDIATE, see settings), so a second worker
      starts after the first committed, and its insert skips the rows already there.

    The row lock taken in ``_due_reminders`` does not replace this: a worker that waited for the
    lock still acts on what it read before waiting; the constraint is what turns it away.
    """
    table = ExpiryReminder._meta.db_table
    fields = [
        ExpiryReminder._meta.get_field(name)
        for name in ("acceptance", "threshold_days", "expires_at", "sent_at", "recipients")
    ]
    columns = ", ".join(field.column for field in fields)
    won: dict[int, ExpiryReminder] = {}
    for start in range(0, len(due), 400):
        chunk = due[start : start + 400]
        params: list[Any] = []
        for acceptance, days, recipients in chunk:
            values = (acceptance.pk, days, acceptance.expires_at, now, recipients)
            params.extend(
                field.get_db_prep_save(value, connection)
                for field, value in zip(fields, values, strict=True)
            )
        rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {rows} "  # noqa: S608 - metadata names
                "ON CONFLICT (acceptance_id, threshold_days, expires_at) DO NOTHING "
                "RETURNING id, acceptance_id",
                params,
            )
            inserted = dict(cursor.fetchall())
        by_acceptance = {
            acceptance.pk: (days, recipients) for acceptance, days, recipients in chunk
        }
        expiries = {acceptance.pk: acceptance.expires_at for acceptance, _, _ in chunk}
        for pk, acceptance_id in inserted.items():
            days, recipients = by_acceptance[acceptance_id]
            won[acceptance_id] = ExpiryReminder(
                pk=pk,
                acceptance_id=acceptance_id,
                threshold_days=days,
                expires_at=expiries[acceptance_id],
                sent_at=now,
                recipients=recipients,
            )
    return won


def send_expiry_reminders(now: dt.datetime | None = None, dry_run: bool = False) -> ReminderReport:
    """Remind owners and creators of the active acceptances about to expire (see the rule in
    ``_due_reminders``): one digest per address per run, listing every acceptance it is owed.

    Safe to run from any number of workers at once: each reminder is claimed by exactly one
    (``_claim_many``), and emails go out only after the claims commit. ``dry_run`` computes the same
    report but claims and sends nothing.
    """
    now = now or timezone.now()
    report = ReminderReport(now=now, dry_run=dry_run)
    thresholds = reminder_thresholds()
    if not thresholds:
        return report
    if dry_run:
        for acceptance, days in _due_reminders(now, thresholds, lock=False):
            _plan(report, {}, acceptance, days, _recipients(acceptance), now)
        return report
    outgoing: dict[str, _Outgoing] = {}
    claims: list[ExpiryReminder] = []
    with transaction.atomic():
        due = [
            (acceptance, days, _recipients(acceptance))
            for acceptance, days in _due_reminders(now, thresholds, lock=True)
        ]
        won = _claim_many(
            [(a, days, [person.email for person in people]) for a, days, people in due], now
        )
        for acceptance, days, people in due:
            claim = won.get(acceptance.pk)
            if claim is None:
                continue  # another worker claimed it and sends it
            claims.append(claim)
            _plan(report, outgoing, acceptance, days, people, now)
        # "Last warned" on the acceptance itself, for lists and the admin (chunked: SQLite
        # caps the number of bound parameters).
        claimed = [claim.acceptance_id for claim in claims]
        for start in range(0, len(claimed), 5000):
            RiskAcceptance.objects.filter(pk__in=claimed[start : start + 5000]).update(
                warned_at=now
            )
        if outgoing:
            transaction.on_commit(partial(_deliver_reminders, report, outgoing, claims))
    return report


def _plan(
    report: ReminderReport,
    outgoing: dict[str, _Outgoing],
    acceptance: RiskAcceptance,
    days: int,
    people: list[AbstractBaseUser],
    now: dt.datetime,
) -> None:
    """Add one reminder to the report and to its recipients' digests."""
    report.reminders.append(
        Reminder(
            acceptance_id=acceptance.pk,
            label=str(acceptance),
            threshold_days=days,
            expires_at=acceptance.expires_at,
            recipients=tuple(person.email for person in people),
        )
    )
    if not people:
        logger.warning(
            "Acceptance %s expires %s and nobody can be reminded: neither its owner nor its "
            "creator is an active user with an email address",
            acceptance.pk,
            acceptance.expires_at.isoformat(),
        )
        return
    item = _item(acceptance)
    # Rounded up: the 7-day reminder says "7 days" even when sent an hour into that day.
    item["days_left"] = max(1, math.ceil((acceptance.expires_at - now) / dt.timedelta(days=1)))
    item["threshold_days"] = days
    for person in people:
        report.digests.setdefault(person.email, []).append(acceptance.pk)
        _add(outgoing, person, item)


def _deliver_reminders(
    report: ReminderReport, outgoing: dict[str, _Outgoing], claims: list[ExpiryReminder]
) -> None:
    """Send the digests (after the claims committed); release what reached nobody.

    On a failure we release the claim rather than keep it: an acceptance must never run out
    unannounced, so a reminder that reached none of its recipients (SMTP down, address refused)
    is tried again by the next run, at the cost of a rare duplicate if the server took the
    message but the reply was lost. A reminder that reached at least one recipient stays claimed
    and records only the addresses it reached: retrying it would mail the others again every
    run, for as long as one address keeps failing. Every failure is logged.
    """
    report.sent, report.failed = _send_each("expiry-reminder", outgoing)
    if report.failed:
        _release(claims, set(report.failed))


@transaction.atomic
def _release(claims: list[ExpiryReminder], failed: set[str]) -> None:
    for claim in claims:
        reached = [address for address in claim.recipients if address not in failed]
        if reached == claim.recipients:
            continue
        if reached:
            ExpiryReminder.objects.filter(pk=claim.pk).update(recipients=reached)
        else:
            ExpiryReminder.objects.filter(pk=claim.pk).delete()
            logger.warning(
                "The %s-day reminder of acceptance %s reached nobody; the next run tries again",
                claim.threshold_days,
                claim.acceptance_id,
            )


# --- Expiry -----------------------------------------------------------------------------------


def notify_expired(acceptance_ids: Iterable[int]) -> dict[str, list[int]]:
    """Tell the owner (and the creator when someone else) that these acceptances expired and
    their findings fail again: one email per address, after the caller's transaction commits.

    Returns address -> the acceptances its email lists. A failed email is logged, not retried:
    the expiry itself is recorded in the history and shows in every view.
    """
    ids = list(acceptance_ids)
    outgoing: dict[str, _Outgoing] = {}
    if not ids:
        return {}
    expired = (
        RiskAcceptance.objects.filter(pk__in=ids)
        .select_related(*_RELATED)
        .order_by("expires_at", "pk")
    )
    for acceptance in expired:
        people = _recipients(acceptance)
        if not people:
            logger.warning(
                "Acceptance %s expired and nobody can be told: neither its owner nor its creator "
                "is an active user with an email address",
                acceptance.pk,
            )
            continue
        item = _item(acceptance)
        item["failing"] = services.count_would_cover(
            acceptance.control, acceptance.resource, acceptance.zone
        )
        for person in people:
            _add(outgoing, person, item)
    if outgoing:
        transaction.on_commit(partial(_send_each, "acceptance-expired", outgoing))
    return {address: email.acceptance_ids for address, email in outgoing.items()}


def expire_and_notify(now: dt.datetime | None = None) -> list[int]:
    """Expire every due acceptance, reopen its findings, and tell the people concerned.

    ``expire_due_acceptances`` returns only the acceptances this call's conditional UPDATE
    expired, so each expiry is announced once however many workers or beat ticks run, and a
    second run, which expires nothing, notifies nobody. Returns the expired ids.
    """
    expired = services.expire_due_acceptances(now)
    if expired:
        notify_expired(expired)
    return expired


# --- Owner sign-off ---------------------------------------------------------------------------


def _signoff_item(acceptance: RiskAcceptance) -> dict[str, Any]:
    """What the owner is asked to accept: the terms, the residual rating, the end."""
    item = _item(acceptance)
    item["justification"] = acceptance.justification
    item["residual_rating"] = (
        acceptance.get_residual_rating_display() if acceptance.residual_rating else ""
    )
    item["created_by"] = _display_name(acceptance.created_by)
    item["awaiting_since"] = getattr(acceptance, "awaiting_since", None)
    return item


def _owner_to_ask(acceptance: RiskAcceptance) -> AbstractBaseUser | None:
    owner = acceptance.owner
    if owner.is_active and owner.email:
        return owner
    logger.warning(
        "Acceptance %s awaits the sign-off of %s, who cannot be asked: not an active user "
        "with an email address",
        acceptance.pk,
        owner,
    )
    return None


def send_signoff_request(acceptance_id: int) -> list[str]:
    """Ask the owner of an acceptance that just started awaiting them to sign it off.

    Queued when the change that made it await its owner commits; by the time it runs the owner
    may have signed off already (nothing to ask) or been replaced (the new owner is asked by
    their own request). Returns the addresses reached. A failure is logged, not retried: the
    reminder job asks again a day later.
    """
    acceptance = (
        RiskAcceptance.objects.filter(pk=acceptance_id, state=RiskAcceptance.State.AWAITING_OWNER)
        .select_related(*_RELATED)
        .first()
    )
    if acceptance is None:
        return []
    owner = _owner_to_ask(acceptance)
    if owner is None:
        return []
    outgoing: dict[str, _Outgoing] = {}
    _add(outgoing, owner, _signoff_item(acceptance))
    sent, _ = _send_each("signoff-request", outgoing, {"reminder": False})
    return sent


def send_signoff_reminders(now: dt.datetime | None = None) -> list[str]:
    """Remind owners of acceptances awaiting their sign-off for more than a day, then every
    ``CSPM_SIGNOFF_REMINDER_DAYS``: one digest per owner.

    Each acceptance is claimed before its email goes out (``services.claim_due_signoff_reminders``,
    a conditional UPDATE of ``signoff_reminded_at``), and the emails go out once the claims
    commit: overlapping runs never remind twice. A digest that reached nobody is released for
    the next run. Returns the addresses reached.
    """
    now = now or timezone.now()
    outgoing: dict[str, _Outgoing] = {}
    # Filled in as the emails go out, after the claims commit (see send_expiry_reminders).
    reached: list[str] = []
    with transaction.atomic():
        claimed = services.claim_due_signoff_reminders(now)
        by_pk = {acceptance.pk: acceptance for acceptance in claimed}
        for acceptance in claimed:
            owner = _owner_to_ask(acceptance)
            if owner is not None:
                _add(outgoing, owner, _signoff_item(acceptance))

        def deliver() -> None:
            sent, failed = _send_each("signoff-request", outgoing, {"reminder": True})
            reached.extend(sent)
            missed = [by_pk[pk] for address in failed for pk in outgoing[address].acceptance_ids]
            if missed:
                services.release_signoff_reminders(missed)

        if outgoing:
            transaction.on_commit(deliver)
    return reached


# --- Overdue fix plans ------------------------------------------------------------------------


def fix_plans_url() -> str:
    return f"{settings.SITE_URL}{reverse('fix-plan-list')}"


def _plan_item(plan: FixPlan, today: dt.date) -> dict[str, Any]:
    short, full = _scope(plan)  # type: ignore[arg-type] - same scope fields as an acceptance
    return {
        "pk": plan.pk,
        "control_ref": plan.control.ref,
        "control_title": plan.control.title,
        "scope": full,
        "scope_short": short,
        "owner": _display_name(plan.owner),
        "due_on": plan.due_on,
        "days_late": (today - plan.due_on).days,
        "ticket_url": plan.ticket_url,
        "url": fix_plans_url(),
    }


def send_overdue_fix_plan_reminders(now: dt.datetime | None = None) -> list[str]:
    """Tell owners (and creators) once when a fix plan passes its due date: one digest per
    address, sent with the expiry reminders. Each plan is claimed with a conditional update of
    ``overdue_warned_at``, so overlapping runs never mail the same plan twice; a plan whose
    email reached nobody is released for the next run. Returns the addresses reached."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    outgoing: dict[str, _Outgoing] = {}
    result: dict[str, list[str]] = {"sent": []}
    with transaction.atomic():
        due = FixPlan.objects.filter(
            state=FixPlan.State.OPEN, due_on__lt=today, overdue_warned_at__isnull=True
        ).select_related(*_RELATED)
        for plan in due:
            claimed = FixPlan.objects.filter(
                pk=plan.pk, state=FixPlan.State.OPEN, overdue_warned_at__isnull=True
            ).update(overdue_warned_at=now)
            if not claimed:
                continue  # another run has it
            item = _plan_item(plan, today)
            for person in _recipients(plan):  # type: ignore[arg-type] - owner and creator
                _add(outgoing, person, item)

        def deliver() -> None:
            sent, failed = _send_each("fix-plan-overdue", outgoing)
            result["sent"] = sent
            reached = {pk for address in sent for pk in outgoing[address].acceptance_ids}
            missed = {pk for address in failed for pk in outgoing[address].acceptance_ids}
            FixPlan.objects.filter(pk__in=missed - reached).update(overdue_warned_at=None)

        if outgoing:
            transaction.on_commit(deliver)
    return result["sent"]


def send_attestation_reminders(now: dt.datetime | None = None) -> list[int]:
    """Remind the author of each attestation ending within ``ATTESTATION_REMINDER_DAYS``, once.

    The claim (``services.claim_due_attestation_reminders``) commits before the emails go out:
    a second run, or a concurrent one, claims nothing and sends nothing. Returns the ids reminded.
    """
    now = now or timezone.now()
    with transaction.atomic():
        claimed = services.claim_due_attestation_reminders(now)
    for attestation in claimed:
        person = attestation.attested_by
        if not (person.is_active and person.email):
            logger.warning("Attestation %s ends soon and its author has no email", attestation.pk)
            continue
        control = attestation.control
        try:
            send_templated(
                "attestation-reminder",
                [person.email],
                {
                    "name": _display_name(person),
                    "control_ref": control.ref,
                    "control_title": control.title,
                    "attested_at": attestation.attested_at,
                    "expires_at": attestation.expires_at,
                    "days_left": max(0, math.ceil((attestation.expires_at - now).days)),
                    "url": f"{settings.SITE_URL}{reverse('control-detail', args=[control.pk])}",
                },
            )
        except Exception:
            logger.exception("Could not send the reminder of attestation %s", attestation.pk)
    return [a.pk for a in claimed]
