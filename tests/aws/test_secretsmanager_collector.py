"""The secretsmanager collector against the moto server, then "Secrets Manager secret is not
public" on its data."""

from __future__ import annotations

from simulation.account import client
from tests.aws.collect import ORG_ONLY, collect, public_policy

CHECK = "secretsmanager_secret_not_public"


def test_secrets_with_and_without_resource_policies(aws: str) -> None:
    sm = client(aws, "secretsmanager", "us-east-1")
    plain = sm.create_secret(Name="plain", SecretString="x", Tags=[{"Key": "Team", "Value": "a"}])
    opened = sm.create_secret(Name="open", SecretString="x")
    org = sm.create_secret(Name="org", SecretString="x")
    sm.put_resource_policy(
        SecretId="open", ResourcePolicy=public_policy("*", "secretsmanager:GetSecretValue")
    )
    sm.put_resource_policy(
        SecretId="org",
        ResourcePolicy=public_policy("*", "secretsmanager:GetSecretValue", Condition=ORG_ONLY),
    )

    collected, results, ctx = collect(aws, "secretsmanager")

    assert ctx.api_calls == 1 + 3  # ListSecrets, then GetResourcePolicy per secret
    refs = {ref.name: ref for ref in collected.resources}
    assert refs["plain"].tags == {"Team": "a"}
    assert "SecretString" not in str(collected.data)  # values are never read
    assert results[(CHECK, plain["ARN"])].summary == (
        "Secret 'plain' is not public: it has no resource policy."
    )
    failed = results[(CHECK, opened["ARN"])]
    assert failed.status == "fail"
    assert "statement 'Anyone' allows secretsmanager:GetSecretValue" in failed.summary
    assert results[(CHECK, org["ARN"])].status == "pass"
