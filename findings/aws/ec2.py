"""The EC2 collector: instances, EBS default encryption and the VPC network configuration.

Scope REGIONAL. One list call each, every one paginated, none per resource:

* ``DescribeInstances`` (instances not terminated; metadata options, state and tags come with
  it), ``GetEbsEncryptionByDefault`` (on the ``AWS::EC2::RegionalSettings`` pseudo-resource),
  ``DescribeSecurityGroups``, ``DescribeNetworkAcls``, ``DescribeVpcs``, ``DescribeFlowLogs``,
  ``DescribeRouteTables`` (configuration only; no check reads them yet).

Everything the region holds is returned and judged, used or not: the default VPC, its default
network ACL and its default security group are evaluated whether or not anything runs in them.

VPCs, network ACLs, security groups and route tables owned by another account (a VPC shared
with this one through AWS RAM) are left out: they are that account's resources, with that
account's ARNs, and its own scan judges them.
"""

from __future__ import annotations

from typing import Any

from findings.aws.base import REGIONAL, CollectContext, Collected, collector
from findings.toolbox import ResourceRef, ec2_arn, json_safe

#: Every instance state but "terminated" (terminated instances linger in the API for a while).
LIVE_STATES = ["pending", "running", "shutting-down", "stopping", "stopped"]

_INSTANCE_KEYS = (
    "InstanceId",
    "InstanceType",
    "ImageId",
    "State",
    "MetadataOptions",
    "VpcId",
    "SubnetId",
    "PrivateIpAddress",
    "PublicIpAddress",
    "IamInstanceProfile",
    "SecurityGroups",
    "LaunchTime",
)
_FLOW_LOG_KEYS = (
    "FlowLogId",
    "ResourceId",
    "TrafficType",
    "FlowLogStatus",
    "DeliverLogsStatus",
    "DeliverLogsErrorMessage",
    "LogDestinationType",
    "LogDestination",
    "LogGroupName",
    "CreationTime",
)


def tag_dict(item: dict[str, Any]) -> dict[str, str]:
    return {str(tag["Key"]): str(tag.get("Value", "")) for tag in item.get("Tags", []) or []}


def _pick(item: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: json_safe(item[key]) for key in keys if key in item}


def _without_tags(item: dict[str, Any]) -> dict[str, Any]:
    return {key: json_safe(value) for key, value in item.items() if key != "Tags"}


@collector("ec2", scope=REGIONAL)
def collect_ec2(ctx: CollectContext) -> Collected:
    unit = ctx.unit
    region = ctx.region
    ec2 = ctx.client("ec2")

    def owned(item: dict[str, Any]) -> bool:
        return str(item.get("OwnerId", unit.account_id)) == unit.account_id

    reservations = ctx.paginate(
        ec2,
        "describe_instances",
        "Reservations",
        Filters=[{"Name": "instance-state-name", "Values": LIVE_STATES}],
    )
    raw_instances = [
        instance
        for reservation in reservations
        for instance in reservation.get("Instances", [])
        if instance.get("State", {}).get("Name") != "terminated"
    ]
    ebs = ctx.call(ec2, "get_ebs_encryption_by_default")
    raw_groups = [
        g for g in ctx.paginate(ec2, "describe_security_groups", "SecurityGroups") if owned(g)
    ]
    raw_acls = [a for a in ctx.paginate(ec2, "describe_network_acls", "NetworkAcls") if owned(a)]
    raw_vpcs = [v for v in ctx.paginate(ec2, "describe_vpcs", "Vpcs") if owned(v)]
    raw_flow_logs = ctx.paginate(ec2, "describe_flow_logs", "FlowLogs")
    raw_tables = [t for t in ctx.paginate(ec2, "describe_route_tables", "RouteTables") if owned(t)]

    instances = [
        {**_pick(i, _INSTANCE_KEYS), "Tags": json_safe(i.get("Tags", []))} for i in raw_instances
    ]
    groups = [json_safe(g) for g in raw_groups]
    acls = [json_safe(a) for a in raw_acls]
    vpcs = [json_safe(v) for v in raw_vpcs]
    flow_logs = [_pick(f, _FLOW_LOG_KEYS) for f in raw_flow_logs]
    tables = [json_safe(t) for t in raw_tables]
    encryption_by_default = bool(ebs.get("EbsEncryptionByDefault"))

    flow_logs_by_vpc: dict[str, list[dict[str, Any]]] = {}
    for flow_log in flow_logs:
        flow_logs_by_vpc.setdefault(str(flow_log.get("ResourceId")), []).append(flow_log)

    resources = [
        ResourceRef(
            arn=unit.regional_settings_arn("ec2"),
            resource_type="AWS::EC2::RegionalSettings",
            region=region,
            name=f"EC2 settings ({region})",
            configuration={"ebs_encryption_by_default": encryption_by_default},
        )
    ]
    for instance, raw in zip(instances, raw_instances, strict=True):
        tags = tag_dict(raw)
        resources.append(
            ResourceRef(
                arn=ec2_arn(unit, "instance", instance["InstanceId"]),
                resource_type="AWS::EC2::Instance",
                region=region,
                name=tags.get("Name", instance["InstanceId"]),
                tags=tags,
                configuration=_without_tags(instance),
            )
        )
    # Which VPC a network ACL or security group is in, and whether it is the region's default
    # VPC: the control page tells a web VPC's ACL from the default ones, and the fix of one in
    # a default VPC proposes deleting that VPC.
    default_vpc_ids = {str(v["VpcId"]) for v in vpcs if v.get("IsDefault")}
    for item in (*groups, *acls):
        if item.get("VpcId"):
            item["VpcIsDefault"] = str(item["VpcId"]) in default_vpc_ids
    for group in groups:
        tags = tag_dict(group)
        resources.append(
            ResourceRef(
                arn=ec2_arn(unit, "security-group", group["GroupId"]),
                resource_type="AWS::EC2::SecurityGroup",
                region=region,
                name=tags.get("Name", str(group.get("GroupName", group["GroupId"]))),
                tags=tags,
                configuration=_without_tags(group),
            )
        )
    for acl in acls:
        tags = tag_dict(acl)
        resources.append(
            ResourceRef(
                arn=ec2_arn(unit, "network-acl", acl["NetworkAclId"]),
                resource_type="AWS::EC2::NetworkAcl",
                region=region,
                name=tags.get("Name", acl["NetworkAclId"]),
                tags=tags,
                configuration=_without_tags(acl),
            )
        )
    for vpc in vpcs:
        tags = tag_dict(vpc)
        resources.append(
            ResourceRef(
                arn=ec2_arn(unit, "vpc", vpc["VpcId"]),
                resource_type="AWS::EC2::VPC",
                region=region,
                name=tags.get("Name", vpc["VpcId"]),
                tags=tags,
                configuration={
                    **_without_tags(vpc),
                    "FlowLogs": flow_logs_by_vpc.get(vpc["VpcId"], []),
                },
            )
        )
    for table in tables:
        tags = tag_dict(table)
        resources.append(
            ResourceRef(
                arn=ec2_arn(unit, "route-table", table["RouteTableId"]),
                resource_type="AWS::EC2::RouteTable",
                region=region,
                name=tags.get("Name", table["RouteTableId"]),
                tags=tags,
                configuration=_without_tags(table),
            )
        )

    return Collected(
        resources=resources,
        data={
            "region": region,
            "ebs_encryption_by_default": encryption_by_default,
            "instances": instances,
            "security_groups": groups,
            "network_acls": acls,
            "vpcs": vpcs,
            "flow_logs": flow_logs,
            "route_tables": tables,
        },
    )
