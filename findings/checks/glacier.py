"""S3 Glacier vault access policies are not public (CIS AWS Foundations v3.0.0 and later).

Read from the ``glacier`` collector (see ``findings.aws.glacier``)::

    {"vaults": [{"arn": "arn:aws:glacier:...:vaults/archive", "name": "archive",
                 "policy": {...} | None}]}

The vault lock policy is not judged: it can only deny, or allow what the access policy already
allows, and CIS names the access policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check
from findings.checks.policies import policy_result


@check(
    "glacier_vault_policy_not_public",
    controls=(),
    service="glacier",
    resource_type="AWS::Glacier::Vault",
    title="Glacier vault access policy is not public",
)
def glacier_vault_policy_not_public(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for vault in data.get("vaults", []):
        yield policy_result(spec, vault["arn"], f"Vault '{vault['name']}'", vault.get("policy"))
