"""What people decided: zones, risk treatment decisions and their history.

Models hold data and pure derived logic only; every write goes through ``acceptances.services``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

from findings.models import Severity


class Zone(models.Model):
    """A named scope over accounts, regions, resource types and tags.

    ``rules`` is a JSON object validated by ``acceptances.zones.parse_rules``::

        {"account_ids": ["123456789012"], "regions": ["eu-west-1"],
         "resource_types": ["AWS::S3::Bucket"], "tags": ["Environment=prod", "Team in (web, api)"]}

    Every listed criterion must hold (AND); the values within one list are alternatives (OR).
    An empty rule set matches everything.
    """

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    rules = models.JSONField(default=dict, blank=True)
    is_builtin = models.BooleanField(
        default=False, help_text="The built-in zone 'Entire infrastructure' cannot be edited."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    membership_updated_at = models.DateTimeField(null=True, blank=True)
    # The meaning of rules the membership was last evaluated with (zone_query.RULES_VERSION):
    # when a rule's meaning is fixed, stored zones are re-evaluated after the next migrate.
    rules_version = models.PositiveSmallIntegerField(default=0)
    resources = models.ManyToManyField(
        "findings.Resource", through="ZoneMembership", related_name="zones", blank=True
    )

    class Meta:
        ordering = ["-is_builtin", "name"]
        constraints = [
            # One built-in zone at most.
            models.UniqueConstraint(
                fields=["is_builtin"], condition=Q(is_builtin=True), name="zone_single_builtin"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ZoneMembership(models.Model):
    """Evaluated zone membership, kept current by the zone and ingest services."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="memberships")
    resource = models.ForeignKey(
        "findings.Resource", on_delete=models.CASCADE, related_name="zone_memberships"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["zone", "resource"], name="zonemembership_unique"),
        ]
        indexes = [
            # "Which zones hold this resource", when a scan brings new findings.
            models.Index(fields=["resource"], name="zonemembership_resource_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.resource_id} in {self.zone_id}"


class Treatment(models.TextChoices):
    """Risk treatment options of ISO 31000:2018 §6.5.2."""

    AVOID = "avoid", "Avoid the risk (stop the activity)"
    TAKE = "take", "Take or increase the risk to pursue an opportunity"
    REMOVE_SOURCE = "remove_source", "Remove the risk source"
    CHANGE_LIKELIHOOD = "change_likelihood", "Change the likelihood"
    CHANGE_CONSEQUENCES = "change_consequences", "Change the consequences"
    SHARE = "share", "Share the risk (contract, insurance)"
    RETAIN = "retain", "Retain the risk by informed decision"


class Reason(models.TextChoices):
    RISK_OWNED = "risk_owned", "Risk owned"
    TRANSFERRED = "transferred", "Risk transferred"
    AVOIDED = "avoided", "Risk avoided"
    MITIGATED = "mitigated", "Mitigated by other controls"
    NOT_RELEVANT = "not_relevant", "Not relevant here"
    CUSTOM = "custom", "Other (explained)"


class RiskAcceptance(models.Model):
    """A treatment decision on a control, for one resource or for a whole zone.

    While ``state`` is active, every failing finding of the control on the scope is *accepted*:
    counted apart from failing, never as passing.
    """

    class State(models.TextChoices):
        PROPOSED = "proposed", "Proposed (awaiting approval)"
        AWAITING_OWNER = "awaiting_owner", "Awaiting the owner's sign-off"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended (a compensating control fails)"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    # States in which an acceptance holds its scope: a second one on the same scope is refused.
    # Only ACTIVE covers findings: a proposal, an acceptance whose owner has not signed off the
    # residual risk, and a suspended one leave their findings failing.
    LIVE_STATES = (State.PROPOSED, State.AWAITING_OWNER, State.ACTIVE, State.SUSPENDED)
    # Live states that run out at their expiry (a proposal cannot be approved once it passed).
    EXPIRING_STATES = (State.AWAITING_OWNER, State.ACTIVE, State.SUSPENDED)

    control = models.ForeignKey(
        "findings.Control", on_delete=models.PROTECT, related_name="acceptances"
    )
    resource = models.ForeignKey(
        "findings.Resource",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="acceptances",
    )
    zone = models.ForeignKey(
        Zone, null=True, blank=True, on_delete=models.PROTECT, related_name="acceptances"
    )
    treatment = models.CharField(max_length=20, choices=Treatment.choices, default=Treatment.RETAIN)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    reason_detail = models.CharField(max_length=200, blank=True)
    justification = models.TextField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_acceptances",
        help_text="Who answers for this risk and must renew the acceptance.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="created_acceptances"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approved_acceptances",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.ACTIVE)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    # The risk assessment (ISO/IEC 27005): likelihood and impact of the residual risk, 1 to 5,
    # and the rating they gave under the bands in force when they were set
    # (``acceptances.risk``). Empty only on acceptances made before assessments existed.
    likelihood = models.PositiveSmallIntegerField(null=True, blank=True)
    impact = models.PositiveSmallIntegerField(null=True, blank=True)
    residual_rating = models.CharField(
        max_length=10, choices=Severity.choices, blank=True, help_text="From likelihood × impact."
    )
    # The named owner's acceptance of the residual risk (ISO/IEC 27001 6.1.3 f): when the owner
    # signed off. A new owner, a renewal or a new assessment asks for it again.
    owner_signed_off_at = models.DateTimeField(null=True, blank=True)
    signoff_reminded_at = models.DateTimeField(null=True, blank=True)
    # Compensating measures in words, beside the checked ones (``CompensatingControl``).
    compensating_measures = models.TextField(blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    # Re-review on material change: the zone's size at approval (zone-scoped; resource-scoped
    # acceptances keep a digest per finding in ``ReviewBaseline``), and the open flag.
    baseline_zone_size = models.PositiveIntegerField(null=True, blank=True)
    review_flagged_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.JSONField(
        default=dict, blank=True, help_text="What changed since approval: before and after."
    )
    renewals = models.PositiveSmallIntegerField(
        default=0, help_text="How many times it was renewed after it had expired."
    )
    # The covered-finding count last written to the history (a COVERAGE event), so that a
    # change of coverage is recorded once and only when the count moved. Empty: never recorded
    # (acceptances older than coverage history; ``acceptances.services.coverage``).
    recorded_coverage = models.PositiveIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revoked_acceptances",
    )
    # Periodic jobs claim rows with conditional updates on these, so two ticks or two workers
    # never handle the same acceptance twice.
    warned_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    # Set when every finding it covers passes or is gone: it may be retired.
    stale_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["expires_at", "pk"]
        permissions = [
            ("approve_riskacceptance", "Can approve a proposed risk acceptance"),
            ("revoke_riskacceptance", "Can revoke a risk acceptance"),
            ("extend_riskacceptance", "Can extend or renew a risk acceptance"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(resource__isnull=False) & Q(zone__isnull=True))
                | (Q(resource__isnull=True) & Q(zone__isnull=False)),
                name="acceptance_one_scope",
                violation_error_message="An acceptance covers either one resource or one zone.",
            ),
            models.CheckConstraint(
                condition=~Q(justification=""),
                name="acceptance_justified",
                violation_error_message="A justification is required.",
            ),
            models.CheckConstraint(
                condition=~Q(reason="custom") | ~Q(reason_detail=""),
                name="acceptance_custom_reason_explained",
                violation_error_message="A custom reason needs a short explanation.",
            ),
            models.CheckConstraint(
                condition=Q(
                    state__in=[
                        "proposed",
                        "awaiting_owner",
                        "active",
                        "suspended",
                        "expired",
                        "revoked",
                    ]
                ),
                name="acceptance_state_known",
            ),
            models.CheckConstraint(
                condition=~Q(state="revoked") | Q(revoked_at__isnull=False),
                name="acceptance_revoked_has_time",
            ),
            models.CheckConstraint(
                condition=(Q(likelihood__isnull=True) & Q(impact__isnull=True))
                | (Q(likelihood__gte=1, likelihood__lte=5) & Q(impact__gte=1, impact__lte=5)),
                name="acceptance_assessment_in_range",
                violation_error_message="Likelihood and impact are both rated 1 to 5.",
            ),
            models.UniqueConstraint(
                fields=["control", "resource"],
                condition=Q(
                    state__in=["proposed", "awaiting_owner", "active", "suspended"],
                    resource__isnull=False,
                ),
                name="acceptance_one_live_per_resource",
                violation_error_message=(
                    "This control already has an active or proposed acceptance on this resource."
                ),
            ),
            models.UniqueConstraint(
                fields=["control", "zone"],
                condition=Q(
                    state__in=["proposed", "awaiting_owner", "active", "suspended"],
                    zone__isnull=False,
                ),
                name="acceptance_one_live_per_zone",
                violation_error_message=(
                    "This control already has an active or proposed acceptance in this zone."
                ),
            ),
        ]
        indexes = [
            # Expiry and reminder jobs: live acceptances by expiry date.
            models.Index(fields=["state", "expires_at"], name="acceptance_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.control.ref} on {self.scope_label}"

    @property
    def scope_label(self) -> str:
        if self.zone_id is not None:
            return f"zone {self.zone}"
        return f"resource {self.resource}"

    @property
    def is_live(self) -> bool:
        return self.state in self.LIVE_STATES

    def is_due(self, now: dt.datetime) -> bool:
        return (
            self.state == self.State.ACTIVE
            and self.expires_at is not None
            and self.expires_at <= now
        )


class AcceptanceEvent(models.Model):
    """Append-only history of an acceptance: who, when, what changed (before and after)."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        EDITED = "edited", "Edited"
        EXTENDED = "extended", "Extended or renewed"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"
        REACCEPTED = "reaccepted", "Re-accepted"
        STALE = "stale", "No longer needed"
        CHANGE_PROPOSED = "change_proposed", "Change proposed (awaiting approval)"
        CHANGE_APPROVED = "change_approved", "Change approved"
        CHANGE_REJECTED = "change_rejected", "Change rejected"
        CHANGE_WITHDRAWN = "change_withdrawn", "Change withdrawn"
        SIGNED_OFF = "signed_off", "Residual risk accepted by the owner"
        SUSPENDED = "suspended", "Suspended: a compensating control fails"
        RESUMED = "resumed", "Resumed: its compensating controls pass"
        REVIEW_FLAGGED = "review_flagged", "Needs re-review: the accepted configuration changed"
        REVIEWED = "reviewed", "Re-reviewed"
        COVERAGE = "coverage", "Coverage changed"
        APPROVAL_REFUSED = "approval_refused", "Approval refused (self-approval)"

    acceptance = models.ForeignKey(RiskAcceptance, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Empty: the system (expiry job, scan).",
    )
    at = models.DateTimeField()
    changes = models.JSONField(
        default=dict, blank=True, help_text='{"field": [before, after], ...}'
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["acceptance", "at", "pk"]
        indexes = [
            models.Index(fields=["acceptance", "at"], name="acceptanceevent_history_idx"),
            # The audit log: every event, newest first, a page at a time.
            models.Index(fields=["-at", "-id"], name="acceptanceevent_audit_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_action_display()} by {self.actor or 'system'} at {self.at:%Y-%m-%d %H:%M}"
        )

    def save(self, *args, **kwargs) -> None:
        # History is append-only: refuse to rewrite a recorded event.
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Acceptance history is append-only; events cannot be changed.")
        super().save(*args, **kwargs)


class CompensatingControl(models.Model):
    """A control named as compensating for an acceptance, checked after every scan.

    Without ``resource`` it compensates wherever the acceptance applies: it holds while no finding
    of ``control`` fails on the acceptance's resource (resource-scoped) or in its zone. With
    ``resource`` it is one finding on another resource ("5.2 passes on sg-web"), which must pass.
    While one fails, the acceptance is suspended (``acceptances.services.compensation``).
    """

    acceptance = models.ForeignKey(
        RiskAcceptance, on_delete=models.CASCADE, related_name="compensating_controls"
    )
    control = models.ForeignKey("findings.Control", on_delete=models.PROTECT, related_name="+")
    resource = models.ForeignKey(
        "findings.Resource", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    failing_since = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["acceptance", "pk"]
        constraints = [
            # Two conditional constraints rather than one with nulls_distinct=False, which
            # SQLite (the embedded default) does not support.
            models.UniqueConstraint(
                fields=["acceptance", "control", "resource"],
                condition=Q(resource__isnull=False),
                name="compensatingcontrol_unique",
                violation_error_message="This compensating control is already named.",
            ),
            models.UniqueConstraint(
                fields=["acceptance", "control"],
                condition=Q(resource__isnull=True),
                name="compensatingcontrol_unique_everywhere",
                violation_error_message="This compensating control is already named.",
            ),
        ]

    def __str__(self) -> str:
        where = f" on {self.resource}" if self.resource_id else ""
        return f"{self.control_id}{where} compensates acceptance {self.acceptance_id}"


class ReviewBaseline(models.Model):
    """The evidence of one covered finding when its acceptance was approved: a later scan that
    sees other evidence flags the acceptance for re-review."""

    acceptance = models.ForeignKey(
        RiskAcceptance, on_delete=models.CASCADE, related_name="review_baselines"
    )
    finding = models.ForeignKey("findings.Finding", on_delete=models.CASCADE, related_name="+")
    evidence_digest = models.BigIntegerField(null=True, blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["acceptance", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["acceptance", "finding"], name="reviewbaseline_unique"),
        ]

    def __str__(self) -> str:
        return f"Baseline of finding {self.finding_id} for acceptance {self.acceptance_id}"


class AppetiteRule(models.Model):
    """Risk appetite: how far an acceptance may go, by zone, control severity and residual rating.

    A rule applies to an acceptance when each of its criteria that is set matches (an empty
    criterion matches everything). Every applying rule must allow the terms; the first that does
    not is named in the refusal (``acceptances.appetite``).
    """

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    zone = models.ForeignKey(
        Zone,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="appetite_rules",
        help_text="Empty: every zone and resource.",
    )
    severity = models.CharField(
        max_length=10,
        choices=Severity.choices,
        blank=True,
        help_text="The control's severity it applies to; empty: every severity.",
    )
    min_rating = models.CharField(
        "from residual rating",
        max_length=10,
        choices=Severity.choices,
        blank=True,
        help_text="Applies from this residual rating up; empty: every rating.",
    )
    max_term_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="The longest term allowed, in days; empty: no limit."
    )
    allow_never = models.BooleanField(
        default=True, help_text="Whether an acceptance may have no end."
    )
    max_renewals = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="How many renewals are allowed; empty: no limit."
    )
    approver_role = models.CharField(
        max_length=20,
        blank=True,
        help_text="The role that must approve (approver or admin); empty: any approver.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(severity="") | Q(severity__in=Severity.values),
                name="appetiterule_severity_known",
            ),
            models.CheckConstraint(
                condition=Q(min_rating="") | Q(min_rating__in=Severity.values),
                name="appetiterule_rating_known",
            ),
            models.CheckConstraint(
                condition=Q(approver_role__in=["", "approver", "admin"]),
                name="appetiterule_role_known",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AcceptanceChange(models.Model):
    """A change to an approved acceptance that widens or prolongs it, awaiting a second approver.

    With four-eyes on (``CSPM_REQUIRE_APPROVAL``), a later or no expiry, a renewal, or new
    wording of the decision (justification, reason, treatment) does not apply when it is made:
    it is recorded here, and the acceptance keeps its approved terms (coverage, expiry job,
    reminders all read the acceptance) until an approver other than the proposer approves it
    (``acceptances.services.changes``). ``terms`` holds the proposed values as JSON
    (``expires_at`` as ISO 8601 or null, ``owner`` as a user id); ``before`` the terms in force
    when it was proposed, for the reader.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Awaiting approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    acceptance = models.ForeignKey(
        RiskAcceptance, on_delete=models.CASCADE, related_name="proposed_changes"
    )
    terms = models.JSONField(help_text='The proposed values: {"field": value, ...}.')
    before = models.JSONField(
        default=dict, blank=True, help_text="The terms in force when it was proposed."
    )
    renews = models.BooleanField(
        default=False, help_text="Proposed for an expired acceptance: approving renews it."
    )
    note = models.TextField(blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["acceptance", "-proposed_at", "-pk"]
        constraints = [
            # One open proposal per acceptance: a second one would be approved against terms
            # its proposer never saw. Its index also finds an acceptance's pending change.
            models.UniqueConstraint(
                fields=["acceptance"],
                condition=Q(state="pending"),
                name="acceptancechange_one_pending",
                violation_error_message="A change of this acceptance already awaits approval.",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "approved", "rejected", "withdrawn"]),
                name="acceptancechange_state_known",
            ),
            models.CheckConstraint(
                condition=Q(state="pending") | Q(decided_at__isnull=False),
                name="acceptancechange_decided_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Change of acceptance {self.acceptance_id} proposed by {self.proposed_by}"

    @property
    def is_pending(self) -> bool:
        return self.state == self.State.PENDING


class ExpiryReminder(models.Model):
    """One expiry reminder about one acceptance: one threshold, for one expiry date.

    The row is the claim: it is inserted before the email goes out, and only the worker whose
    INSERT wins sends (``acceptances.notifications.send_expiry_reminders``). Its key includes
    ``expires_at``, so an acceptance renewed before its reminder is reminded again under its new
    date only, never twice under the old one.
    """

    acceptance = models.ForeignKey(
        RiskAcceptance, on_delete=models.CASCADE, related_name="reminders"
    )
    threshold_days = models.PositiveSmallIntegerField(
        help_text="The reminder threshold (days before expiry) it was sent for."
    )
    expires_at = models.DateTimeField(help_text="The expiry the reminder was about.")
    sent_at = models.DateTimeField(help_text="When it was claimed and handed to the mailer.")
    recipients = models.JSONField(
        default=list, blank=True, help_text="Email addresses the reminder was delivered to."
    )

    class Meta:
        ordering = ["acceptance", "sent_at", "pk"]
        constraints = [
            # The claim: one reminder per acceptance, threshold and expiry date. Its index leads
            # with the acceptance, so it also serves the reminder job's "already reminded?"
            # lookups and an acceptance's reminder history: no separate index is needed.
            models.UniqueConstraint(
                fields=["acceptance", "threshold_days", "expires_at"],
                name="expiryreminder_once_per_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.threshold_days}-day reminder for acceptance {self.acceptance_id}"


class ZoneWatch(models.Model):
    """A person watching a zone: after each scan, they hear what newly fails in it and what got
    fixed (``acceptances.drift``), optionally only from a minimum severity up."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="zone_watches"
    )
    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="watches")
    min_severity = models.CharField(
        "minimum severity",
        max_length=10,
        choices=Severity.choices,
        blank=True,
        help_text="Empty: every severity.",
    )
    # The benchmarks whose controls the alert lists newly failing findings under (refs and
    # titles of each); empty: the default benchmark. Disabled ones are left out when sending.
    benchmarks = models.ManyToManyField(
        "findings.Benchmark",
        blank=True,
        related_name="zone_watches",
        help_text="Controls listed by these benchmarks' refs; none: the default benchmark.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "zone"]
        constraints = [
            models.UniqueConstraint(fields=["user", "zone"], name="zonewatch_unique"),
            models.CheckConstraint(
                condition=Q(min_severity="") | Q(min_severity__in=Severity.values),
                name="zonewatch_severity_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} watches {self.zone}"


class DriftAlert(models.Model):
    """One drift alert email: one scan, one watcher. The row is the claim.

    It is inserted (``INSERT ... ON CONFLICT DO NOTHING``) before the email goes out, and only
    the run whose insert wins sends, so a watcher never gets two emails about one scan however
    often the alert task runs. See ``acceptances.drift`` for what a failed send does.
    """

    scan = models.ForeignKey("findings.Scan", on_delete=models.CASCADE, related_name="alerts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drift_alerts"
    )
    email = models.EmailField(help_text="The address it went to.")
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty with no error: claimed, and the sender died."
    )
    new_failures = models.PositiveIntegerField(default=0)
    fixed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-claimed_at", "pk"]
        constraints = [
            # The claim. Its index leads with the scan: it also lists a scan's alerts.
            models.UniqueConstraint(fields=["scan", "user"], name="driftalert_once_per_scan"),
        ]

    def __str__(self) -> str:
        return f"Drift alert of scan {self.scan_id} to {self.email}"


class FixPlan(models.Model):
    """A decision to fix: the ISO 31000 treatment "remove the risk source", tracked.

    On one finding (a control on a resource) or on a control in a zone. Open until a scan sees
    it done (the finding passes, or no finding of the control in the zone fails), or until
    someone cancels it. Unlike an acceptance it changes no count: the findings stay failing
    until they are fixed; the plan says who fixes them, by when.
    """

    class State(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done (a scan saw it fixed)"
        CANCELLED = "cancelled", "Cancelled"

    treatment = Treatment.REMOVE_SOURCE

    control = models.ForeignKey(
        "findings.Control", on_delete=models.PROTECT, related_name="fix_plans"
    )
    resource = models.ForeignKey(
        "findings.Resource",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fix_plans",
    )
    zone = models.ForeignKey(
        Zone, null=True, blank=True, on_delete=models.PROTECT, related_name="fix_plans"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_fix_plans",
        help_text="Who sees to the fix.",
    )
    due_on = models.DateField(help_text="The day the fix is planned to be done by.")
    ticket_url = models.URLField(max_length=500, blank=True)
    note = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="created_fix_plans"
    )
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by_scan = models.ForeignKey(
        "findings.Scan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The overdue reminder claims a plan with a conditional update on this, so two ticks or two
    # workers never remind of the same plan twice.
    overdue_warned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(resource__isnull=False) & Q(zone__isnull=True))
                | (Q(resource__isnull=True) & Q(zone__isnull=False)),
                name="fixplan_one_scope",
                violation_error_message="A fix plan covers either one resource or one zone.",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["open", "done", "cancelled"]),
                name="fixplan_state_known",
            ),
            models.CheckConstraint(
                condition=Q(state="open") | Q(closed_at__isnull=False),
                name="fixplan_closed_has_time",
            ),
            models.UniqueConstraint(
                fields=["control", "resource"],
                condition=Q(state="open", resource__isnull=False),
                name="fixplan_one_open_per_resource",
                violation_error_message="This finding already has an open fix plan.",
            ),
            models.UniqueConstraint(
                fields=["control", "zone"],
                condition=Q(state="open", zone__isnull=False),
                name="fixplan_one_open_per_zone",
                violation_error_message="This control already has an open fix plan in this zone.",
            ),
        ]
        indexes = [
            # Overdue plans (overview, reminders) and the plans list: open ones by due date.
            models.Index(fields=["state", "due_on"], name="fixplan_due_idx"),
        ]

    def __str__(self) -> str:
        return f"Fix {self.control} on {self.scope_label} by {self.due_on}"

    @property
    def scope_label(self) -> str:
        if self.resource_id is not None:
            return str(self.resource)
        return f"zone {self.zone}"

    def is_overdue(self, today: dt.date) -> bool:
        return self.state == self.State.OPEN and self.due_on < today


class FixPlanEvent(models.Model):
    """Append-only history of a fix plan: planned, cancelled, done (by which scan)."""

    class Action(models.TextChoices):
        PLANNED = "planned", "Fix planned"
        CANCELLED = "cancelled", "Cancelled"
        DONE = "done", "Done: a scan saw it fixed"

    plan = models.ForeignKey(FixPlan, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Empty: the system (a scan).",
    )
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["plan", "at", "pk"]

    def __str__(self) -> str:
        return (
            f"{self.get_action_display()} by {self.actor or 'system'} at {self.at:%Y-%m-%d %H:%M}"
        )


class Attestation(models.Model):
    """A person's dated decision on a control the benchmark marks manual: what they checked
    (the evidence), until when it holds. The newest current one answers "decided?" on the
    control's page; before it ends its author is reminded once, like an acceptance's owner."""

    control = models.ForeignKey(
        "findings.Control", on_delete=models.PROTECT, related_name="attestations"
    )
    evidence = models.TextField(help_text="What was checked and found, for an auditor.")
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    attested_at = models.DateTimeField()
    expires_at = models.DateTimeField(help_text="Until when the attestation holds.")
    # The reminder's claim: set by the one run whose conditional UPDATE wins.
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-attested_at", "-pk"]
        indexes = [
            # A control's page: its attestations, newest first.
            models.Index(fields=["control", "-attested_at"], name="attestation_control_idx"),
            # The reminder job: unreminded attestations by end date.
            models.Index(
                fields=["expires_at"],
                condition=Q(reminded_at__isnull=True),
                name="attestation_due_reminder_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Attestation of {self.control_id} until {self.expires_at:%Y-%m-%d}"

    def is_current(self, now: dt.datetime) -> bool:
        return self.attested_at <= now < self.expires_at


class OutboundEmail(models.Model):
    """An email decided in a transaction, kept until it is sent: written with the change it
    tells of, so neither a process that stops after the commit nor a mail server that is down
    loses it (``acceptances.outbox`` sends it, and beat retries what is left). One row per
    address: a partial send never repeats the addresses that got it."""

    template = models.CharField(max_length=100)
    address = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    context = models.JSONField(default=dict)
    created_at = models.DateTimeField(db_index=True)
    # Set by the run sending it; a run that stopped holds it until the claim times out.
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(sent_at__isnull=True),
                name="outboundemail_unsent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.template} to {self.address}"
