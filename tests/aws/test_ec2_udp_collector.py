"""UDP to the remote administration ports, as the EC2 collector reads it from the moto server
over HTTP: a network ACL entry and a security group rule for UDP 3389 from anywhere fail the
UDP checks (CIS v3.0.0 and later) and leave the TCP checks (v2.0.0's meaning) passing."""

from __future__ import annotations

from tests.aws.collect import ACCOUNT, REGION, collect

PREFIX = f"arn:aws:ec2:{REGION}:{ACCOUNT}"


def test_udp_3389_from_anywhere_in_an_acl_and_a_group(aws: str) -> None:
    from simulation.account import client

    ec2 = client(aws, "ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    # A custom ACL starts with the "*" deny rules only; RDP's UDP transport is let in.
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(
        NetworkAclId=acl,
        RuleNumber=100,
        Protocol="17",
        RuleAction="allow",
        Egress=False,
        CidrBlock="0.0.0.0/0",
        PortRange={"From": 3389, "To": 3389},
    )
    group = ec2.create_security_group(GroupName="rdp", Description="remote desktop", VpcId=vpc)
    ec2.authorize_security_group_ingress(
        GroupId=group["GroupId"],
        IpPermissions=[
            {
                "IpProtocol": "udp",
                "FromPort": 3389,
                "ToPort": 3389,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
            }
        ],
    )
    default_acl = ec2.describe_network_acls(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "default", "Values": ["true"]}]
    )["NetworkAcls"][0]["NetworkAclId"]

    _, results, ctx = collect(aws, "ec2")  # evidence checked as for every check
    acl_arn = f"{PREFIX}:network-acl/{acl}"
    group_arn = f"{PREFIX}:security-group/{group['GroupId']}"

    def verdict(check_id: str, arn: str) -> tuple[str, str]:
        result = results[(check_id, arn)]
        return result.status, result.summary

    status, summary = verdict("ec2_network_acl_admin_ports_udp_restricted", acl_arn)
    assert status == "fail"
    assert summary == (
        "Ingress rule 100 allows UDP port 3389 from 0.0.0.0/0, which includes UDP port 3389."
    )
    assert verdict("ec2_network_acl_admin_ports_restricted", acl_arn)[0] == "pass"

    for family, source in (("ipv4", "0.0.0.0/0"), ("ipv6", "::/0")):
        status, summary = verdict(
            f"ec2_security_group_admin_ports_{family}_udp_restricted", group_arn
        )
        assert status == "fail"
        assert summary == (
            f"Security group rdp ({group['GroupId']}) allows inbound UDP port 3389 from "
            f"{source}, which includes port 3389."
        )
        assert verdict(f"ec2_security_group_admin_ports_{family}_restricted", group_arn)[0] == (
            "pass"
        )

    # The VPC's default ACL allows all traffic: the TCP check fails it, the UDP check names
    # the same rule as covered instead of failing it a second time.
    default_arn = f"{PREFIX}:network-acl/{default_acl}"
    assert verdict("ec2_network_acl_admin_ports_restricted", default_arn)[0] == "fail"
    udp = results[("ec2_network_acl_admin_ports_udp_restricted", default_arn)]
    assert udp.status == "pass"
    assert udp.details["exposed"] == []
    assert {item["entry"]["RuleNumber"] for item in udp.details["covered"]} == {100}
    # No call beyond those the TCP checks already need.
    assert ctx.api_calls == 7
