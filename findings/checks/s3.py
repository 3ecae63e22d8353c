"""CIS AWS Foundations v2.0.0 checks on S3 (section 2.1), read from the ``s3`` collector.

The collector's ``data`` (see ``findings.aws.s3``)::

    {
        "buckets": [
            {
                "name": "images",
                "region": "us-east-1",
                "policy": {...} | None,            # the bucket policy, parsed
                "versioning": {"Status": "Enabled", "MFADelete": "Disabled"},  # {} if never set
                "public_access_block": {"BlockPublicAcls": True, ...} | None,
                "logging": {...} | None,
                "encryption": {"Rules": [...]} | None,
                "tags": {"Project": "story"},
            },
        ],
        "account_public_access_block": {"BlockPublicAcls": True, ...} | None,
    }

2.1.1 (deny HTTP) reads the policy the way IAM evaluates it, with these decisions:

* A statement counts when it is ``"Effect": "Deny"``, applies to every principal (``"*"`` or
  ``{"AWS": "*"}``, no ``NotPrincipal``), to every S3 action (``s3:*`` or ``*``, no
  ``NotAction``), to the bucket and/or its objects (``arn:...:bucket``, ``arn:...:bucket/*``, or
  a wildcard that covers them; no ``NotResource``), and whose only condition is
  ``aws:SecureTransport`` = false. Any further condition would narrow the deny (all conditions
  must hold for it to apply), so such a statement does not count.
* ``BoolIfExists`` counts like ``Bool``: IAM documents ``aws:SecureTransport`` as "always
  included in the request context", so the IfExists variant (which also matches when the key is
  missing) denies exactly the same requests.
* The value may be the string ``"false"`` or JSON ``false`` (or a list holding either). Other
  spellings (``"False"``) are not accepted: IAM documents the values as "true"/"false", and a
  check that cannot be sure a deny works must not pass on it.
* A deny on the objects only (``bucket/*``) passes, as in the benchmark's audit example; the
  evidence says which of the two it covers.

2.1.2 needs versioning ``Enabled`` and ``MFADelete`` ``Enabled``; versioning alone fails (the
summary says so). The catalog marks 2.1.2 as not automated; the check still gives evidence.

2.1.4 has two checks: per bucket (all four flags on the bucket, or all four on the account,
which covers every bucket) and on the account pseudo-resource (all four on the account).

``s3_bucket_policy_no_public_write`` (CIS v3+ and FSBP S3.3, not mapped yet) reads the same
policy with ``findings.checks.policies``: an Allow to everyone, no condition pinning the caller,
with a write action among its actions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check
from findings.checks.policies import analyze
from findings.checks.policies import glob_match as _glob
from findings.toolbox import as_list as _as_list
from findings.toolbox import bucket_arn
from findings.toolbox import everyone as _all_principals

PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
_SECURE_TRANSPORT = "aws:securetransport"
_BOOL_OPERATORS = {"bool", "boolifexists"}


def statements(policy: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """A policy's statements as a list (``Statement`` may be a single object)."""
    if not policy:
        return []
    return [s for s in _as_list(policy.get("Statement")) if isinstance(s, dict)]


def _label(statement: Mapping[str, Any], index: int) -> str:
    sid = statement.get("Sid")
    return f"Statement '{sid}'" if sid else f"Statement #{index + 1}"


def _all_s3_actions(statement: Mapping[str, Any]) -> bool:
    actions = [str(action).lower() for action in _as_list(statement.get("Action"))]
    return "*" in actions or "s3:*" in actions


def _covered(statement: Mapping[str, Any], arn: str) -> list[str]:
    """Which of the bucket (``arn``) and its objects (``arn/*``) the statement's Resource covers."""
    patterns = [str(p) for p in _as_list(statement.get("Resource"))]
    covered: list[str] = []
    if any(_glob(p, arn) for p in patterns):
        covered.append(arn)
    if any(_glob(p, f"{arn}/*") for p in patterns):
        covered.append(f"{arn}/*")
    return covered


def _is_false(value: Any) -> bool:
    return value is False or value == "false"


def _secure_transport_false(statement: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether the Condition is exactly ``aws:SecureTransport`` = false (and why not)."""
    condition = statement.get("Condition")
    if not isinstance(condition, dict) or not condition:
        return False, "it has no aws:SecureTransport condition"
    found = False
    for operator, keys in condition.items():
        if not isinstance(keys, dict):
            return False, f"its condition operator {operator} is malformed"
        for key, value in keys.items():
            if key.lower() != _SECURE_TRANSPORT:
                return False, f"it also requires {operator} {key}, which narrows the deny"
            if operator.lower() not in _BOOL_OPERATORS:
                return False, f"it tests aws:SecureTransport with {operator}, not Bool"
            if not any(_is_false(item) for item in _as_list(value)):
                return False, f"it applies when aws:SecureTransport is {value!r}, not false"
            found = True
    if not found:
        return False, "it has no aws:SecureTransport condition"
    return True, ""


def _mentions_secure_transport(statement: Mapping[str, Any]) -> bool:
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return False
    return any(
        isinstance(keys, dict) and any(str(k).lower() == _SECURE_TRANSPORT for k in keys)
        for keys in condition.values()
    )


def evaluate_deny_http(statement: Mapping[str, Any], arn: str) -> tuple[bool, list[str], str]:
    """Whether ``statement`` denies every S3 request without TLS on the bucket ``arn``.

    Returns ``(denies, covered_resources, reason_if_not)``.
    """
    if statement.get("Effect") != "Deny":
        return False, [], "it is not a Deny"
    if "NotPrincipal" in statement or not _all_principals(statement):
        return False, [], 'it does not apply to all principals ("*")'
    if "NotAction" in statement or not _all_s3_actions(statement):
        actions = ", ".join(str(a) for a in _as_list(statement.get("Action"))) or "no action"
        return False, [], f"it denies only {actions}, not s3:*"
    covered = [] if "NotResource" in statement else _covered(statement, arn)
    if not covered:
        return False, [], "its Resource covers neither the bucket nor its objects"
    ok, reason = _secure_transport_false(statement)
    if not ok:
        return False, covered, reason
    return True, covered, ""


def _pab_missing(config: Mapping[str, Any] | None) -> list[str]:
    return [flag for flag in PAB_FLAGS if not (config or {}).get(flag)]


def _buckets(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(data.get("buckets", []))


@check(
    "s3_bucket_secure_transport",
    controls=["2.1.1"],
    service="s3",
    resource_type="AWS::S3::Bucket",
    title="S3 bucket policy denies HTTP requests",
)
def s3_bucket_secure_transport(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for bucket in _buckets(data):
        arn = bucket_arn(unit, bucket["name"])
        policy = bucket.get("policy")
        if not policy:
            yield spec.result(
                arn,
                False,
                "The bucket has no bucket policy, so nothing denies requests made over HTTP.",
                {"policy": None},
            )
            continue
        near_misses: list[dict[str, Any]] = []
        passed = None
        for index, statement in enumerate(statements(policy)):
            denies, covered, reason = evaluate_deny_http(statement, arn)
            if denies:
                passed = (index, statement, covered)
                break
            if statement.get("Effect") == "Deny" and _mentions_secure_transport(statement):
                near_misses.append(
                    {"statement": statement, "label": _label(statement, index), "reason": reason}
                )
        if passed is not None:
            index, statement, covered = passed
            what = (
                "the bucket and its objects"
                if len(covered) == 2
                else ("its objects only" if covered[0].endswith("/*") else "the bucket only")
            )
            yield spec.result(
                arn,
                True,
                f"{_label(statement, index)} denies s3:* to all principals when "
                f"aws:SecureTransport is false, on {what}.",
                {"statement": statement, "covers": covered},
            )
            continue
        if near_misses:
            first = near_misses[0]
            summary = (
                f"{first['label']} denies requests without TLS but does not count: "
                f"{first['reason']}."
            )
        else:
            labels = ", ".join(
                f"{_label(s, i)} ({s.get('Effect', '?')})" for i, s in enumerate(statements(policy))
            )
            summary = (
                "No statement of the bucket policy denies s3:* to all principals when "
                f"aws:SecureTransport is false; it has {labels or 'no statements'}."
            )
        yield spec.result(arn, False, summary, {"policy": policy, "near_misses": near_misses})


@check(
    "s3_bucket_mfa_delete_enabled",
    controls=["2.1.2"],
    service="s3",
    resource_type="AWS::S3::Bucket",
    title="S3 bucket has MFA Delete enabled",
)
def s3_bucket_mfa_delete_enabled(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for bucket in _buckets(data):
        versioning = dict(bucket.get("versioning") or {})
        status = versioning.get("Status")
        mfa = versioning.get("MFADelete")
        details = {"versioning": versioning}
        if status == "Enabled" and mfa == "Enabled":
            summary = "Versioning and MFA Delete are both enabled."
        elif status == "Enabled":
            summary = (
                "Versioning is enabled but MFA Delete is not, so object versions can be "
                "deleted permanently without MFA."
            )
        elif mfa == "Enabled":
            summary = f"MFA Delete is enabled but versioning is {str(status).lower()}."
        elif status:
            summary = f"Versioning is {str(status).lower()} and MFA Delete is not enabled."
        else:
            summary = "Versioning has never been enabled, and MFA Delete is not enabled."
        yield spec.result(
            bucket_arn(unit, bucket["name"]), status == mfa == "Enabled", summary, details
        )


@check(
    "s3_bucket_public_access_blocked",
    controls=["2.1.4"],
    service="s3",
    resource_type="AWS::S3::Bucket",
    title="S3 bucket has all four Block Public Access settings on",
)
def s3_bucket_public_access_blocked(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    """All four flags on the bucket; as the catalog's 2.1.4 says, a bucket is also compliant
    when the account-level settings are all on (they apply to every bucket of the account)."""
    account = data.get("account_public_access_block")
    account_covers = account is not None and not _pab_missing(account)
    for bucket in _buckets(data):
        config = bucket.get("public_access_block")
        missing = _pab_missing(config)
        if not missing:
            summary = "All four bucket-level Block Public Access settings are on."
        elif account_covers:
            summary = (
                "All four account-level Block Public Access settings are on, which covers the "
                "bucket"
                + (
                    "; it has no bucket-level configuration of its own."
                    if config is None
                    else f"; at bucket level {', '.join(missing)} are off."
                )
            )
        elif config is None:
            summary = (
                "The bucket has no Block Public Access configuration, and the account-level "
                "settings do not cover it."
            )
        else:
            summary = (
                f"Bucket-level Block Public Access leaves off {', '.join(missing)}, and the "
                "account-level settings do not cover it."
            )
        yield spec.result(
            bucket_arn(unit, bucket["name"]),
            not missing or account_covers,
            summary,
            {
                "public_access_block": config,
                "missing": missing,
                "account_public_access_block": account,
            },
        )


@check(
    "s3_account_public_access_blocked",
    controls=["2.1.4"],
    service="s3",
    resource_type="AWS::::Account",
    title="Account-level S3 Block Public Access has all four settings on",
)
def s3_account_public_access_blocked(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    if "account_public_access_block" not in data:
        return
    config = data["account_public_access_block"]
    missing = _pab_missing(config)
    if config is None:
        summary = "The account has no account-level S3 Block Public Access configuration."
    elif missing:
        summary = f"Account-level S3 Block Public Access leaves off {', '.join(missing)}."
    else:
        summary = "All four account-level S3 Block Public Access settings are on."
    yield spec.result(
        unit.account_arn,
        not missing,
        summary,
        {"public_access_block": config, "missing": missing},
    )


# --------------------------------------------------------------------------- public write


def _restricted_by(bucket: Mapping[str, Any], account: Mapping[str, Any] | None) -> str:
    """Where RestrictPublicBuckets is on ('bucket', 'account') or ''."""
    if (bucket.get("public_access_block") or {}).get("RestrictPublicBuckets"):
        return "bucket"
    if (account or {}).get("RestrictPublicBuckets"):
        return "account"
    return ""


@check(
    "s3_bucket_policy_no_public_write",
    controls=(),
    service="s3",
    resource_type="AWS::S3::Bucket",
    title="S3 bucket policy grants no public write access",
)
def s3_bucket_policy_no_public_write(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    """Fails when an Allow statement lets everyone (no condition pinning the caller, see
    ``findings.checks.policies``) put, delete or otherwise change objects or the bucket.

    Public read is left to the read checks: this one names only write actions. Block Public
    Access ``RestrictPublicBuckets`` (on the bucket or the account) limits a bucket with a
    public policy to AWS services and the owner's account, as AWS enforces it, so it passes
    with the statement named in the evidence.
    """
    account = data.get("account_public_access_block")
    for bucket in _buckets(data):
        arn = bucket_arn(unit, bucket["name"])
        analysis = analyze(bucket.get("policy"))
        writes = analysis.public_writes
        restricted = _restricted_by(bucket, account)
        details = {
            **analysis.details(),
            "public_access_block": bucket.get("public_access_block"),
            "account_public_access_block": account,
        }
        if not writes:
            if not analysis.present:
                sentence = "The bucket has no bucket policy, so its policy grants no public write."
            elif analysis.is_public:
                reads = "; ".join(f"{s.label} ({', '.join(s.actions)})" for s in analysis.public)
                sentence = f"The bucket policy lets everyone read only, not write: {reads}."
            else:
                sentence = (
                    f"No statement of the bucket policy lets everyone write: {analysis.reason()}."
                )
            if analysis.note and analysis.policy is not None:
                sentence += f" Note: {analysis.note}."
            yield spec.result(arn, True, sentence, details)
            continue
        clauses = "; ".join(
            f"{s.label} allows {', '.join(s.writes)} to everyone ({s.why})" for s in writes
        )
        if restricted:
            yield spec.result(
                arn,
                True,
                f"The bucket policy would let everyone write ({clauses}), but "
                f"RestrictPublicBuckets is on for the {restricted}, which limits a public "
                "policy to AWS services and the bucket owner's account.",
                details,
            )
            continue
        yield spec.result(
            arn,
            False,
            f"The bucket policy lets everyone write: {clauses}, with no condition that pins "
            "the caller, and RestrictPublicBuckets is off.",
            details,
        )


__all__ = ["PAB_FLAGS", "bucket_arn", "evaluate_deny_http", "statements"]
