"""Whether a resource policy (a bucket, key, topic, queue, secret, function, bus or vault policy)
lets everyone in, and with which actions. Pure: plain documents in, a small verdict out.

A statement makes the resource public when all of these hold:

* ``"Effect": "Allow"`` (a Deny only ever takes access away);
* its principal is everyone: ``"*"``, ``{"AWS": "*"}``, a list holding ``"*"``, or an AWS
  principal whose account is a wildcard (``arn:aws:iam::*:root``: EventBridge writes
  ``put-permission --principal "*"`` that way); or it names ``NotPrincipal``, which allows
  everyone except the principals listed;
* no condition pins the caller. A condition pins the caller when it tests one of
  ``PINNING_KEYS`` (the caller's or the source's account, organisation, VPC, endpoint, ARN or
  network) with a positive operator (``StringEquals``, ``StringLike``, ``ArnEquals``,
  ``ArnLike``, ``IpAddress``, ...) against concrete values only. These do not pin:
  a negated operator (``StringNotEquals``: everyone but one account), ``...IfExists`` and
  ``ForAllValues:`` (both match a request that lacks the key), a value that is a wildcard
  (``"*"``, an ARN whose account is ``*``, an account id with ``*`` in it; an organisation
  path may end in ``*`` after a concrete organisation id), a network wider
  than ``/8`` (IPv4) or ``/32`` (IPv6), as S3 defines "public".
  ``kms:ViaService`` alone does not pin (any account may call through the service); with
  ``kms:CallerAccount`` beside it, the statement is pinned by the account.

This is the definition S3 Block Public Access and IAM Access Analyzer document for "public",
applied the same way to every service: conditions are all required (AND), the values of one
key are alternatives (OR), so one pinning key is enough and every value of it must be concrete.

A policy that cannot be read (not JSON, not an object, statements that are not objects) is
not called public: the verdict says so in ``note``, and the check's evidence shows it, rather
than guessing.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from findings.checks.base import CheckSpec, Result
from findings.toolbox import as_list

#: Condition keys (lower case) that, set to concrete values, limit a statement to known callers.
PINNING_KEYS = frozenset(
    {
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceowner",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceip",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:userid",
        "aws:username",
        "kms:calleraccount",
        "s3:dataaccesspointarn",
        "s3:dataaccesspointaccount",
    }
)
_ARN_KEYS = frozenset(
    {"aws:sourcearn", "aws:principalarn", "s3:dataaccesspointarn", "aws:userid", "aws:username"}
)
_ORG_PATH_KEYS = frozenset({"aws:principalorgpaths", "aws:sourceorgpaths"})
_PINNING_OPERATORS = frozenset(
    {
        "stringequals",
        "stringequalsignorecase",
        "stringlike",
        "arnequals",
        "arnlike",
        "ipaddress",
    }
)
#: Widest networks a pinning ``aws:SourceIp`` may name (S3's definition of "public").
_MIN_PREFIX = {4: 8, 6: 32}

#: Verbs that start the name of an action which changes data or configuration. An action whose
#: name starts with one of them is a write; wildcards are tested against these verbs and
#: ``KNOWN_WRITES`` (``s3:*Object`` covers ``s3:PutObject``).
WRITE_VERBS = (
    "Abort",
    "Add",
    "Associate",
    "Attach",
    "Bypass",
    "Cancel",
    "Create",
    "Delete",
    "Disable",
    "Enable",
    "Initiate",
    "Modify",
    "Publish",
    "Put",
    "Remove",
    "Replicate",
    "Restore",
    "Revoke",
    "Schedule",
    "Send",
    "Set",
    "Tag",
    "Untag",
    "Update",
    "Upload",
)
KNOWN_WRITES = (
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:RestoreObject",
    "s3:ReplicateObject",
    "s3:ReplicateDelete",
    "s3:AbortMultipartUpload",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:DeleteBucket",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketPublicAccessBlock",
)


# --------------------------------------------------------------------------- wildcards


def glob_match(pattern: str, text: str) -> bool:
    """IAM wildcard matching: ``*`` any run of characters, ``?`` one character.

    Segment by segment, never backtracking: a policy is written by whoever can edit a resource
    in a scanned account, and a backtracking matcher (a regex of ``.*``) takes exponential time
    on a pattern like ``a*a*a*a*a*a*a*a*a*a*b``. The parts between stars must appear in order;
    the first is anchored at the start, the last at the end, and each middle part is taken at
    its leftmost place (any later place leaves less text for the rest, so leftmost is never
    worse). Time is at most the text's length times the longest part.
    """
    parts = pattern.split("*")
    if len(parts) == 1:
        return len(pattern) == len(text) and _part_at(pattern, text, 0)
    first, middle, last = parts[0], parts[1:-1], parts[-1]
    end = len(text) - len(last)
    if end < len(first) or not _part_at(first, text, 0) or not _part_at(last, text, end):
        return False
    position = len(first)
    for part in middle:
        found = _find_part(part, text, position, end)
        if found < 0:
            return False
        position = found + len(part)
    return True


def _part_at(part: str, text: str, start: int) -> bool:
    """Whether ``part`` (``?`` for any one character) matches ``text`` at ``start``."""
    if start < 0 or start + len(part) > len(text):
        return False
    return all(p == "?" or p == text[start + i] for i, p in enumerate(part))


def _find_part(part: str, text: str, start: int, end: int) -> int:
    """The leftmost place in ``text[start:end]`` where ``part`` matches whole, or -1."""
    if "?" not in part:
        return text.find(part, start, end)
    for place in range(start, end - len(part) + 1):
        if _part_at(part, text, place):
            return place
    return -1


def _wild(value: str) -> bool:
    return "*" in value or "?" in value


# --------------------------------------------------------------------------- reading


def parse_policy(document: Any) -> tuple[dict[str, Any] | None, str]:
    """``(policy, note)``: the document as a dict (None when there is none), and what was
    wrong with it when it could not be read (then the policy is None too)."""
    if document is None or document == "" or document == {}:
        return None, ""
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document)
        except ValueError as exc:
            return None, f"the policy is not valid JSON ({exc.args[0] if exc.args else exc})"
    if not isinstance(document, dict):
        return None, f"the policy is a JSON {type(document).__name__}, not an object"
    return document, ""


def label(statement: Mapping[str, Any], index: int) -> str:
    """How evidence names a statement: by its Sid, or by its place."""
    sid = statement.get("Sid")
    return f"statement '{sid}'" if sid not in (None, "") else f"statement #{index + 1}"


# --------------------------------------------------------------------------- principals


def _aws_principal_is_everyone(value: Any) -> bool:
    text = str(value)
    if text == "*":
        return True
    parts = text.split(":")
    # arn:PARTITION:iam::ACCOUNT:... with a wildcard account is every account.
    if len(parts) >= 6 and parts[0] == "arn" and parts[2] == "iam":
        return _wild(parts[4])
    # A bare account id with a wildcard ("*" alone is handled above).
    return text.replace("*", "").replace("?", "").isdigit() and _wild(text)


def everyone_reason(statement: Mapping[str, Any]) -> str:
    """Why the statement's principal is everyone ('' when it is not)."""
    if "NotPrincipal" in statement:
        return "it uses NotPrincipal, which allows everyone except the principals it lists"
    principal = statement.get("Principal")
    if principal == "*":
        return 'its Principal is "*"'
    if isinstance(principal, list) and "*" in principal:
        return 'its Principal list holds "*"'
    if isinstance(principal, dict):
        for value in as_list(principal.get("AWS")):
            if _aws_principal_is_everyone(value):
                return (
                    'its Principal is {"AWS": "*"}'
                    if value == "*"
                    else (f"its Principal {value} names every AWS account")
                )
    return ""


# --------------------------------------------------------------------------- conditions


def _arn_value_pins(value: str) -> bool:
    """An ARN value pins when its account is concrete (S3 ARNs have none: then the bucket)."""
    parts = value.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return not _wild(value)
    account = parts[4]
    if account:
        return not _wild(account)
    return not _wild(":".join(parts[5:])) and not _wild(parts[2])


def _network_pins(value: str) -> bool:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return network.prefixlen >= _MIN_PREFIX[network.version]


def _value_pins(key: str, value: Any) -> bool:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return False
    text = str(value).strip()
    if not text:
        return False
    if key == "aws:sourceip":
        return _network_pins(text)
    if key in _ARN_KEYS:
        return _arn_value_pins(text)
    if key in _ORG_PATH_KEYS:
        # "o-a1b2c3d4e5/*" is the whole organisation, "o-.../r-.../ou-.../*" one OU's subtree:
        # a wildcard after a concrete organisation id still pins the caller to that org.
        org, slash, _ = text.partition("/")
        return bool(slash) and org.startswith("o-") and len(org) > 2 and not _wild(org)
    return not _wild(text)


def pinning_condition(statement: Mapping[str, Any]) -> str:
    """The condition that pins the statement's callers, as ``Operator key = values``, or ''."""
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return ""
    keys_seen: dict[str, str] = {}
    for operator, tests in condition.items():
        if not isinstance(tests, dict):
            continue
        op = str(operator).lower()
        if op.startswith("forallvalues:"):
            continue  # true when the request lacks the key
        op = op.removeprefix("foranyvalue:")
        if op not in _PINNING_OPERATORS:
            continue  # negated, IfExists, Null, Bool, numeric, date: none names the caller
        for key, value in tests.items():
            name = str(key).lower()
            values = as_list(value)
            if name not in PINNING_KEYS or not values:
                continue
            if all(_value_pins(name, item) for item in values):
                shown = ", ".join(str(item) for item in values)
                keys_seen[name] = f"{operator} {key} = {shown}"
    if not keys_seen:
        return ""
    # kms:CallerAccount first: with kms:ViaService beside it, the account is what pins.
    return keys_seen.get("kms:calleraccount") or next(iter(keys_seen.values()))


# --------------------------------------------------------------------------- actions


def _actions(statement: Mapping[str, Any]) -> list[str]:
    return [str(action) for action in as_list(statement.get("Action"))]


def _is_write(action: str) -> bool:
    text = action.lower()
    if ":" not in text:
        return text == "*" or _wild(text)
    service, name = text.split(":", 1)
    if not _wild(text):
        return any(name.startswith(verb.lower()) for verb in WRITE_VERBS)
    candidates = [f"{service}:{verb.lower()}" for verb in WRITE_VERBS]
    candidates += [known.lower() for known in KNOWN_WRITES if known.lower().startswith(service)]
    if _wild(service):
        candidates += [known.lower() for known in KNOWN_WRITES]
    return any(glob_match(text, candidate) for candidate in candidates)


def write_actions(statement: Mapping[str, Any]) -> list[str]:
    """The statement's actions that can change something (``*``, ``s3:*``, ``s3:Put*``,
    ``s3:DeleteObject``, ...). ``NotAction`` in an Allow allows every action it does not list,
    writes included, so it is reported as ``NotAction ...``."""
    if "NotAction" in statement:
        listed = ", ".join(str(a) for a in as_list(statement.get("NotAction")))
        return [f"NotAction {listed}"]
    return [action for action in _actions(statement) if _is_write(action)]


def read_only(statement: Mapping[str, Any]) -> bool:
    """Whether the statement's actions only read (no write among them)."""
    return not write_actions(statement)


# --------------------------------------------------------------------------- verdict


@dataclass(frozen=True)
class PublicStatement:
    """One Allow statement that lets everyone in."""

    label: str  # "statement 'PublicRead'" or "statement #2"
    statement: Mapping[str, Any]
    why: str  # 'its Principal is "*"'
    actions: tuple[str, ...]
    writes: tuple[str, ...]

    @property
    def sentence(self) -> str:
        shown = ", ".join(self.actions) or (
            "every action but " + ", ".join(str(a) for a in as_list(self.statement["NotAction"]))
            if "NotAction" in self.statement
            else "no action"
        )
        return (
            f"{self.label} allows {shown} to everyone ({self.why}) with no condition that "
            "pins the caller to known accounts, organisations or networks"
        )


@dataclass(frozen=True)
class PolicyAnalysis:
    """What a resource policy opens to everyone.

    ``public`` holds the statements that do; ``pinned`` the statements open to everyone
    but pinned by a condition (label, condition), kept as evidence of why they do not count;
    ``note`` says why the policy could not be read (then nothing is public).
    """

    present: bool
    public: tuple[PublicStatement, ...] = ()
    pinned: tuple[tuple[str, str], ...] = ()
    note: str = ""
    policy: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def is_public(self) -> bool:
        return bool(self.public)

    @property
    def public_writes(self) -> tuple[PublicStatement, ...]:
        return tuple(s for s in self.public if s.writes)

    def reason(self, statements: Iterable[PublicStatement] | None = None) -> str:
        """One readable clause: why the policy is public, or why it is not."""
        chosen = list(self.public if statements is None else statements)
        if chosen:
            return "; ".join(s.sentence for s in chosen)
        if self.note and self.policy is None:
            return f"its policy could not be read: {self.note}"
        if not self.present:
            return "it has no resource policy"
        if self.pinned:
            shown = "; ".join(f"{where} only when {cond}" for where, cond in self.pinned)
            return (
                f"its policy opens to everyone only under conditions that pin the caller ({shown})"
            )
        return "no Allow statement of its policy grants access to everyone"

    def details(self) -> dict[str, Any]:
        """Evidence: the policy and the statements that decided."""
        return {
            "policy": dict(self.policy) if self.policy is not None else None,
            "public_statements": [
                {
                    "label": s.label,
                    "statement": dict(s.statement),
                    "why": s.why,
                    "write_actions": list(s.writes),
                }
                for s in self.public
            ],
            "pinned_statements": [
                {"label": where, "condition": cond} for where, cond in self.pinned
            ],
            **({"note": self.note} if self.note else {}),
        }


def analyze(document: Any) -> PolicyAnalysis:
    """What ``document`` (a JSON string or a parsed dict; None for no policy) opens to everyone."""
    policy, note = parse_policy(document)
    if note:
        return PolicyAnalysis(present=True, note=note)
    if policy is None:
        return PolicyAnalysis(present=False)
    raw = policy.get("Statement")
    if raw is None:
        return PolicyAnalysis(present=True, note="the policy has no Statement", policy=policy)
    items = as_list(raw)
    skipped = [index for index, item in enumerate(items) if not isinstance(item, dict)]
    public: list[PublicStatement] = []
    pinned: list[tuple[str, str]] = []
    for index, statement in enumerate(items):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        why = everyone_reason(statement)
        if not why:
            continue
        pin = pinning_condition(statement)
        if pin:
            pinned.append((label(statement, index), pin))
            continue
        public.append(
            PublicStatement(
                label=label(statement, index),
                statement=statement,
                why=why,
                actions=tuple(_actions(statement)),
                writes=tuple(write_actions(statement)),
            )
        )
    note = ""
    if skipped:
        places = ", ".join(f"#{index + 1}" for index in skipped)
        note = f"statement(s) {places} are not JSON objects and were not read"
    return PolicyAnalysis(
        present=True, public=tuple(public), pinned=tuple(pinned), note=note, policy=policy
    )


def summary(subject: str, analysis: PolicyAnalysis) -> str:
    """A plain sentence for a check's evidence: ``"Topic 'alerts' is public: ..."``."""
    if analysis.is_public:
        return f"{subject} is public: {analysis.reason()}."
    sentence = f"{subject} is not public: {analysis.reason()}."
    if analysis.note and analysis.present and analysis.policy is not None:
        sentence += f" Note: {analysis.note}."
    return sentence


__all__ = [
    "KNOWN_WRITES",
    "PINNING_KEYS",
    "WRITE_VERBS",
    "PolicyAnalysis",
    "PublicStatement",
    "analyze",
    "everyone_reason",
    "glob_match",
    "label",
    "parse_policy",
    "pinning_condition",
    "policy_result",
    "read_only",
    "summary",
    "write_actions",
]


def policy_result(
    spec: CheckSpec,
    arn: str,
    subject: str,
    document: Any,
    extra: Mapping[str, Any] | None = None,
) -> Result:
    """The verdict of a "not public" check on one resource: fail when a statement of its
    policy opens it to everyone, with the analysis as evidence."""
    analysis = analyze(document)
    return spec.result(
        arn,
        not analysis.is_public,
        summary(subject, analysis),
        {**analysis.details(), **(extra or {})},
    )
