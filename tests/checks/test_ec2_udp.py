"""Pure tests of the UDP remote-administration checks (CIS v3.0.0 5.1-5.3, v4.0.1 5.2-5.4).

CIS from v3.0.0 on names UDP (17) beside TCP (6) and all traffic (-1) on ports 22 and 3389. The
v2.0.0 checks keep their TCP meaning; these decide UDP. An all-traffic rule is failed once, by
the TCP check: the UDP check lists it as ``covered`` where the TCP check reports the same rule
for the same source and port, and fails it where it does not (an earlier TCP deny).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from findings.checks import REGISTRY
from findings.services.catalog import CATALOG_DIR
from tests.checks.test_ec2 import ACL_ARN, SG_ARN, entry, group, one, permission

NACL_UDP = "ec2_network_acl_admin_ports_udp_restricted"
NACL_TCP = "ec2_network_acl_admin_ports_restricted"
SG_UDP = {
    "ipv4": "ec2_security_group_admin_ports_ipv4_udp_restricted",
    "ipv6": "ec2_security_group_admin_ports_ipv6_udp_restricted",
}
SG_TCP = {
    "ipv4": "ec2_security_group_admin_ports_ipv4_restricted",
    "ipv6": "ec2_security_group_admin_ports_ipv6_restricted",
}
ANY_V4, ANY_V6 = ("0.0.0.0/0",), ("::/0",)


def test_registered_without_a_v2_control() -> None:
    # v2.0.0 names TCP only: its controls keep the TCP checks, the later catalogs add these.
    for check_id, resource_type in (
        (NACL_UDP, "AWS::EC2::NetworkAcl"),
        (SG_UDP["ipv4"], "AWS::EC2::SecurityGroup"),
        (SG_UDP["ipv6"], "AWS::EC2::SecurityGroup"),
    ):
        spec = REGISTRY[check_id]
        assert (spec.controls, spec.service, spec.resource_type) == ((), "ec2", resource_type)


def test_catalogs_name_each_udp_check_beside_its_tcp_check_from_v3_on() -> None:
    """The UDP checks count an all-traffic rule only where the TCP check does not: a control
    naming one without the other would pass an all-traffic rule from anywhere."""
    pairs = {
        NACL_UDP: NACL_TCP,
        SG_UDP["ipv4"]: SG_TCP["ipv4"],
        SG_UDP["ipv6"]: SG_TCP["ipv6"],
    }
    expected = {
        "2.0.0": {},
        "3.0.0": {"5.1": NACL_UDP, "5.2": SG_UDP["ipv4"], "5.3": SG_UDP["ipv6"]},
        "4.0.1": {"5.2": NACL_UDP, "5.3": SG_UDP["ipv4"], "5.4": SG_UDP["ipv6"]},
    }
    for version, refs in expected.items():
        data = json.loads((CATALOG_DIR / f"cis_aws_foundations_{version}.json").read_text())
        found = {}
        for control in data["controls"]:
            checks = control.get("checks", [])
            for udp, tcp in pairs.items():
                if udp in checks:
                    assert tcp in checks, (version, control["ref"])
                    found[control["ref"]] = udp
        assert found == refs, version


# --------------------------------------------------------------------------- network ACLs


def nacl(check_id: str, *entries: dict[str, Any]) -> Any:
    acl = {
        "NetworkAclId": "acl-1",
        "VpcId": "vpc-1",
        "IsDefault": False,
        # As AWS creates every ACL: the "*" rules deny the rest, IPv4 and IPv6.
        "Entries": [*entries, entry(32767, "deny"), entry(32768, "deny", cidr="::/0")],
    }
    return one(check_id, {"network_acls": [acl]})


def exposed(result: Any, key: str = "exposed") -> set[tuple[str, int]]:
    return {(item["source"], item["port"]) for item in result.details[key]}


def test_udp_22_from_anywhere_fails_and_the_tcp_check_passes() -> None:
    rule = entry(100, protocol="17", ports=(22, 22))
    result = nacl(NACL_UDP, rule)
    assert (result.resource_arn, result.status) == (ACL_ARN, "fail")
    assert result.summary == (
        "Ingress rule 100 allows UDP port 22 from 0.0.0.0/0, which includes UDP port 22."
    )
    assert exposed(result) == {("0.0.0.0/0", 22)}
    assert result.details["exposed"][0]["entry"] == rule
    assert result.details["covered"] == []
    assert nacl(NACL_TCP, rule).status == "pass"  # v2.0.0's meaning is unchanged


def test_udp_over_every_port_fails_on_both_ports() -> None:
    result = nacl(NACL_UDP, entry(100, protocol="17", ports=(0, 65535)))
    assert result.status == "fail"
    assert exposed(result) == {("0.0.0.0/0", 22), ("0.0.0.0/0", 3389)}
    assert result.summary == (
        "Ingress rule 100 allows UDP all ports from 0.0.0.0/0, which includes UDP ports 22 "
        "and 3389."
    )


@pytest.mark.parametrize(
    ("protocol", "ports", "expected"),
    [
        ("17", (3000, 4000), {3389}),
        ("17", (23, 3388), set()),
        ("udp", (22, 22), {22}),  # the protocol given by name
        ("17", None, {22, 3389}),  # no range: every port
        ("6", (0, 65535), set()),  # TCP only: the TCP check's business
        ("1", None, set()),  # ICMP
    ],
)
def test_nacl_udp_port_ranges(
    protocol: str, ports: tuple[int, int] | None, expected: set[int]
) -> None:
    result = nacl(NACL_UDP, entry(100, protocol=protocol, ports=ports))
    assert {port for _, port in exposed(result)} == expected
    assert result.status == ("fail" if expected else "pass")


def test_tcp_only_acl_passes_with_the_reason() -> None:
    result = nacl(NACL_UDP, entry(100, protocol="6", ports=(0, 65535)))
    assert result.status == "pass"
    assert result.summary == (
        "UDP ports 22 and 3389 are closed to 0.0.0.0/0 and ::/0: ports 22 and 3389 from "
        "0.0.0.0/0 by the default rule (*), which denies all traffic; ports 22 and 3389 from "
        "::/0 by the default rule (*), which denies all traffic."
    )


def test_udp_from_ipv6_anywhere_fails() -> None:
    result = nacl(NACL_UDP, entry(101, protocol="17", cidr="::/0", ports=(3389, 3389)))
    assert result.status == "fail"
    assert exposed(result) == {("::/0", 3389)}
    assert "rule 101 allows UDP port 3389 from ::/0" in result.summary


def test_udp_deny_before_the_allow_closes_udp_only() -> None:
    entries = (
        entry(90, "deny", "17", ports=(0, 65535)),
        entry(100, protocol="17", ports=(0, 65535)),
        entry(110, protocol="6", ports=(22, 22)),
    )
    result = nacl(NACL_UDP, *entries)
    assert result.status == "pass"
    assert "ports 22 and 3389 from 0.0.0.0/0 by rule 90, which denies UDP all ports" in (
        result.summary
    )
    # The UDP deny does not close TCP: rule 110 still opens SSH.
    assert exposed(nacl(NACL_TCP, *entries)) == {("0.0.0.0/0", 22)}


def test_deny_after_the_allow_does_not_close() -> None:
    result = nacl(
        NACL_UDP,
        entry(100, protocol="17", ports=(22, 22)),
        entry(110, "deny", "17", ports=(0, 65535)),
    )
    assert exposed(result) == {("0.0.0.0/0", 22)}


def test_tcp_deny_does_not_close_udp() -> None:
    result = nacl(
        NACL_UDP, entry(90, "deny", "6", ports=(22, 22)), entry(100, protocol="17", ports=(22, 22))
    )
    assert exposed(result) == {("0.0.0.0/0", 22)}


def test_narrow_sources_neither_expose_nor_close() -> None:
    result = nacl(
        NACL_UDP,
        entry(90, "deny", "17", cidr="10.0.0.0/8", ports=(0, 65535)),
        entry(95, protocol="17", cidr="203.0.113.10/32", ports=(22, 22)),
        entry(100, protocol="17", ports=(3389, 3389)),
    )
    assert exposed(result) == {("0.0.0.0/0", 3389)}


def test_all_traffic_is_failed_once_by_the_tcp_check() -> None:
    entries = (entry(100), entry(101, cidr="::/0"))
    tcp = nacl(NACL_TCP, *entries)
    udp = nacl(NACL_UDP, *entries)
    assert tcp.status == "fail"
    assert udp.status == "pass"
    assert exposed(udp) == set()
    assert exposed(udp, "covered") == exposed(tcp)
    assert udp.summary == (
        "No UDP entry opens ports 22 and 3389 to 0.0.0.0/0 or ::/0; UDP traffic gets in only "
        "through all-traffic entries that ec2_network_acl_admin_ports_restricted reports: "
        "rule 100 allows all traffic from 0.0.0.0/0, which includes UDP ports 22 and 3389; "
        "rule 101 allows all traffic from ::/0, which includes UDP ports 22 and 3389."
    )


def test_all_traffic_behind_tcp_denies_fails_the_udp_check() -> None:
    # TCP 22 and 3389 are denied first, so the TCP check passes; UDP still reaches both through
    # the all-traffic rule, which nothing else reports: the UDP check fails it.
    entries = (
        entry(80, "deny", "6", ports=(22, 22)),
        entry(90, "deny", "6", ports=(3389, 3389)),
        entry(100),
    )
    assert nacl(NACL_TCP, *entries).status == "pass"
    result = nacl(NACL_UDP, *entries)
    assert result.status == "fail"
    assert result.summary == (
        "Ingress rule 100 allows all traffic from 0.0.0.0/0, which includes UDP ports 22 and 3389."
    )


def test_all_traffic_reported_by_tcp_for_one_port_only() -> None:
    # TCP 22 is decided by rule 90 (a TCP allow), 3389 by the all-traffic rule: the TCP check
    # names rule 100 for 3389 only, so UDP 22 through rule 100 is the UDP check's to fail.
    entries = (entry(90, protocol="6", ports=(22, 22)), entry(100))
    result = nacl(NACL_UDP, *entries)
    assert result.status == "fail"
    assert exposed(result) == {("0.0.0.0/0", 22)}
    assert exposed(result, "covered") == {("0.0.0.0/0", 3389)}
    assert result.summary == (
        "Ingress rule 100 allows all traffic from 0.0.0.0/0, which includes UDP port 22. "
        "Also let in through all-traffic entries that ec2_network_acl_admin_ports_restricted "
        "reports: rule 100 allows all traffic from 0.0.0.0/0, which includes UDP port 3389."
    )


def test_udp_rule_ahead_of_all_traffic_is_failed_by_the_udp_check() -> None:
    result = nacl(NACL_UDP, entry(90, protocol="17", ports=(3389, 3389)), entry(100))
    assert result.status == "fail"
    assert exposed(result) == {("0.0.0.0/0", 3389)}
    assert exposed(result, "covered") == {("0.0.0.0/0", 22)}
    assert result.summary.startswith(
        "Ingress rule 90 allows UDP port 3389 from 0.0.0.0/0, which includes UDP port 3389. "
        "Also let in through"
    )


def test_egress_entries_are_ignored() -> None:
    assert nacl(NACL_UDP, entry(100, protocol="17", egress=True)).status == "pass"


# --------------------------------------------------------------------------- security groups


def sg(family: str, *permissions: dict[str, Any]) -> Any:
    return one(SG_UDP[family], {"security_groups": [group(*permissions)]})


def sg_tcp(family: str, *permissions: dict[str, Any]) -> Any:
    return one(SG_TCP[family], {"security_groups": [group(*permissions)]})


def test_udp_3389_from_ipv4_anywhere_fails_ipv4_only() -> None:
    rule = permission("udp", ports=(3389, 3389), v4=ANY_V4)
    result = sg("ipv4", rule)
    assert (result.resource_arn, result.status) == (SG_ARN, "fail")
    assert result.summary == (
        "Security group web (sg-1) allows inbound UDP port 3389 from 0.0.0.0/0, "
        "which includes port 3389."
    )
    assert result.details == {
        "vpc_id": "vpc-1",
        "exposed": [
            {
                "ports": [3389],
                "source": "0.0.0.0/0",
                "rule": "UDP port 3389",
                "description": None,
                "permission": rule,
            }
        ],
        "covered": [],
    }
    assert sg("ipv6", rule).status == "pass"
    assert sg_tcp("ipv4", rule).status == "pass"  # v2.0.0's meaning is unchanged


def test_udp_every_port_from_ipv6_anywhere_fails_ipv6_only() -> None:
    rule = permission("17", ports=(0, 65535), v6=ANY_V6)
    result = sg("ipv6", rule)
    assert result.status == "fail"
    assert "UDP all ports from ::/0, which includes ports 22 and 3389" in result.summary
    assert sg("ipv4", rule).status == "pass"


@pytest.mark.parametrize(
    "rule",
    [
        permission("tcp", ports=(22, 22), v4=ANY_V4),  # TCP: the TCP check fails it
        permission("udp", ports=(53, 53), v4=ANY_V4),
        permission("udp", ports=(3389, 3389), v4=("203.0.113.10/32",)),
        permission("icmp", ports=(-1, -1), v4=ANY_V4),
    ],
)
def test_rules_not_opening_udp_admin_ports_pass(rule: dict[str, Any]) -> None:
    result = sg("ipv4", rule)
    assert result.status == "pass"
    assert result.summary == (
        "No inbound UDP rule of security group web (sg-1) lets 0.0.0.0/0 reach port 22 or 3389."
    )


def test_all_traffic_rule_is_failed_by_the_tcp_check_not_again() -> None:
    rule = permission("-1", ports=None, v4=ANY_V4)
    assert sg_tcp("ipv4", rule).status == "fail"
    result = sg("ipv4", rule)
    assert result.status == "pass"
    assert [item["permission"] for item in result.details["covered"]] == [rule]
    assert result.summary == (
        "No inbound UDP rule of security group web (sg-1) lets 0.0.0.0/0 reach port 22 or 3389. "
        "UDP also gets in through all-traffic rules that "
        "ec2_security_group_admin_ports_ipv4_restricted reports: all traffic from 0.0.0.0/0, "
        "which includes ports 22 and 3389."
    )


def test_udp_rule_beside_an_all_traffic_rule_still_fails() -> None:
    result = sg(
        "ipv6",
        permission("-1", ports=None, v6=ANY_V6),
        permission("udp", ports=(22, 22), v6=ANY_V6),
    )
    assert result.status == "fail"
    assert [item["rule"] for item in result.details["exposed"]] == ["UDP port 22"]
    assert [item["rule"] for item in result.details["covered"]] == ["all traffic"]
