"""The glacier collector against the moto server, then "Glacier vault access policy is not
public" on its data.

moto 5.2.5 has no vault access policies: the simulated account's front door keeps them
(``simulation.front``), so the collector's calls go over HTTP exactly as they would to AWS.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from simulation.account import client
from tests.aws.collect import ORG_ONLY, collect, public_policy

CHECK = "glacier_vault_policy_not_public"
ARN = "arn:aws:glacier:us-east-1:123456789012:vaults/{}"


def test_vaults_with_and_without_access_policies(aws: str) -> None:
    glacier = client(aws, "glacier", "us-east-1")
    for name in ("plain", "open", "org"):
        glacier.create_vault(vaultName=name)
    glacier.set_vault_access_policy(
        vaultName="open", policy={"Policy": public_policy(ARN.format("open"), "glacier:*")}
    )
    glacier.set_vault_access_policy(
        vaultName="org",
        policy={
            "Policy": public_policy(ARN.format("org"), "glacier:InitiateJob", Condition=ORG_ONLY)
        },
    )

    collected, results, ctx = collect(aws, "glacier")

    assert ctx.api_calls == 1 + 3  # ListVaults, then GetVaultAccessPolicy per vault
    vaults = {vault["name"]: vault for vault in collected.data["vaults"]}
    assert vaults["plain"]["policy"] is None
    assert results[(CHECK, ARN.format("plain"))].summary == (
        "Vault 'plain' is not public: it has no resource policy."
    )
    failed = results[(CHECK, ARN.format("open"))]
    assert failed.status == "fail"
    assert "statement 'Anyone' allows glacier:* to everyone" in failed.summary
    assert results[(CHECK, ARN.format("org"))].status == "pass"

    glacier.delete_vault_access_policy(vaultName="open")
    _, results, _ = collect(aws, "glacier")
    assert results[(CHECK, ARN.format("open"))].status == "pass"


def test_a_deleted_vault_takes_its_policy_with_it(aws: str) -> None:
    glacier = client(aws, "glacier", "us-east-1")
    glacier.create_vault(vaultName="reused")
    glacier.set_vault_access_policy(
        vaultName="reused", policy={"Policy": public_policy(ARN.format("reused"), "glacier:*")}
    )
    glacier.delete_vault(vaultName="reused")
    glacier.create_vault(vaultName="reused")

    collected, results, _ = collect(aws, "glacier")
    assert collected.data["vaults"][0]["policy"] is None
    assert results[(CHECK, ARN.format("reused"))].status == "pass"


def test_a_policy_for_a_missing_vault_is_refused(aws: str) -> None:
    glacier = client(aws, "glacier", "us-east-1")
    with pytest.raises(ClientError) as raised:
        glacier.set_vault_access_policy(
            vaultName="nowhere", policy={"Policy": public_policy("*", "glacier:*")}
        )
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_region_without_glacier_has_no_vaults_and_costs_no_call(aws: str) -> None:
    # ap-southeast-5 has no Glacier endpoint: AWS does not offer the vault API there.
    collected, results, ctx = collect(aws, "glacier", "ap-southeast-5")

    assert collected.data == {"vaults": []} and collected.resources == []
    assert results == {} and ctx.api_calls == 0
