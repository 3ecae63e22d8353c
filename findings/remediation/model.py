"""What a fix is made of: Terraform blocks, variables for what only the user knows, and the
steps Terraform cannot express (filled-in CLI commands, console steps)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from findings.remediation import hcl
from findings.toolbox import arn_partition, console_url


def shell(*args: str) -> str:
    """One shell command line; every argument quoted (``shlex.quote``), so a value from the
    cloud is one argument whatever it holds."""
    return " ".join(shlex.quote(str(arg)) for arg in args)


@dataclass(frozen=True)
class Target:
    """The resource a fix is for: plain values taken from a scanned ``Resource``."""

    account_id: str
    region: str
    resource_type: str
    arn: str
    name: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    configuration: dict[str, Any] = field(default_factory=dict)

    @property
    def aws_id(self) -> str:
        """The id AWS uses in API calls (``acl-…``, ``i-…``, a bucket name, the account id)."""
        if self.resource_type == "AWS::::Account":
            return self.account_id
        if self.resource_type == "AWS::S3::Bucket":
            return self.arn.rsplit(":", 1)[-1]
        return self.arn.rsplit("/", 1)[-1]

    @property
    def partition(self) -> str:
        """The AWS partition the resource lives in (``aws``, ``aws-cn``, ``aws-us-gov``)."""
        return arn_partition(self.arn)

    def arn_of(self, service: str, resource: str, region: str = "", account: str = "") -> str:
        """An ARN in the resource's partition (``account`` '' for AWS-owned ones)."""
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"

    @property
    def console_url(self) -> str:
        """The sign-in page of the partition's AWS console."""
        return console_url(self.partition)

    @property
    def is_regional(self) -> bool:
        return self.region not in ("", "global")

    def describe(self) -> str:
        """``acl-0abc (Name: web)`` for comments and titles: the id first, the name as told."""
        name = self.tags.get("Name") or ""
        if name and name != self.aws_id:
            return f"{self.aws_id} (Name: {hcl.comment_text(name, 80)})"
        return self.aws_id


@dataclass(frozen=True)
class Variable:
    """A value only the user knows (an admin CIDR, a log bucket)."""

    name: str
    description: str
    validation: tuple[str, str] | None = None  # (condition expression, error message)
    sensitive: bool = False

    def block(self) -> hcl.Block:
        body: list[Any] = [
            hcl.Attr("description", self.description),
            hcl.Attr("type", hcl.Raw("string")),
        ]
        if self.sensitive:
            body.append(hcl.Attr("sensitive", True))
        if self.validation:
            condition, message = self.validation
            body.append(
                hcl.Block(
                    "validation",
                    body=[
                        hcl.Attr("condition", hcl.Raw(condition)),
                        hcl.Attr("error_message", message),
                    ],
                )
            )
        return hcl.Block("variable", (self.name,), body)


ADMIN_CIDR = Variable(
    "admin_cidr",
    "The one network (CIDR, e.g. 203.0.113.10/32) allowed to reach SSH; "
    "0.0.0.0/0 and ::/0 are refused.",
    (
        'can(cidrhost(var.admin_cidr, 0)) && !contains(["0.0.0.0/0", "::/0"], var.admin_cidr)',
        "admin_cidr must be a CIDR block narrower than the whole internet.",
    ),
)


@dataclass
class Remedy:
    """The fix of one check's failing finding on one resource: the same whichever benchmark
    shows it; ``benchmark`` and ``control_ref`` only name it as the benchmark shown numbers it."""

    check_id: str
    title: str
    target: Target
    blocks: list[hcl.Block | hcl.Comment] = field(default_factory=list)
    variables: list[Variable] = field(default_factory=list)
    #: Why part (or all) of the fix is outside Terraform; empty when Terraform does it all.
    manual_reason: str = ""
    #: Filled-in AWS CLI commands (already shell-quoted), in order; ``#`` lines explain.
    cli: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    #: The refs of the controls the check decides in the benchmark shown ("5.7"; "5.2, 5.3"
    #: when it decides several), and that benchmark's short name ("CIS"); empty when none.
    control_ref: str = ""
    benchmark: str = ""

    @property
    def label(self) -> str:
        """What the fix is named by: ``CIS 5.7``, or the check when the benchmark shown has no
        control it decides."""
        if self.control_ref:
            return f"{self.benchmark} {self.control_ref}".strip()
        return f"check {self.check_id}"

    @property
    def key(self) -> tuple[str, str]:
        return (self.check_id, self.target.arn)

    @property
    def region(self) -> str | None:
        return self.target.region if self.target.is_regional else None

    @property
    def has_terraform(self) -> bool:
        return any(isinstance(block, hcl.Block) for block in self.blocks)

    def terraform(self) -> str:
        """The complete snippet: variables first, then the import and resource blocks."""
        if not self.has_terraform:
            return ""
        header = hcl.Comment(f"{self.label}: {self.title}")
        return hcl.render([header, *(v.block() for v in self.variables)]) + "\n" + self.body()

    def body(self) -> str:
        """The import and resource blocks alone (the snippet without its variables)."""
        return hcl.render(self.blocks)

    def cli_text(self) -> str:
        return "\n".join(self.cli)


def with_provider(blocks: Sequence[hcl.Block | hcl.Comment], alias: str) -> list[Any]:
    """The blocks with ``provider = aws.<alias>`` on each resource, data and import block."""
    out: list[Any] = []
    for block in blocks:
        if isinstance(block, hcl.Block) and block.type in ("resource", "data", "import"):
            block = hcl.Block(
                block.type,
                block.labels,
                [hcl.Attr("provider", hcl.Raw(f"aws.{alias}")), *block.body],
            )
        out.append(block)
    return out
