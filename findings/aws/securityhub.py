"""Security Hub: whether the region has an active Security Hub subscription (CIS 4.16).

Scope REGIONAL. One call: ``describe_hub``. AWS answers ``InvalidAccessException`` ("Account
is not subscribed to AWS Security Hub") when the region has no hub, and
``ResourceNotFoundException`` when the hub is not found; both mean "not enabled". Any other
error (throttling, ``AccessDeniedException``) fails the unit.

The result is attached to the region's settings pseudo-resource
(``arn:aws:securityhub:<region>:<account>:regional-settings``), which exists whether or not the
hub does.

``data``: ``{"region": "eu-west-1", "hub": {"HubArn": ..., "SubscribedAt": ...} | None}``.
"""

from __future__ import annotations

from findings.aws.base import REGIONAL, CollectContext, Collected, collector
from findings.toolbox import ResourceRef, json_safe

NOT_ENABLED = ("InvalidAccessException", "ResourceNotFoundException")
HUB_KEYS = ("HubArn", "SubscribedAt", "AutoEnableControls", "ControlFindingGenerator")


@collector("securityhub", scope=REGIONAL)
def collect_securityhub(ctx: CollectContext) -> Collected:
    client = ctx.client("securityhub")
    answer = ctx.absent_on(client, "describe_hub", NOT_ENABLED)
    hub = {k: json_safe(answer[k]) for k in HUB_KEYS if k in answer} if answer is not None else None
    settings = ResourceRef(
        arn=ctx.unit.regional_settings_arn("securityhub"),
        resource_type="AWS::SecurityHub::RegionalSettings",
        region=ctx.unit.region,
        name=f"Security Hub ({ctx.unit.region})",
        configuration={"enabled": hub is not None, "hub": hub},
    )
    return Collected(resources=[settings], data={"region": ctx.unit.region, "hub": hub})
