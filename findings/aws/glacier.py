"""S3 Glacier: the region's vaults and their access policies.

Scope REGIONAL. Calls ``list_vaults`` (paginated) and, per vault, ``get_vault_access_policy``
(``ResourceNotFoundException`` means the vault has no access policy).

moto 5.2.5 has no vault access policies; the simulated account's front door
(``simulation.front``) answers ``SetVaultAccessPolicy``, ``GetVaultAccessPolicy`` and
``DeleteVaultAccessPolicy`` itself, so this collector runs unchanged against the simulation.

S3 Glacier (the vault API) is not offered in every region: in a region the SDK's endpoint data
lists no Glacier endpoint for (ap-southeast-5, il-central-1, ...) no vault can exist, so the
collector reports none without calling, instead of failing the unit on a name that does not
resolve.

``data``::

    {"vaults": [{"arn": ..., "name": "archive", "policy": {...} | None}]}
"""

from __future__ import annotations

from findings.aws.base import REGIONAL, CollectContext, Collected, collector
from findings.toolbox import ResourceRef, policy_document

_NO_POLICY = ("ResourceNotFoundException",)


def offered_in(ctx: CollectContext, region: str) -> bool:
    """Whether the SDK knows a Glacier endpoint in ``region`` (its partition's region list)."""
    partition = ctx.session.get_partition_for_region(region)
    return region in ctx.session.get_available_regions("glacier", partition_name=partition)


@collector("glacier", scope=REGIONAL)
def collect_glacier(ctx: CollectContext) -> Collected:
    if not offered_in(ctx, ctx.region):
        return Collected(resources=[], data={"vaults": []})
    glacier = ctx.client("glacier")
    vaults = []
    for item in ctx.paginate(glacier, "list_vaults", "VaultList"):
        name = str(item["VaultName"])
        answer = ctx.absent_on(glacier, "get_vault_access_policy", _NO_POLICY, vaultName=name)
        vaults.append(
            {
                "arn": str(item["VaultARN"]),
                "name": name,
                "policy": policy_document(((answer or {}).get("policy") or {}).get("Policy")),
            }
        )
    resources = [
        ResourceRef(
            arn=vault["arn"],
            resource_type="AWS::Glacier::Vault",
            region=ctx.unit.region,
            name=vault["name"],
            configuration={"Policy": vault["policy"]},
        )
        for vault in vaults
    ]
    return Collected(resources=resources, data={"vaults": vaults})
