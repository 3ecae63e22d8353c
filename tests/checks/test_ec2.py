"""Pure tests of the EC2/VPC checks (CIS 2.2.1, 3.9, 5.1, 5.2, 5.3, 5.4, 5.6)."""

from __future__ import annotations

from typing import Any

import pytest

from findings.checks import REGISTRY
from findings.checks.base import Result, Unit
from tests.checks.evidence import checked

UNIT = Unit("123456789012", "us-east-1")
PREFIX = "arn:aws:ec2:us-east-1:123456789012"
ACL_ARN = f"{PREFIX}:network-acl/acl-1"
SG_ARN = f"{PREFIX}:security-group/sg-1"


def run(check_id: str, data: dict[str, Any]) -> list[Result]:
    return checked(REGISTRY[check_id].run(data, UNIT))


def one(check_id: str, data: dict[str, Any]) -> Result:
    results = run(check_id, data)
    assert len(results) == 1
    return results[0]


def test_registered_with_their_controls() -> None:
    expected = {
        "ec2_ebs_default_encryption_enabled": ("2.2.1", "AWS::EC2::RegionalSettings"),
        "ec2_vpc_flow_logs_enabled": ("3.9", "AWS::EC2::VPC"),
        "ec2_network_acl_admin_ports_restricted": ("5.1", "AWS::EC2::NetworkAcl"),
        "ec2_security_group_admin_ports_ipv4_restricted": ("5.2", "AWS::EC2::SecurityGroup"),
        "ec2_security_group_admin_ports_ipv6_restricted": ("5.3", "AWS::EC2::SecurityGroup"),
        "ec2_default_security_group_restricts_all": ("5.4", "AWS::EC2::SecurityGroup"),
        "ec2_instance_imdsv2_required": ("5.6", "AWS::EC2::Instance"),
    }
    for check_id, (control, resource_type) in expected.items():
        spec = REGISTRY[check_id]
        assert (spec.controls, spec.resource_type, spec.service) == (
            (control,),
            resource_type,
            "ec2",
        )


# --------------------------------------------------------------------------- 5.1


def entry(
    number: int,
    action: str = "allow",
    protocol: str = "-1",
    cidr: str = "0.0.0.0/0",
    ports: tuple[int, int] | None = None,
    egress: bool = False,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "RuleNumber": number,
        "RuleAction": action,
        "Protocol": protocol,
        "Egress": egress,
        ("Ipv6CidrBlock" if ":" in cidr else "CidrBlock"): cidr,
    }
    if ports is not None:
        item["PortRange"] = {"From": ports[0], "To": ports[1]}
    return item


DEFAULT_DENY = entry(32767, "deny")


def nacl(*entries: dict[str, Any]) -> Result:
    acl = {
        "NetworkAclId": "acl-1",
        "VpcId": "vpc-1",
        "IsDefault": True,
        "Entries": [*entries, DEFAULT_DENY, entry(32767, "deny", egress=True)],
    }
    return one("ec2_network_acl_admin_ports_restricted", {"network_acls": [acl]})


def exposed_ports(result: Result) -> set[tuple[str, int]]:
    return {(item["source"], item["port"]) for item in result.details["exposed"]}


def test_default_nacl_allowing_everything_fails_on_both_ports() -> None:
    result = nacl(entry(100))
    assert (result.resource_arn, result.status) == (ACL_ARN, "fail")
    assert result.summary == (
        "Ingress rule 100 allows all traffic from 0.0.0.0/0, which includes ports 22 and 3389."
    )
    assert exposed_ports(result) == {("0.0.0.0/0", 22), ("0.0.0.0/0", 3389)}
    assert result.details["exposed"][0]["entry"]["RuleNumber"] == 100


def test_only_the_default_rule_passes() -> None:
    result = nacl()
    assert result.status == "pass"
    assert "by the default rule (*), which denies all traffic" in result.summary
    assert "from ::/0 because no entry matches" in result.summary


def test_lower_numbered_deny_shadows_the_allow_for_its_ports() -> None:
    result = nacl(entry(100), entry(90, "deny", "6", ports=(22, 22)))
    assert result.status == "fail"
    assert exposed_ports(result) == {("0.0.0.0/0", 3389)}
    assert result.summary.endswith("which includes port 3389.")


def test_deny_of_both_ports_before_allow_all_passes() -> None:
    result = nacl(
        entry(100),
        entry(80, "deny", "6", ports=(22, 22)),
        entry(90, "deny", "6", ports=(3389, 3389)),
    )
    assert result.status == "pass"
    assert "port 22 from 0.0.0.0/0 by rule 80" in result.summary


def test_deny_with_higher_number_does_not_shadow() -> None:
    result = nacl(entry(100), entry(110, "deny", "6", ports=(0, 65535)))
    assert exposed_ports(result) == {("0.0.0.0/0", 22), ("0.0.0.0/0", 3389)}


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        ((0, 1023), {22}),
        ((1024, 65535), {3389}),
        ((20, 3390), {22, 3389}),
        ((22, 22), {22}),
        ((23, 3388), set()),
        ((80, 443), set()),
    ],
)
def test_tcp_port_ranges(ports: tuple[int, int], expected: set[int]) -> None:
    result = nacl(entry(100, protocol="6", ports=ports))
    assert {port for _, port in exposed_ports(result)} == expected
    assert result.status == ("fail" if expected else "pass")


def test_tcp_without_port_range_means_all_ports() -> None:
    result = nacl(entry(100, protocol="6"))
    assert {port for _, port in exposed_ports(result)} == {22, 3389}


def test_all_protocols_ignore_a_port_range() -> None:
    result = nacl(entry(100, protocol="-1", ports=(80, 80)))
    assert {port for _, port in exposed_ports(result)} == {22, 3389}


def test_udp_does_not_reach_ssh_or_rdp() -> None:
    result = nacl(entry(100, protocol="17", ports=(0, 65535)))
    assert result.status == "pass"


def test_udp_deny_does_not_shadow_a_tcp_allow() -> None:
    result = nacl(entry(100), entry(90, "deny", "17", ports=(22, 22)))
    assert ("0.0.0.0/0", 22) in exposed_ports(result)


def test_ipv6_anywhere_fails() -> None:
    result = nacl(entry(101, cidr="::/0"), entry(32768, "deny", cidr="::/0"))
    assert result.status == "fail"
    assert exposed_ports(result) == {("::/0", 22), ("::/0", 3389)}
    assert "rule 101 allows all traffic from ::/0" in result.summary


def test_both_families_named_in_the_summary() -> None:
    result = nacl(entry(100), entry(101, cidr="::/0"))
    assert result.summary == (
        "Ingress rule 100 allows all traffic from 0.0.0.0/0, which includes ports 22 and 3389; "
        "ingress rule 101 allows all traffic from ::/0, which includes ports 22 and 3389."
    )


def test_allow_from_a_narrow_source_passes() -> None:
    assert nacl(entry(100, protocol="6", cidr="203.0.113.10/32", ports=(22, 22))).status == "pass"


def test_narrow_deny_does_not_close_the_port_for_everyone() -> None:
    result = nacl(entry(100), entry(50, "deny", cidr="10.0.0.0/8"))
    assert result.status == "fail"


def test_egress_entries_are_ignored() -> None:
    assert nacl(entry(100, egress=True)).status == "pass"


def test_entries_are_sorted_by_rule_number_not_list_order() -> None:
    result = nacl(entry(200), entry(100, "deny", protocol="6", ports=(0, 65535)))
    assert result.status == "pass"


def test_protocol_given_by_name() -> None:
    assert nacl(entry(100, protocol="tcp", ports=(22, 22))).status == "fail"


def test_story_remediated_web_acl_passes() -> None:
    # What remediate_story_stack leaves: 3389 denied first, 22 from the admin only, the
    # ephemeral range (which includes 3389) allowed after the deny.
    result = nacl(
        entry(90, "deny", "6", ports=(3389, 3389)),
        entry(100, protocol="6", cidr="203.0.113.10/32", ports=(22, 22)),
        entry(110, protocol="6", ports=(80, 80)),
        entry(120, protocol="6", ports=(443, 443)),
        entry(130, protocol="6", ports=(1024, 65535)),
        entry(100, egress=True),
    )
    assert result.status == "pass"
    assert "port 3389 from 0.0.0.0/0 by rule 90, which denies TCP port 3389" in result.summary


# --------------------------------------------------------------------------- 5.2 / 5.3


def group(*permissions: dict[str, Any], name: str = "web", egress: list | None = None) -> dict:
    return {
        "GroupId": "sg-1",
        "GroupName": name,
        "VpcId": "vpc-1",
        "IpPermissions": list(permissions),
        "IpPermissionsEgress": egress if egress is not None else [],
    }


def permission(
    protocol: str = "tcp",
    ports: tuple[int, int] | None = (22, 22),
    v4: tuple[str, ...] = (),
    v6: tuple[str, ...] = (),
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "IpProtocol": protocol,
        "IpRanges": [{"CidrIp": cidr} for cidr in v4],
        "Ipv6Ranges": [{"CidrIpv6": cidr} for cidr in v6],
        "UserIdGroupPairs": [],
        "PrefixListIds": [],
    }
    if ports is not None:
        item["FromPort"], item["ToPort"] = ports
    return item


def sg(check: str, *permissions: dict[str, Any]) -> Result:
    return one(
        f"ec2_security_group_admin_ports_{check}_restricted",
        {"security_groups": [group(*permissions)]},
    )


def test_ssh_from_anywhere_fails_ipv4_only() -> None:
    rule = permission(v4=("0.0.0.0/0",))
    result = sg("ipv4", rule)
    assert (result.resource_arn, result.status) == (SG_ARN, "fail")
    assert result.summary == (
        "Security group web (sg-1) allows inbound TCP port 22 from 0.0.0.0/0, "
        "which includes port 22."
    )
    assert sg("ipv6", rule).status == "pass"


def test_all_traffic_rule_fails_on_both_ports() -> None:
    result = sg("ipv4", permission("-1", ports=None, v4=("0.0.0.0/0",)))
    assert result.status == "fail"
    assert "all traffic from 0.0.0.0/0, which includes ports 22 and 3389" in result.summary
    assert result.details["exposed"][0]["ports"] == [22, 3389]


def test_range_including_rdp_from_ipv6_anywhere_fails_ipv6_only() -> None:
    rule = permission(ports=(3000, 4000), v6=("::/0",))
    result = sg("ipv6", rule)
    assert result.status == "fail"
    assert "TCP ports 3000-4000 from ::/0, which includes port 3389" in result.summary
    assert sg("ipv4", rule).status == "pass"


@pytest.mark.parametrize(
    "rule",
    [
        permission(ports=(80, 80), v4=("0.0.0.0/0",)),
        permission(v4=("203.0.113.10/32",)),
        permission("udp", ports=(3389, 3389), v4=("0.0.0.0/0",)),
        permission("icmp", ports=(-1, -1), v4=("0.0.0.0/0",)),
    ],
)
def test_rules_not_exposing_admin_ports_pass(rule: dict[str, Any]) -> None:
    assert sg("ipv4", rule).status == "pass"


def test_protocol_number_six_is_tcp() -> None:
    assert sg("ipv4", permission("6", v4=("0.0.0.0/0",))).status == "fail"


def test_group_without_rules_passes() -> None:
    result = sg("ipv4")
    assert result.status == "pass"
    assert "No inbound rule of security group web (sg-1)" in result.summary


# --------------------------------------------------------------------------- 5.4


def test_aws_default_security_group_fails() -> None:
    # As AWS creates it: all traffic from itself in, all traffic out.
    inbound = {
        "IpProtocol": "-1",
        "UserIdGroupPairs": [{"GroupId": "sg-1", "UserId": "123456789012"}],
        "IpRanges": [],
        "Ipv6Ranges": [],
        "PrefixListIds": [],
    }
    outbound = permission("-1", ports=None, v4=("0.0.0.0/0",))
    data = {"security_groups": [group(inbound, name="default", egress=[outbound])]}
    result = one("ec2_default_security_group_restricts_all", data)
    assert (result.resource_arn, result.status) == (SG_ARN, "fail")
    assert result.summary == (
        "The default security group of vpc-1 has 1 inbound rule (all traffic from sg-1) "
        "and 1 outbound rule (all traffic to 0.0.0.0/0)."
    )


def test_default_security_group_without_rules_passes() -> None:
    result = one(
        "ec2_default_security_group_restricts_all", {"security_groups": [group(name="default")]}
    )
    assert result.status == "pass"


def test_other_groups_are_not_judged_by_5_4() -> None:
    data = {"security_groups": [group(permission(v4=("0.0.0.0/0",)), name="web")]}
    assert run("ec2_default_security_group_restricts_all", data) == []


# --------------------------------------------------------------------------- 5.6


def instance(**options: str) -> dict[str, Any]:
    return {"InstanceId": "i-1", "State": {"Name": "running"}, "MetadataOptions": options}


@pytest.mark.parametrize(
    ("options", "status", "phrase"),
    [
        ({"HttpTokens": "optional", "HttpEndpoint": "enabled"}, "fail", "HttpTokens is optional"),
        ({"HttpTokens": "required", "HttpEndpoint": "enabled"}, "pass", "IMDSv2 is required"),
        ({"HttpTokens": "optional", "HttpEndpoint": "disabled"}, "pass", "disabled"),
        ({}, "fail", "No metadata options"),
    ],
)
def test_imds_options(options: dict[str, str], status: str, phrase: str) -> None:
    result = one("ec2_instance_imdsv2_required", {"instances": [instance(**options)]})
    assert (result.resource_arn, result.status) == (f"{PREFIX}:instance/i-1", status)
    assert phrase in result.summary
    assert result.details["MetadataOptions"] == options


# --------------------------------------------------------------------------- 2.2.1


@pytest.mark.parametrize(("enabled", "status"), [(True, "pass"), (False, "fail")])
def test_ebs_default_encryption(enabled: bool, status: str) -> None:
    result = one("ec2_ebs_default_encryption_enabled", {"ebs_encryption_by_default": enabled})
    assert (result.resource_arn, result.status) == (f"{PREFIX}:regional-settings", status)
    assert "us-east-1" in result.summary


# --------------------------------------------------------------------------- 3.9


def flow_log(traffic: str = "ALL", status: str = "ACTIVE", resource: str = "vpc-1") -> dict:
    return {
        "FlowLogId": "fl-1",
        "ResourceId": resource,
        "TrafficType": traffic,
        "FlowLogStatus": status,
        "LogDestinationType": "s3",
    }


def vpc_result(*logs: dict[str, Any], default: bool = False) -> Result:
    data = {"vpcs": [{"VpcId": "vpc-1", "IsDefault": default}], "flow_logs": list(logs)}
    return one("ec2_vpc_flow_logs_enabled", data)


def test_vpc_without_flow_log_fails() -> None:
    result = vpc_result(default=True)
    assert (result.resource_arn, result.status) == (f"{PREFIX}:vpc/vpc-1", "fail")
    assert result.summary == "Default VPC vpc-1 has no flow log."


@pytest.mark.parametrize("traffic", ["ALL", "REJECT"])
def test_active_flow_log_capturing_rejects_passes(traffic: str) -> None:
    result = vpc_result(flow_log(traffic))
    assert result.status == "pass"
    assert f"captures {traffic} traffic" in result.summary


def test_accept_only_flow_log_fails() -> None:
    result = vpc_result(flow_log("ACCEPT"))
    assert result.status == "fail"
    assert "fl-1 (ACCEPT, ACTIVE)" in result.summary


def test_flow_log_of_a_subnet_does_not_cover_the_vpc() -> None:
    assert vpc_result(flow_log(resource="subnet-1")).status == "fail"


def test_inactive_flow_log_fails() -> None:
    assert vpc_result(flow_log(status="INACTIVE")).status == "fail"


# --- 1.18 instance profile ---------------------------------------------------------------------


def test_an_instance_with_a_profile_passes_1_18_and_one_without_fails():
    from findings.checks import REGISTRY
    from findings.checks.base import Unit

    spec = REGISTRY["ec2_instance_uses_instance_profile"]
    unit = Unit("123456789012", "eu-west-1")
    profile = {"Arn": "arn:aws:iam::123456789012:instance-profile/web", "Id": "AIPA1"}
    results = spec.run(
        {
            "instances": [
                {"InstanceId": "i-1", "IamInstanceProfile": profile},
                {"InstanceId": "i-2"},
            ]
        },
        unit,
    )
    assert [(r.resource_arn.rsplit("/", 1)[-1], r.status) for r in results] == [
        ("i-1", "pass"),
        ("i-2", "fail"),
    ]
    assert "instance-profile/web" in results[0].summary
    assert results[1].details == {"IamInstanceProfile": None}


# --------------------------------------------------------------------------- evidence


def test_the_ipv6_default_rule_is_named_as_the_default() -> None:
    result = nacl(entry(32768, "deny", cidr="::/0"))
    assert result.status == "pass"
    assert result.summary == (
        "Ports 22 and 3389 are closed to 0.0.0.0/0 and ::/0: ports 22 and 3389 from 0.0.0.0/0 "
        "by the default rule (*), which denies all traffic; ports 22 and 3389 from ::/0 by the "
        "default rule (*), which denies all traffic."
    )


def test_default_security_group_evidence_describes_every_rule() -> None:
    inbound = [
        permission("58", ports=(-1, -1), v6=("::/0",)),
        permission("icmp", ports=(8, -1), v4=("10.0.0.0/8",)),
        permission("udp", ports=(53, 53), v4=("10.0.0.0/16", "10.1.0.0/16")),
        {
            **permission("tcp", ports=(443, 443)),
            "PrefixListIds": [{"PrefixListId": "pl-63a5400a"}],
            "UserIdGroupPairs": [{"GroupName": "web"}, {"UserId": "123456789012"}],
        },
        permission("tcp", ports=(1024, 65535)),
    ]
    outbound = [permission("-1", ports=None, v4=("0.0.0.0/0",), v6=("::/0",))]
    data = {"security_groups": [group(*inbound, name="default", egress=outbound)]}
    result = one("ec2_default_security_group_restricts_all", data)
    assert result.status == "fail"
    assert result.summary == (
        "The default security group of vpc-1 has 5 inbound rules (ICMPv6 from ::/0; "
        "ICMP from 10.0.0.0/8; UDP port 53 from 10.0.0.0/16 and 10.1.0.0/16; "
        "TCP port 443 from pl-63a5400a, web and a security group; TCP ports 1024-65535 from ?) "
        "and 1 outbound rule (all traffic to 0.0.0.0/0 and ::/0)."
    )
    assert result.details == {"vpc_id": "vpc-1", "inbound": inbound, "outbound": outbound}


def test_an_outbound_rule_alone_fails_5_4() -> None:
    outbound = [permission("-1", ports=None, v4=("0.0.0.0/0",))]
    data = {"security_groups": [group(name="default", egress=outbound)]}
    result = one("ec2_default_security_group_restricts_all", data)
    assert result.status == "fail"
    assert result.summary == (
        "The default security group of vpc-1 has 1 outbound rule (all traffic to 0.0.0.0/0)."
    )


def test_a_default_group_outside_a_vpc_is_not_judged_by_5_4() -> None:
    classic = group(name="default")
    del classic["VpcId"]
    assert run("ec2_default_security_group_restricts_all", {"security_groups": [classic]}) == []


def test_a_tcp_rule_without_ports_opens_every_port() -> None:
    # Fail closed: a rule whose port range is missing or -1 is read as all ports.
    for ports in (None, (-1, -1)):
        result = sg("ipv4", permission("tcp", ports=ports, v4=("0.0.0.0/0",)))
        assert result.status == "fail"
        assert [item["ports"] for item in result.details["exposed"]] == [[22, 3389]]
        assert result.summary.endswith(
            "TCP all ports from 0.0.0.0/0, which includes ports 22 and 3389."
        )


def test_security_group_exposure_evidence_holds_the_rule() -> None:
    rule = permission(ports=(20, 25), v4=("10.0.0.0/8", "0.0.0.0/0"))
    rule["IpRanges"][1]["Description"] = "temporary, remove after migration"
    result = sg("ipv4", rule)
    assert result.status == "fail"
    assert result.details == {
        "vpc_id": "vpc-1",
        "exposed": [
            {
                "ports": [22],
                "source": "0.0.0.0/0",
                "rule": "TCP ports 20-25",
                "description": "temporary, remove after migration",
                "permission": rule,
            }
        ],
    }


@pytest.mark.parametrize(
    ("cidr", "anywhere"),
    [
        ("0.0.0.0/0", True),
        ("::/0", True),
        ("0.0.0.0/1", False),
        ("10.0.0.0/8", False),
        ("2001:db8::/32", False),
        ("", False),
        (None, False),
        ("sg-0a1b2c3d", False),
    ],
)
def test_only_the_whole_address_space_is_anywhere(cidr: str | None, anywhere: bool) -> None:
    from findings.checks.ec2 import is_anywhere

    assert is_anywhere(cidr) is anywhere


def test_flow_log_evidence_lists_the_vpcs_flow_logs() -> None:
    accept = flow_log("ACCEPT")
    result = vpc_result(accept, flow_log(resource="subnet-1"))
    assert result.status == "fail"
    assert result.summary == (
        "No flow log of VPC vpc-1 is active and captures rejected traffic: fl-1 (ACCEPT, ACTIVE)."
    )
    assert result.details == {"is_default": False, "flow_logs": [accept]}
    good = vpc_result(flow_log("REJECT"))
    assert good.summary == "Flow log fl-1 captures REJECT traffic of VPC vpc-1 to s3."


# --------------------------------------------------------------------------- CIFS / SMB (445)

NACL_CIFS = "ec2_nacl_no_cifs_from_internet"
SG_CIFS = "ec2_security_group_no_cifs_from_internet"


def test_cifs_checks_wait_for_a_control() -> None:
    for check_id, resource_type in (
        (NACL_CIFS, "AWS::EC2::NetworkAcl"),
        (SG_CIFS, "AWS::EC2::SecurityGroup"),
    ):
        spec = REGISTRY[check_id]
        assert (spec.controls, spec.service, spec.resource_type) == ((), "ec2", resource_type)


def cifs_nacl(*entries: dict[str, Any]) -> Result:
    acl = {
        "NetworkAclId": "acl-1",
        "VpcId": "vpc-1",
        "IsDefault": False,
        "Entries": [*entries, DEFAULT_DENY, entry(32768, "deny", cidr="::/0")],
    }
    return one(NACL_CIFS, {"network_acls": [acl]})


def test_nacl_allowing_all_traffic_exposes_cifs_from_both_families() -> None:
    result = cifs_nacl(entry(100), entry(101, cidr="::/0"))
    assert (result.resource_arn, result.status) == (ACL_ARN, "fail")
    assert exposed_ports(result) == {("0.0.0.0/0", 445), ("::/0", 445)}
    assert result.summary == (
        "Ingress rule 100 allows all traffic from 0.0.0.0/0, which includes port 445 (CIFS/SMB); "
        "ingress rule 101 allows all traffic from ::/0, which includes port 445 (CIFS/SMB)."
    )


def test_nacl_deny_of_445_before_allow_all_passes() -> None:
    result = cifs_nacl(
        entry(100), entry(101, cidr="::/0"), entry(90, "deny", "6", ports=(445, 445))
    )
    # The IPv4 deny does not close ::/0: rule 101 still lets IPv6 in.
    assert exposed_ports(result) == {("::/0", 445)}
    result = cifs_nacl(
        entry(100),
        entry(90, "deny", "6", ports=(445, 445)),
        entry(91, "deny", "6", cidr="::/0", ports=(400, 500)),
    )
    assert result.status == "pass"
    assert result.summary == (
        "Port 445 (CIFS/SMB) is closed from 0.0.0.0/0 by rule 90, which denies TCP port 445; "
        "from ::/0 by rule 91, which denies TCP ports 400-500."
    )


@pytest.mark.parametrize(
    ("protocol", "ports", "status"),
    [
        ("6", (0, 1023), "fail"),
        ("6", (22, 22), "pass"),  # the admin ports the 5.1 check is about
        ("6", (446, 65535), "pass"),
        ("6", None, "fail"),  # TCP without a range: every port
        ("17", (445, 445), "pass"),  # no SMB over UDP 445
        ("-1", (80, 80), "fail"),  # all protocols ignore a range
    ],
)
def test_nacl_cifs_port_ranges(protocol: str, ports: tuple[int, int] | None, status: str) -> None:
    assert cifs_nacl(entry(100, protocol=protocol, ports=ports)).status == status


def test_nacl_allowing_ssh_only_passes_cifs_but_fails_5_1() -> None:
    acl = {
        "NetworkAclId": "acl-1",
        "VpcId": "vpc-1",
        "Entries": [entry(100, protocol="6", ports=(22, 22)), DEFAULT_DENY],
    }
    assert one(NACL_CIFS, {"network_acls": [acl]}).status == "pass"
    assert one("ec2_network_acl_admin_ports_restricted", {"network_acls": [acl]}).status == "fail"


def test_nacl_without_entries_passes_as_nothing_is_allowed() -> None:
    result = one(NACL_CIFS, {"network_acls": [{"NetworkAclId": "acl-1", "Entries": []}]})
    assert result.status == "pass"
    assert "because no entry matches" in result.summary


def cifs_sg(*permissions: dict[str, Any]) -> Result:
    return one(SG_CIFS, {"security_groups": [group(*permissions)]})


def test_smb_from_ipv4_anywhere_fails() -> None:
    result = cifs_sg(permission(ports=(445, 445), v4=("0.0.0.0/0",)))
    assert (result.resource_arn, result.status) == (SG_ARN, "fail")
    assert result.summary == (
        "Security group web (sg-1) lets the internet reach CIFS/SMB: it allows inbound "
        "TCP port 445 from 0.0.0.0/0, which includes port 445."
    )
    assert result.details["exposed"][0]["ports"] == [445]


def test_smb_from_ipv6_anywhere_fails_in_the_same_check() -> None:
    result = cifs_sg(permission(protocol="6", ports=(0, 65535), v6=("::/0",)))
    assert result.status == "fail"
    assert "TCP all ports from ::/0" in result.summary


def test_all_traffic_from_anywhere_reaches_smb() -> None:
    assert cifs_sg(permission(protocol="-1", ports=None, v4=("0.0.0.0/0",))).status == "fail"


@pytest.mark.parametrize(
    "rule",
    [
        permission(ports=(445, 445), v4=("10.0.0.0/8",)),  # a private range
        permission(ports=(22, 22), v4=("0.0.0.0/0",)),  # SSH, not SMB
        permission(protocol="udp", ports=(445, 445), v4=("0.0.0.0/0",)),
        permission(ports=(139, 139), v6=("::/0",)),  # NetBIOS, not named by the benchmark
    ],
)
def test_rules_that_do_not_expose_smb_pass(rule: dict[str, Any]) -> None:
    result = cifs_sg(rule)
    assert result.status == "pass"
    assert result.summary == (
        "No inbound rule of security group web (sg-1) lets 0.0.0.0/0 or ::/0 reach port 445 "
        "(CIFS/SMB)."
    )


def test_group_without_rules_has_no_smb_exposure() -> None:
    assert one(SG_CIFS, {"security_groups": [{"GroupId": "sg-1"}]}).status == "pass"
