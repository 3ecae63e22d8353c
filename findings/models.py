"""What a scan knows: accounts, the benchmark catalog, resources, scans and findings.

Models hold data and pure derived logic only; every write goes through ``findings.services``.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from findings.toolbox import arn_partition, partition_of

ACCOUNT_ID_RE = r"^[0-9]{12}$"
ROLE_ARN_RE = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$"  # PostgreSQL caps {m,n} at 255
GLOBAL_REGION = "global"

account_id_validator = RegexValidator(ACCOUNT_ID_RE, "An AWS account id is exactly 12 digits.")
role_arn_validator = RegexValidator(
    ROLE_ARN_RE, "A role ARN looks like arn:aws:iam::123456789012:role/cspm-audit."
)
_REGION_RE = re.compile(r"^([a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]|global)$")
region_validator = RegexValidator(
    _REGION_RE,
    "A region looks like eu-west-1 (or 'global' for global services).",
)


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


SEVERITY_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


class Assessment(models.TextChoices):
    """How a control is decided: by checks the benchmark calls automated, by checks although
    the benchmark calls it manual (what they find is evidence for the person who decides), or
    by a person alone."""

    AUTOMATED = "automated", "Automated"
    CHECKED_MANUAL = "checked_manual", "Checked, manual in the benchmark"
    MANUAL = "manual", "Manual: a person decides"

    @classmethod
    def of(cls, automated: bool, checked: bool) -> Assessment:
        if automated:
            return cls.AUTOMATED
        return cls.CHECKED_MANUAL if checked else cls.MANUAL


class CloudAccount(models.Model):
    """An AWS account the product scans.

    Credentials are never stored: the scanner assumes ``role_arn`` with ``external_id`` through
    STS, or uses the default credential chain of the worker when ``role_arn`` is empty.
    """

    account_id = models.CharField(
        "AWS account id", max_length=12, unique=True, validators=[account_id_validator]
    )
    name = models.CharField(max_length=200)
    role_arn = models.CharField(
        "role ARN",
        max_length=2048,
        blank=True,
        validators=[role_arn_validator],
        help_text="Role the scanner assumes. Empty: the workers' default credential chain.",
    )
    external_id = models.CharField(
        "external id",
        max_length=1224,
        blank=True,
        help_text="External id required by the role's trust policy.",
    )
    regions = models.JSONField(
        default=list,
        blank=True,
        help_text="Regions to scan. Empty: every region the account reports as enabled.",
    )
    endpoint_url = models.URLField(
        "endpoint URL",
        blank=True,
        help_text="Send every AWS call here instead of AWS (an emulator such as moto).",
    )
    scan_interval_hours = models.PositiveIntegerField(
        default=24, help_text="Hours between scheduled scans; 0 turns scheduled scans off."
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(account_id__regex=ACCOUNT_ID_RE),
                name="cloudaccount_account_id_12_digits",
                violation_error_message="An AWS account id is exactly 12 digits.",
            ),
            models.CheckConstraint(
                condition=Q(role_arn="") | Q(role_arn__regex=ROLE_ARN_RE),
                name="cloudaccount_role_arn_format",
                violation_error_message="The role ARN is not an IAM role ARN.",
            ),
            models.CheckConstraint(
                condition=Q(external_id="") | ~Q(role_arn=""),
                name="cloudaccount_external_id_needs_role",
                violation_error_message="An external id only makes sense with a role ARN.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.account_id})"

    @property
    def uses_default_credentials(self) -> bool:
        return not self.role_arn

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from cspm.endpoints import endpoint_problem

        errors: dict[str, str] = {}
        if not isinstance(self.regions, list) or not all(isinstance(r, str) for r in self.regions):
            errors["regions"] = 'Regions must be a list such as ["eu-west-1"].'
        else:
            bad = [r for r in self.regions if r == GLOBAL_REGION or not _REGION_RE.match(r)]
            if bad:
                errors["regions"] = f"Not AWS regions: {', '.join(bad)}."
            else:
                # One account lives in one partition: its regions and role are all there.
                wanted = {partition_of(r) for r in self.regions}
                if self.role_arn:
                    wanted.add(arn_partition(self.role_arn))
                if len(wanted) > 1:
                    errors["regions"] = (
                        "Regions and role ARN must be in one AWS partition, not "
                        f"{', '.join(sorted(wanted))}."
                    )
        # Not a field validator: one would need a migration, and full_clean (the service), the
        # admin's form and the API (through the service) all run clean() anyway.
        problem = endpoint_problem(self.endpoint_url)
        if problem:
            errors["endpoint_url"] = problem
        if errors:
            raise ValidationError(errors)


#: Short names of benchmarks beside their refs ("CIS 5.7", "AWS FSBP EC2.8").
SHORT_NAMES = {"cis-aws-foundations": "CIS", "aws-fsbp": "AWS FSBP"}


class Benchmark(models.Model):
    """A published benchmark version, e.g. CIS AWS Foundations 2.0.0."""

    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=20)
    published = models.DateField(null=True, blank=True)
    url = models.URLField(blank=True)
    # A loaded benchmark the team reads. A scan runs the checks of enabled benchmarks' controls;
    # enabling one whose checks already ran shows its posture at once, without a re-scan.
    enabled = models.BooleanField(
        default=True,
        help_text="Shown in pickers, overviews and drift alerts; its checks run in every scan.",
    )

    class Meta:
        ordering = ["slug", "version"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="benchmark_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def short_name(self) -> str:
        """How exports and fix titles name it beside a ref: "CIS", "AWS FSBP"."""
        return SHORT_NAMES.get(self.slug, self.slug)


_PLACEHOLDER_RE = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
# Placeholders a resource fills (``Resource.terraform_values``), and the one variable every
# download declares (``admin_cidr``). A catalog naming any other is refused when loaded.
RESOURCE_PLACEHOLDERS = {
    "AWS::S3::Bucket": "bucket_name",
    "AWS::EC2::Instance": "instance_id",
    "AWS::EC2::NetworkAcl": "network_acl_id",
    "AWS::EC2::VPC": "vpc_id",
    "AWS::EC2::SecurityGroup": "security_group_id",
    "AWS::CloudTrail::Trail": "trail_name",
    "AWS::KMS::Key": "kms_key_id",
    "AWS::IAM::User": "user_name",
}
KNOWN_PLACEHOLDERS = frozenset(
    {"account_id", "region", "resource_id", "resource_name", "resource_arn", "admin_cidr"}
    | set(RESOURCE_PLACEHOLDERS.values())
)


# Services a benchmark names differently from the collector that reads them.
_COLLECTOR_OF_SERVICE = {"elb": "elbv2", "eventbridge": "events", "cloudwatch": "monitoring"}


def service_is_collected(service: str) -> bool:
    """Whether a collector of ours reads the AWS service a benchmark names ("EC2", "ELB",
    "Secrets Manager"): compared case-, space- and punctuation-blind with collector names."""
    from findings.aws import COLLECTORS

    key = re.sub(r"[^a-z0-9]", "", service.lower())
    if not key:
        return False
    names = {re.sub(r"[^a-z0-9]", "", name.lower()) for name in COLLECTORS}
    return _COLLECTOR_OF_SERVICE.get(key, key) in names


class Control(models.Model):
    """One recommendation of a benchmark, e.g. 2.1.1 of CIS AWS Foundations 2.0.0."""

    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="controls")
    # Up to 40: FSBP writes refs such as "PrivateCertificateAuthority.1".
    ref = models.CharField("reference", max_length=40)
    title = models.CharField(max_length=300)
    section_ref = models.CharField(max_length=40)
    section_title = models.CharField(max_length=200)
    # CIS profile level; benchmarks without levels (AWS FSBP) leave it empty.
    level = models.PositiveSmallIntegerField(
        "profile level", choices=[(1, "Level 1"), (2, "Level 2")], null=True, blank=True
    )
    automated = models.BooleanField(
        help_text="The benchmark marks it automated: a scan can decide it."
    )
    severity = models.CharField(max_length=10, choices=Severity.choices)
    # The AWS service the control concerns ("EC2", "ECS"), as the benchmark names it. An
    # automated control no collector reads is listed "not evaluated" with this service named.
    service = models.CharField(max_length=60, blank=True)
    resource_types = models.JSONField(default=list, blank=True)
    description = models.TextField()
    rationale = models.TextField()
    impact = models.TextField(blank=True)
    remediation_console = models.TextField(blank=True)
    remediation_cli = models.TextField(blank=True)
    terraform = models.TextField(
        blank=True,
        help_text="Terraform fix; {{ placeholders }} are filled with a resource's names.",
    )
    references = models.JSONField(default=list, blank=True)
    # The checks that decide it, as the catalog names them (check ids of ``findings.checks``).
    # A check may decide controls of several benchmarks: its findings are read by each, and an
    # acceptance of one covers the same findings under every other (it covers checks).
    check_ids = models.JSONField(default=list, blank=True)
    # False: the benchmark calls it automated but no check of ours decides it (yet). Only a
    # catalog that allows it may say so; such a control is listed "not evaluated" with its
    # service named, never as passing, and counts in no total.
    evaluated = models.BooleanField(
        default=True, help_text="A check of ours decides it (false: listed as not evaluated)."
    )
    # Natural sort order of refs ("1.10" after "1.9"), computed when the catalog is loaded.
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["benchmark", "position"]
        constraints = [
            models.UniqueConstraint(fields=["benchmark", "ref"], name="control_unique_ref"),
            models.CheckConstraint(
                condition=Q(level__in=[1, 2]) | Q(level__isnull=True), name="control_level_1_or_2"
            ),
            models.CheckConstraint(
                condition=Q(severity__in=Severity.values), name="control_severity_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.title}"

    @staticmethod
    def sort_key(ref: str) -> tuple[tuple[int, int | str], ...]:
        """Natural order of refs and versions: 1.2 < 1.10 < 2.1.1; EC2.9 < EC2.10 < S3.1."""
        return tuple(
            (0, int(part)) if part.isdigit() else (1, part.lower()) for part in ref.split(".")
        )

    @property
    def assessment(self) -> Assessment:
        """Automated, checked though manual in the benchmark, or manual (a person decides).
        Checks decide a control through its catalog's ``"checks"`` or a check's registration
        (v2.0.0's): prefetch ``checks`` when listing many."""
        if self.automated:
            return Assessment.AUTOMATED
        return Assessment.of(False, bool(self.check_ids) or bool(self.checks.all()))

    @property
    def not_evaluated_reason(self) -> str:
        """Why no scan decides this automated control ("" when a check does, or it is manual):
        no collector reads its service, or we read the service but have no check for it."""
        if self.evaluated or not self.automated:
            return ""
        if service_is_collected(self.service):
            return "Not evaluated: no check yet"
        return f"Not evaluated: no collector reads {self.service or 'its service'}"

    @property
    def terraform_placeholders(self) -> list[str]:
        return sorted(set(_PLACEHOLDER_RE.findall(self.terraform)))

    def render_terraform(self, values: dict[str, Any]) -> str:
        """The Terraform snippet with ``{{ name }}`` placeholders filled from ``values``.

        Unknown placeholders are left as they are, so the reader sees what still needs a value.
        """

        def fill(match: re.Match[str]) -> str:
            value = values.get(match.group(1))
            return match.group(0) if value in (None, "") else str(value)

        return _PLACEHOLDER_RE.sub(fill, self.terraform)


class Check(models.Model):
    """An automated check the scanner runs; it evidences one or more controls.

    Rows are synced from the code registry in ``findings.checks`` by ``load_catalog``.
    """

    check_id = models.CharField(max_length=100, unique=True)
    title = models.CharField(max_length=300)
    service = models.CharField(max_length=50)
    resource_type = models.CharField(max_length=100)
    controls = models.ManyToManyField(Control, related_name="checks", blank=True)
    active = models.BooleanField(default=True, help_text="Off: the code no longer ships it.")
    # When a scan unit first evaluated it (its collector read the unit and the check ran). A
    # control whose checks never ran is "not evaluated yet" (the next scan evaluates it), not
    # passing: enabling a benchmark adds checks to the next scan, not to past ones. Written
    # once, so a steady scan writes nothing here.
    first_evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["check_id"]

    def __str__(self) -> str:
        return self.check_id


class Resource(models.Model):
    """A cloud resource a scan saw (or a pseudo-resource such as an account's S3 settings).

    ``scan_unit`` is the part of a scan that reports it: its region for regional services, or
    ``global`` for what is listed account-wide (IAM, S3 buckets, whose ``region`` is still the
    bucket's own). A resource is marked gone only by a successful run of its own unit.
    "Last seen" is not stored per row: it is the last successful run of the unit (AccountRegion).
    """

    account = models.ForeignKey(CloudAccount, on_delete=models.CASCADE, related_name="resources")
    region = models.CharField(max_length=30, validators=[region_validator])
    scan_unit = models.CharField(max_length=30, validators=[region_validator])
    resource_type = models.CharField(max_length=100)
    arn = models.CharField("ARN", max_length=2048)
    name = models.CharField(max_length=512, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    configuration = models.JSONField(default=dict, blank=True)
    # Digest of name, tags and configuration: a re-scan compares digests, not documents.
    digest = models.CharField(max_length=32, blank=True)
    first_seen = models.DateTimeField()
    gone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # No default ordering, as for findings; lists order explicitly.
        constraints = [
            models.UniqueConstraint(fields=["account", "arn"], name="resource_unique_arn"),
        ]
        indexes = [
            # Ingest loads one account×unit's resources to compare with what a scan saw.
            models.Index(fields=["account", "scan_unit"], name="resource_unit_idx"),
            # Zone rules filter on these columns.
            models.Index(fields=["account", "region", "resource_type"], name="resource_scope_idx"),
            # Lists leave gone resources out with NOT IN (gone ones): few, so a partial index.
            models.Index(
                fields=["id"], name="resource_gone_idx", condition=Q(gone_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.arn

    @property
    def is_gone(self) -> bool:
        return self.gone_at is not None

    def terraform_values(self) -> dict[str, Any]:
        """Values for a control's Terraform placeholders, from this resource's names."""
        values: dict[str, Any] = {
            "account_id": self.account.account_id,
            "region": self.region,
            "resource_id": self.name or self.arn.rsplit("/", 1)[-1],
            "resource_name": self.name,
            "resource_arn": self.arn,
        }
        if self.resource_type in RESOURCE_PLACEHOLDERS:
            values[RESOURCE_PLACEHOLDERS[self.resource_type]] = values["resource_id"]
        return values


class Scan(models.Model):
    """One scan of one account: one task per region plus one for global services."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partial (some regions or services failed)"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "On demand"
        API = "api", "API"
        COMMAND = "command", "Command line"

    account = models.ForeignKey(CloudAccount, on_delete=models.CASCADE, related_name="scans")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    regions_total = models.PositiveIntegerField(default=0)
    regions_done = models.PositiveIntegerField(default=0)
    resources_seen = models.PositiveIntegerField(default=0)
    findings_total = models.PositiveIntegerField(default=0)
    findings_failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # What changed since the previous successful run of each unit, counted per ScanChange kind
    # when the scan closes (plus "accepted": new failures already covered by an acceptance, and
    # "baseline_units": units scanned for the first time). Stored, so the scans page lists
    # counts without counting change rows; empty until the scan closes.
    change_counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # "Latest scans of this account" on the scans page and the scheduler.
            models.Index(fields=["account", "-created_at"], name="scan_account_recent_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(regions_done__lte=models.F("regions_total")),
                name="scan_progress_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"Scan #{self.pk} of {self.account} ({self.get_state_display()})"

    @property
    def is_finished(self) -> bool:
        return self.state in {self.State.SUCCEEDED, self.State.PARTIAL, self.State.FAILED}

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class ScanRegion(models.Model):
    """The outcome of one region (or ``global``) within a scan.

    A row per region rather than a JSON map on ``Scan``: parallel region tasks each update their
    own row, so no read-modify-write race between workers.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="regions")
    region = models.CharField(max_length=30, validators=[region_validator])
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    resources_seen = models.PositiveIntegerField(default=0)
    findings_total = models.PositiveIntegerField(default=0)
    findings_failed = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    # The unit had no previous successful run: what it found is the starting point, not a
    # change, so it records no ScanChange rows (and mails nobody thousands of "new" failures).
    baseline = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    # Services whose collector failed in a unit that otherwise succeeded (a role without that
    # service's read permission): service -> error. Their checks were not evaluated and their
    # findings were left as they were; the scan ends partial.
    failed_services = models.JSONField(default=dict, blank=True)
    # Regions a global collector could not read and left out (an organisation policy denying
    # a region): region -> error. The region's own unit reports its failure.
    skipped_regions = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["scan", "region"]
        constraints = [
            models.UniqueConstraint(fields=["scan", "region"], name="scanregion_unique_region"),
        ]

    def __str__(self) -> str:
        return f"{self.region}: {self.get_state_display()}"

    @property
    def not_evaluated(self) -> list[str]:
        """One line per failed service: ``not evaluated: <service> <error>``."""
        return [
            f"not evaluated: {service} {error}"
            for service, error in sorted((self.failed_services or {}).items())
        ]


class AccountRegion(models.Model):
    """The last successful run of one account×scan unit (a region, or ``global``).

    "Last seen" of every unchanged finding follows from here, so a re-scan that confirms a
    million findings writes one row, not a million.
    """

    account = models.ForeignKey(CloudAccount, on_delete=models.CASCADE, related_name="region_state")
    region = models.CharField(max_length=30, validators=[region_validator])
    last_scan = models.ForeignKey(Scan, null=True, blank=True, on_delete=models.SET_NULL)
    last_scanned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["account", "region"]
        constraints = [
            models.UniqueConstraint(fields=["account", "region"], name="accountregion_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.account.account_id}/{self.region}"


class Finding(models.Model):
    """The result of one check on one resource, kept across scans."""

    class Status(models.TextChoices):
        FAIL = "fail", "Fail"
        PASS = "pass", "Pass"

    # Not named "check": that would shadow Model.check(), Django's system-check hook.
    # db_index off: the unique (check, resource) index below starts with it. No database
    # constraint: checks are never deleted (PROTECT; retired ones stay, marked inactive), and
    # each constraint costs a locking lookup per row when a scan writes a million findings.
    control_check = models.ForeignKey(
        Check,
        on_delete=models.PROTECT,
        related_name="findings",
        db_index=False,
        db_constraint=False,
    )
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="findings")
    # Denormalized from the resource: every list filters on them. No database constraint: the
    # resource's own foreign key already ties the row to its account, and each constraint is
    # one more lookup per row when a scan writes a million findings.
    account = models.ForeignKey(
        CloudAccount,
        on_delete=models.CASCADE,
        related_name="findings",
        db_constraint=False,
        db_index=False,
    )
    region = models.CharField(max_length=30, validators=[region_validator])
    status = models.CharField(max_length=4, choices=Status.choices)
    evidence = models.JSONField(default=dict, blank=True)
    # Digest of the evidence: a re-scan writes a finding only when status or digest changed.
    evidence_digest = models.BigIntegerField(null=True, blank=True)
    first_seen = models.DateTimeField()
    status_changed_at = models.DateTimeField()
    # Set when a scan saw it pass or saw the resource gone; cleared when it fails again.
    resolved_at = models.DateTimeField(null=True, blank=True)
    # "Last seen" is normally its unit's last successful run (AccountRegion). While its
    # check's service fails in that unit (denied), the finding is not seen again: this holds
    # when it last was, and is cleared when the service is read again.
    held_seen_at = models.DateTimeField(null=True, blank=True)
    # The scan that last changed this finding (informational; no database constraint, for the
    # same reason as ``account``).
    last_scan = models.ForeignKey(
        Scan,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,  # see the index note in Meta
    )
    # Coverage, materialized: the active acceptance that covers this failing finding. Kept
    # exact by the services that change acceptances, zones or findings.
    acceptance = models.ForeignKey(
        "acceptances.RiskAcceptance",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="covered_findings",
        db_index=False,  # a partial index below: most findings are not accepted
    )

    class Meta:
        # No default ordering: ingest and counts read millions of rows and must not sort them
        # (ordering by account would even join and sort by the account's name).
        constraints = [
            models.UniqueConstraint(
                fields=["control_check", "resource"], name="finding_unique_check_resource"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["fail", "pass"]), name="finding_status_known"
            ),
            models.CheckConstraint(
                condition=Q(acceptance__isnull=True) | Q(status="fail", resolved_at__isnull=True),
                name="finding_only_open_failures_accepted",
                violation_error_message="Only an open failing finding can be accepted.",
            ),
        ]
        indexes = [
            # Few indexes on purpose: every one is written for each of a million findings a
            # scan stores, and again whenever an acceptance covers or uncovers a hundred
            # thousand of them. The resource foreign key's own index serves ingest (a unit's
            # findings by resource); lists by account and region join the resource.
            # Posture counts per check and status.
            models.Index(fields=["control_check", "status"], name="finding_check_status_idx"),
            # Coverage: the findings an acceptance covers. Partial, so the millions of findings
            # nobody accepted cost nothing here when a scan writes them.
            models.Index(
                fields=["acceptance"],
                name="finding_acceptance_idx",
                condition=Q(acceptance__isnull=False),
            ),
            # Ingest clears ``held_seen_at`` of a unit's findings once their service is read
            # again; partial, so the findings that never had one cost nothing.
            models.Index(
                fields=["resource"],
                name="finding_held_seen_idx",
                condition=Q(held_seen_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.control_check_id} on {self.resource_id}: {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.FAIL and self.resolved_at is None

    @property
    def is_accepted(self) -> bool:
        return self.acceptance_id is not None

    @property
    def display_status(self) -> str:
        """fail, accepted, pass or resolved: what a person should read."""
        if self.acceptance_id is not None:
            return "accepted"
        if self.resolved_at is not None and self.status == self.Status.FAIL:
            return "resolved"
        return self.status


class FindingEvent(models.Model):
    """A change in a finding's status seen by a scan: resolved, reopened, gone.

    The first sighting is the finding's own ``first_seen`` and status, not an event row: a first
    scan of a large estate would otherwise write a history row per failing finding. Acceptance
    and its end are recorded in the acceptance's own history, not per finding: one zone-wide
    decision may cover a hundred thousand findings.
    """

    class Kind(models.TextChoices):
        RESOLVED = "resolved", "Resolved (now passes)"
        REOPENED = "reopened", "Reopened (fails again)"
        GONE = "gone", "Resource gone"

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    at = models.DateTimeField()
    scan = models.ForeignKey(Scan, null=True, blank=True, on_delete=models.SET_NULL)
    evidence = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["finding", "at", "pk"]
        indexes = [
            # A finding's history, newest first.
            models.Index(fields=["finding", "-at"], name="findingevent_finding_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class PostureSnapshot(models.Model):
    """An account's posture when a scan closed: the points of the overview's history chart.

    Counted like the overview (a resource once per control, worst status wins), over the
    account's whole benchmark, so that later zone or acceptance changes do not rewrite history.
    """

    scan = models.OneToOneField(Scan, on_delete=models.CASCADE, related_name="posture")
    account = models.ForeignKey(CloudAccount, on_delete=models.CASCADE, related_name="+")
    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    failing = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    passing = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at"]
        indexes = [
            # The chart: latest snapshots, of one account or of all.
            models.Index(fields=["account", "-at"], name="snapshot_account_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.account} at {self.at:%Y-%m-%d %H:%M}"


class ScanChange(models.Model):
    """What one scan changed: a finding newly failing, fixed or gone, or an acceptance gone stale.

    "Changed" means since the previous successful run of the same account×unit: ingest compares
    what a unit saw with what that run left stored, so the rows it writes while ingesting are
    the change set. They are written in the unit's own transaction: a failed unit writes none,
    and a retried or duplicated unit (already turned away by its claim) writes none twice. A
    unit's first successful run is a baseline (``ScanRegion.baseline``) and writes none.
    """

    class Kind(models.TextChoices):
        NEW_FAILURE = "new_failure", "Newly failing"
        FIXED = "fixed", "Fixed"
        GONE = "gone", "Resource gone"
        STALE_ACCEPTANCE = "stale_acceptance", "Acceptance no longer needed"

    FINDING_KINDS = (Kind.NEW_FAILURE, Kind.FIXED, Kind.GONE)

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # A new failure is a new finding that fails (a new resource, or a check new to it) or a
    # finding that passed, or whose resource was gone, failing again. Fixed: an open failure now
    # passes. Gone: an open failure resolved because its resource disappeared.
    finding = models.ForeignKey(
        Finding, null=True, blank=True, on_delete=models.CASCADE, related_name="changes"
    )
    acceptance = models.ForeignKey(
        "acceptances.RiskAcceptance",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="scan_changes",
    )
    # Snapshots at the time of the scan: a new failure already covered by an active acceptance
    # (not reported as newly failing), and the highest severity among the check's controls.
    accepted = models.BooleanField(default=False)
    severity = models.CharField(max_length=10, choices=Severity.choices, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["scan", "kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="stale_acceptance", finding__isnull=True, acceptance__isnull=False)
                    | (
                        Q(kind__in=["new_failure", "fixed", "gone"])
                        & Q(finding__isnull=False, acceptance__isnull=True)
                    )
                ),
                name="scanchange_subject_matches_kind",
            ),
            # At most once per scan, whatever retries happen. Their indexes lead with the scan:
            # they also serve "the changes of this scan" and the counts per kind.
            models.UniqueConstraint(
                fields=["scan", "finding", "kind"],
                condition=Q(finding__isnull=False),
                name="scanchange_once_per_finding",
            ),
            models.UniqueConstraint(
                fields=["scan", "acceptance", "kind"],
                condition=Q(acceptance__isnull=False),
                name="scanchange_once_per_acceptance",
            ),
        ]
        # The finding foreign key's own index serves "is this finding new in its unit's last
        # scan" (control and resource pages); the acceptance's serves its scan history.

    def __str__(self) -> str:
        subject = (
            f"finding {self.finding_id}" if self.finding_id else f"acceptance {self.acceptance_id}"
        )
        return f"{self.get_kind_display()}: {subject} in scan {self.scan_id}"
