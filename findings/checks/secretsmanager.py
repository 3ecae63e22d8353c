"""Secrets Manager secrets are not public (CIS AWS Foundations v3.0.0 and later).

Read from the ``secretsmanager`` collector (see ``findings.aws.secretsmanager``)::

    {"secrets": [{"arn": "arn:aws:secretsmanager:...:secret:db-AbCdEf", "name": "db",
                  "policy": {...} | None}]}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check
from findings.checks.policies import policy_result


@check(
    "secretsmanager_secret_not_public",
    controls=(),
    service="secretsmanager",
    resource_type="AWS::SecretsManager::Secret",
    title="Secrets Manager secret is not public",
)
def secretsmanager_secret_not_public(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for secret in data.get("secrets", []):
        yield policy_result(spec, secret["arn"], f"Secret '{secret['name']}'", secret.get("policy"))
