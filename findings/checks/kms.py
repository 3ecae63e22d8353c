"""CIS AWS Foundations v2.0.0 check 3.8 (rotation of customer created symmetric CMKs), and
the later versions' "KMS keys are not public" (read from the ``kms_policy`` collector).

3.8 reads the ``kms`` collector (see ``findings.aws.kms``). Only the keys the collector marked
``eligible`` are judged: customer managed, enabled, ``SYMMETRIC_DEFAULT``, key material generated
by KMS. AWS managed keys, asymmetric and HMAC keys, disabled keys or keys pending deletion,
and keys with imported material are skipped (no result): automatic rotation does not apply to
them, and the benchmark's audit limits itself to customer managed ``SYMMETRIC_DEFAULT`` keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check
from findings.checks.policies import policy_result


def _name(key: Mapping[str, Any]) -> str:
    aliases = key.get("aliases") or []
    key_id = key.get("metadata", {}).get("KeyId") or key.get("arn", "")
    return f"Key {key_id}" + (f" ({', '.join(aliases)})" if aliases else "")


@check(
    "kms_key_rotation_enabled",
    controls=["3.8"],
    service="kms",
    resource_type="AWS::KMS::Key",
    title="Automatic rotation is enabled on customer managed symmetric keys",
)
def kms_key_rotation_enabled(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for key in data.get("keys", []):
        metadata = key.get("metadata", {})
        if not key.get("eligible") or metadata.get("KeyManager") != "CUSTOMER":
            continue
        rotation = key.get("rotation") or {}
        enabled = bool(rotation.get("KeyRotationEnabled"))
        period = rotation.get("RotationPeriodInDays")
        if enabled:
            summary = f"{_name(key)} rotates automatically" + (
                f" every {period} days." if period else "."
            )
        else:
            summary = (
                f"{_name(key)} is a customer managed symmetric key without automatic rotation."
            )
        yield spec.result(
            key["arn"],
            enabled,
            summary,
            {
                "KeySpec": metadata.get("KeySpec"),
                "KeyManager": metadata.get("KeyManager"),
                "KeyState": metadata.get("KeyState"),
                "Origin": metadata.get("Origin"),
                **rotation,
            },
        )


@check(
    "kms_key_not_public",
    controls=(),
    service="kms_policy",
    resource_type="AWS::KMS::Key",
    title="KMS key policy is not public",
)
def kms_key_not_public(data: Mapping[str, Any], unit: Unit, spec: CheckSpec) -> Iterable[Result]:
    """Customer managed keys only: an AWS managed key's policy is written by AWS and pins the
    callers with ``kms:CallerAccount`` and ``kms:ViaService``; the account cannot change it.

    Read from the ``kms_policy`` collector (see ``findings.aws.kms``), a separate collector so
    a scan pays for the policies only once a benchmark maps this check.
    """
    for key in data.get("keys", []):
        if key.get("metadata", {}).get("KeyManager") != "CUSTOMER":
            continue
        yield policy_result(
            spec,
            key["arn"],
            _name(key),
            key.get("policy"),
            {"KeyState": key.get("metadata", {}).get("KeyState")},
        )
