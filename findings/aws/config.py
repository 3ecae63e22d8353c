"""AWS Config: the region's configuration recorders, their status and delivery channels.

Scope REGIONAL (CIS 3.5 asks for AWS Config in every region). Three list calls, none per
resource: ``describe_configuration_recorders``, ``describe_configuration_recorder_status`` and
``describe_delivery_channels`` (none of them paginates; a region holds at most one customer
managed recorder and one delivery channel). A region where Config was never set up answers with
empty lists, so no error is treated as "not configured".

The finding is attached to the region's settings pseudo-resource
(``arn:aws:config:<region>:<account>:regional-settings``): a region without a recorder has no
recorder to attach it to.

``data``::

    {
        "region": "eu-west-1",
        "recorders": [{"name": "default", "roleARN": "...", "recordingGroup": {...}}],
        "statuses": [{"name": "default", "recording": True, "lastStatus": "SUCCESS", ...}],
        "delivery_channels": [{"name": "default", "s3BucketName": "...", ...}],
    }
"""

from __future__ import annotations

from findings.aws.base import REGIONAL, CollectContext, Collected, collector
from findings.toolbox import ResourceRef, json_safe

REGIONAL_SETTINGS_TYPE = "AWS::Config::RegionalSettings"


@collector("config", scope=REGIONAL)
def collect_config(ctx: CollectContext) -> Collected:
    client = ctx.client("config")
    recorders = json_safe(
        ctx.paginate(client, "describe_configuration_recorders", "ConfigurationRecorders")
    )
    statuses = json_safe(
        ctx.paginate(
            client, "describe_configuration_recorder_status", "ConfigurationRecordersStatus"
        )
    )
    channels = json_safe(ctx.paginate(client, "describe_delivery_channels", "DeliveryChannels"))
    status_by_name = {status.get("name"): status for status in statuses}
    settings = ResourceRef(
        arn=ctx.unit.regional_settings_arn("config"),
        resource_type=REGIONAL_SETTINGS_TYPE,
        region=ctx.unit.region,
        name=f"AWS Config ({ctx.unit.region})",
        configuration={
            "recorders": [
                {
                    "name": recorder.get("name"),
                    "recordingGroup": recorder.get("recordingGroup"),
                    "recording": status_by_name.get(recorder.get("name"), {}).get("recording"),
                    "lastStatus": status_by_name.get(recorder.get("name"), {}).get("lastStatus"),
                }
                for recorder in recorders
            ],
            "delivery_channels": [
                {"name": channel.get("name"), "s3BucketName": channel.get("s3BucketName")}
                for channel in channels
            ],
        },
    )
    return Collected(
        resources=[settings],
        data={
            "region": ctx.unit.region,
            "recorders": recorders,
            "statuses": statuses,
            "delivery_channels": channels,
        },
    )
