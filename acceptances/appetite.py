"""Risk appetite: which ``AppetiteRule`` rows apply to an acceptance, and what they allow.

A rule applies when each criterion it sets matches: its zone holds the acceptance's scope (a
resource in the zone, or the zone itself; the built-in zone holds everything), the control's
severity, and a residual rating at or above ``min_rating``. Every applying rule must allow the
terms; the strictest one on each point is the one named in a refusal, so a person reads which
rule to ask about ("Risk appetite rule “Critical: at most 30 days” allows at most 30 days").

Everything below ``rules_for`` is pure: rules and values in, limits or a ``ValidationError``
(keyed by the field refused) out. The services call it on create, on any expiry change, on a
renewal and on approval; the forms call ``allowed_presets`` to offer only what is allowed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone

from findings.models import SEVERITY_RANK

ROLE_RANK = {"": 0, "approver": 1, "admin": 2}


@dataclass(frozen=True)
class Limits:
    """What the applying rules allow together, each point with the rule that sets it."""

    rules: tuple = field(default=())
    max_term_days: int | None = None
    term_rule: object | None = None
    allow_never: bool = True
    never_rule: object | None = None
    max_renewals: int | None = None
    renewals_rule: object | None = None
    approver_role: str = ""
    role_rule: object | None = None

    def latest_end(self, now: dt.datetime) -> dt.datetime | None:
        """The latest end allowed for a decision taken at ``now``: the end of the day
        ``max_term_days`` ahead (in the site's time zone), so "until that date" is allowed."""
        if self.max_term_days is None:
            return None
        last_day = timezone.localtime(now + dt.timedelta(days=self.max_term_days)).date()
        return timezone.make_aware(
            dt.datetime.combine(last_day, dt.time(23, 59, 59)), timezone.get_default_timezone()
        )


def applies(rule, zone_ids: Iterable[int], severity: str, rating: str) -> bool:
    """Whether ``rule`` applies to an acceptance in ``zone_ids`` (the zones holding its scope)
    of a control of ``severity`` with residual ``rating`` (empty: not assessed; a rule with a
    minimum rating then applies, to be safe)."""
    if rule.zone_id is not None and rule.zone_id not in set(zone_ids):
        return False
    if rule.severity and rule.severity != severity:
        return False
    below = rule.min_rating and rating and SEVERITY_RANK[rating] < SEVERITY_RANK[rule.min_rating]
    return not below


def limits(rules: Iterable) -> Limits:
    """The strictest of each point over ``rules`` (ties: the first by name)."""
    rules = sorted(rules, key=lambda r: r.name)
    term_rule = min(
        (r for r in rules if r.max_term_days is not None),
        key=lambda r: r.max_term_days,
        default=None,
    )
    never_rule = next((r for r in rules if not r.allow_never), None)
    renewals_rule = min(
        (r for r in rules if r.max_renewals is not None),
        key=lambda r: r.max_renewals,
        default=None,
    )
    role_rule = max(
        (r for r in rules if r.approver_role),
        key=lambda r: ROLE_RANK.get(r.approver_role, 0),
        default=None,
    )
    return Limits(
        rules=tuple(rules),
        max_term_days=term_rule.max_term_days if term_rule else None,
        term_rule=term_rule,
        allow_never=never_rule is None,
        never_rule=never_rule,
        max_renewals=renewals_rule.max_renewals if renewals_rule else None,
        renewals_rule=renewals_rule,
        approver_role=role_rule.approver_role if role_rule else "",
        role_rule=role_rule,
    )


def _named(rule) -> str:
    return f"Risk appetite rule “{rule.name}”"


def check_term(
    lim: Limits, expires_at: dt.datetime | None, now: dt.datetime, field: str = "expires_at"
) -> None:
    """Refuse an end the rules do not allow, naming the rule."""
    if expires_at is None:
        if not lim.allow_never:
            raise ValidationError(
                {field: f"{_named(lim.never_rule)} does not allow an acceptance with no end."}
            )
        if lim.max_term_days is not None:
            raise ValidationError(
                {
                    field: f"{_named(lim.term_rule)} allows at most {lim.max_term_days} days "
                    f"(until {lim.latest_end(now):%Y-%m-%d}); an acceptance with no end is not."
                }
            )
        return
    latest = lim.latest_end(now)
    if latest is not None and expires_at > latest:
        raise ValidationError(
            {
                field: f"{_named(lim.term_rule)} allows at most {lim.max_term_days} days "
                f"(until {timezone.localtime(latest):%Y-%m-%d})."
            }
        )


def check_renewal(lim: Limits, renewals: int, field: str = "renewals") -> None:
    """Refuse a renewal beyond the rules' count (``renewals``: how many were made already)."""
    if lim.max_renewals is not None and renewals >= lim.max_renewals:
        times = "no renewal" if lim.max_renewals == 0 else f"{lim.max_renewals} renewal(s)"
        raise ValidationError(
            {
                field: f"{_named(lim.renewals_rule)} allows {times}; this acceptance was "
                f"renewed {renewals} time(s). Accept the risk anew, or fix it."
            }
        )


def check_approver(lim: Limits, roles: Iterable[str], field: str = "approval") -> None:
    """Refuse an approval by someone below the rules' approver role (``roles``: the groups the
    approver holds; a superuser passes ``["admin"]``)."""
    if not lim.approver_role:
        return
    held = max((ROLE_RANK.get(role, 0) for role in roles), default=0)
    if held < ROLE_RANK[lim.approver_role]:
        raise ValidationError(
            {
                field: f"{_named(lim.role_rule)} requires approval by "
                f"{'an admin' if lim.approver_role == 'admin' else 'an approver'}."
            }
        )


def allowed_presets(
    lim: Limits, presets: Mapping[str, int], base: dt.datetime, now: dt.datetime
) -> dict[str, bool]:
    """Which expiry choices the rules allow: the day presets (counting from ``base``), "date"
    (always: the date itself is checked) and "never"."""
    latest = lim.latest_end(now)
    allowed = {
        key: latest is None or base + dt.timedelta(days=days) <= latest
        for key, days in presets.items()
    }
    allowed["date"] = True
    allowed["never"] = lim.allow_never and lim.max_term_days is None
    return allowed


def describe(lim: Limits, now: dt.datetime) -> str:
    """One sentence of what the rules allow, for the forms; empty when nothing limits it."""
    parts = []
    if lim.max_term_days is not None:
        parts.append(
            f"at most {lim.max_term_days} days (until {lim.latest_end(now):%Y-%m-%d}, "
            f"rule “{lim.term_rule.name}”)"
        )
    if not lim.allow_never and lim.max_term_days is None:
        parts.append(f"no acceptance without an end (rule “{lim.never_rule.name}”)")
    if lim.max_renewals is not None:
        parts.append(f"{lim.max_renewals} renewal(s) (rule “{lim.renewals_rule.name}”)")
    if lim.approver_role:
        parts.append(f"approval by an {lim.approver_role} (rule “{lim.role_rule.name}”)")
    return ("Risk appetite allows " + "; ".join(parts) + ".") if parts else ""


# --- Reading the rules (the only part that queries) ---------------------------------------------


def scope_zone_ids(resource, zone) -> set[int]:
    """The zones holding an acceptance's scope: the zone itself, or the zones the resource is
    a member of; the built-in zone (which stores no memberships) holds everything."""
    from acceptances.models import Zone, ZoneMembership

    ids = set(Zone.objects.filter(is_builtin=True).values_list("pk", flat=True))
    if zone is not None:
        ids.add(zone.pk)
    if resource is not None:
        ids |= set(
            ZoneMembership.objects.filter(resource=resource).values_list("zone_id", flat=True)
        )
    return ids


def limits_for(*, control, resource=None, zone=None, rating: str, resources=()) -> Limits:
    """The limits of the rules that apply to an acceptance of ``control`` on this scope with
    residual ``rating``; with ``resources`` (the dialog's selection, one acceptance each), the
    rules that apply to any of them."""
    from acceptances.models import AppetiteRule

    scopes = [(r, None) for r in resources] or [(resource, zone)]
    all_rules = list(AppetiteRule.objects.all())
    chosen: dict[int, object] = {}
    for one_resource, one_zone in scopes:
        zone_ids = scope_zone_ids(one_resource, one_zone)
        for rule in all_rules:
            if applies(rule, zone_ids, control.severity, rating):
                chosen[rule.pk] = rule
    return limits(chosen.values())


def roles_of(user) -> list[str]:
    """The role groups ``user`` holds (a superuser counts as an admin)."""
    if user is None:
        return []
    if user.is_superuser:
        return ["admin"]
    return list(user.groups.values_list("name", flat=True))
