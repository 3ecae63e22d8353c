"""CIS AWS Foundations checks on EC2 and VPC data, read from the ``ec2`` collector.

v2.0.0's 2.2.1 (EBS default encryption), 3.9 (VPC flow logs; a logging control, but it reads
EC2 data), 5.1 (network ACLs), 5.2 / 5.3 / 5.4 (security groups) and 5.6 (IMDSv2); and, for the
later benchmarks (their catalogs map them), UDP to the remote administration ports and CIFS/SMB
port 445 from the internet in network ACLs and security groups, with the same port-range logic.

The collector's ``data`` (see ``findings.aws.ec2``) holds the API's own shapes::

    {
        "region": "us-east-1",
        "ebs_encryption_by_default": False,
        "instances": [{"InstanceId": ..., "State": {...}, "MetadataOptions": {...}, ...}],
        "security_groups": [{"GroupId": ..., "GroupName": ..., "VpcId": ...,
                             "IpPermissions": [...], "IpPermissionsEgress": [...]}],
        "network_acls": [{"NetworkAclId": ..., "VpcId": ..., "IsDefault": ..., "Entries": [...]}],
        "vpcs": [{"VpcId": ..., "IsDefault": ..., ...}],
        "flow_logs": [{"FlowLogId": ..., "ResourceId": "vpc-...", "TrafficType": "ALL", ...}],
        "route_tables": [...],
    }

Remote administration ports are 22 (SSH) and 3389 (RDP). CIS v2.0.0 names TCP only, and the
``ec2_*_admin_ports_*restricted`` checks keep that meaning: a rule reaches a port when its
protocol is all traffic (``-1``) or TCP (``6``/``tcp``) with a port range including the port (no
range on a NACL entry means all ports). CIS from v3.0.0 on names UDP (``17``) as well: the
``*_admin_ports_*udp_restricted`` checks decide it, so that v2.0.0 keeps its TCP meaning and an
acceptance of a v2.0.0 control carries to v3+ only when the UDP check passes or is covered too.
A deny shadows an allow only for the protocol it matches (a UDP deny leaves TCP open).

All traffic (``-1``) reaches UDP too, but the TCP check already fails it: the UDP checks count
an all-traffic rule only where the TCP check does not report that same rule for the same source
and port (in a NACL, an earlier TCP deny can close TCP while the all-traffic rule still lets
UDP in). So one exposure fails one check, and accepting "rule 100 allows all traffic" under
v2.0.0 is not asked again under v3+; what the TCP check reports is listed as ``covered`` in the
UDP check's evidence.

"From anywhere" means a source CIDR with prefix length 0 (``0.0.0.0/0``, ``::/0``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check
from findings.toolbox import ec2_arn

ADMIN_PORTS = (22, 3389)
TCP = "6"
UDP = "17"
ANYWHERE_V4 = "0.0.0.0/0"
ANYWHERE_V6 = "::/0"
#: The "*" rules AWS puts last in every network ACL (IPv4, then IPv6).
NACL_DEFAULT_RULES = (32767, 32768)
_PROTOCOL_NUMBERS = {"all": "-1", "tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58"}
_PROTOCOL_NAMES = {"-1": "all traffic", "6": "TCP", "17": "UDP", "1": "ICMP", "58": "ICMPv6"}


def _protocol(value: Any) -> str:
    text = str(value).lower()
    return _PROTOCOL_NUMBERS.get(text, text)


def is_anywhere(cidr: str | None) -> bool:
    """Whether ``cidr`` is the whole address space (0.0.0.0/0 or ::/0)."""
    if not cidr:
        return False
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def _ports_text(low: int, high: int) -> str:
    if low == high:
        return f"port {low}"
    if (low, high) == (0, 65535):
        return "all ports"
    return f"ports {low}-{high}"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _ports_phrase(ports: Iterable[int]) -> str:
    ordered = sorted(set(ports))
    return ("port " if len(ordered) == 1 else "ports ") + _join([str(p) for p in ordered])


# --------------------------------------------------------------------------- network ACLs


def nacl_entry_reaches(entry: Mapping[str, Any], port: int, protocol: str = TCP) -> bool:
    """Whether a NACL entry matches ``protocol`` traffic (TCP unless told) to ``port``
    (protocol and ports only)."""
    entry_protocol = _protocol(entry.get("Protocol"))
    if entry_protocol == "-1":
        return True  # all protocols: AWS ignores any port range
    if entry_protocol != protocol:
        return False
    ports = entry.get("PortRange")
    if not ports:
        return True
    return int(ports.get("From", 0)) <= port <= int(ports.get("To", 65535))


def _nacl_rule_name(entry: Mapping[str, Any]) -> str:
    number = int(entry["RuleNumber"])
    return "the default rule (*)" if number in NACL_DEFAULT_RULES else f"rule {number}"


def _nacl_traffic(entry: Mapping[str, Any]) -> str:
    """The traffic an entry matches, e.g. ``all traffic`` or ``TCP ports 1024-65535``."""
    protocol = _protocol(entry.get("Protocol"))
    what = _PROTOCOL_NAMES.get(protocol, f"protocol {protocol}")
    ports = entry.get("PortRange")
    if protocol in (TCP, UDP):
        what += " " + (
            _ports_text(int(ports.get("From", 0)), int(ports.get("To", 65535)))
            if ports
            else "all ports"
        )
    return what


def describe_nacl_entry(entry: Mapping[str, Any]) -> str:
    """One entry in words, e.g. ``rule 100 allows all traffic from 0.0.0.0/0``."""
    source = entry.get("CidrBlock") or entry.get("Ipv6CidrBlock") or "?"
    verb = "allows" if entry.get("RuleAction") == "allow" else "denies"
    return f"{_nacl_rule_name(entry)} {verb} {_nacl_traffic(entry)} from {source}"


def _nacl_ingress(entries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted((e for e in entries if not e.get("Egress")), key=lambda e: int(e["RuleNumber"]))


def nacl_admin_exposure(
    entries: Iterable[Mapping[str, Any]],
    ports: tuple[int, ...] = ADMIN_PORTS,
    protocol: str = TCP,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Evaluate ingress entries as AWS does, for ``protocol`` (TCP unless told) traffic to
    ``ports`` (22 and 3389 unless told) from 0.0.0.0/0 and from ::/0.

    Entries are taken in rule-number order and the first one matching the traffic decides. An
    entry for a narrower source (203.0.113.10/32) decides only for that part of the internet,
    so it neither exposes the port "from anywhere" (if it allows) nor closes it for everyone
    (if it denies); evaluation goes on. An entry for another protocol does not match (a TCP
    deny does not close UDP). Traffic no entry matches is denied.

    Returns ``(exposed, closed)``: one item per (source, port), with the deciding ``entry``
    (None when no entry matched, i.e. implicitly denied).
    """
    ingress = _nacl_ingress(entries)
    exposed: list[dict[str, Any]] = []
    closed: list[dict[str, Any]] = []
    for key, source in (("CidrBlock", ANYWHERE_V4), ("Ipv6CidrBlock", ANYWHERE_V6)):
        for port in ports:
            decided: Mapping[str, Any] | None = None
            for entry in ingress:
                if not is_anywhere(entry.get(key)) or not nacl_entry_reaches(entry, port, protocol):
                    continue
                decided = entry
                break
            item = {"source": source, "port": port, "entry": dict(decided) if decided else None}
            if decided is not None and decided.get("RuleAction") == "allow":
                exposed.append(item)
            else:
                closed.append(item)
    return exposed, closed


def _group_by_entry(
    items: list[dict[str, Any]],
) -> list[tuple[Mapping[str, Any] | None, list[dict[str, Any]]]]:
    """Items grouped by their deciding entry, in order of first appearance."""
    groups: list[tuple[Mapping[str, Any] | None, list[dict[str, Any]]]] = []
    for item in items:
        for entry, members in groups:
            if entry == item["entry"]:
                members.append(item)
                break
        else:
            groups.append((item["entry"], [item]))
    return groups


def _nacl_allowed_parts(items: list[dict[str, Any]], label: str, kind: str = "") -> list[str]:
    """``rule 100 allows all traffic from 0.0.0.0/0, which includes ports 22 and 3389``, per
    deciding entry (``kind`` names the protocol asked about, e.g. "UDP ")."""
    return [
        f"{describe_nacl_entry(entry)}, which includes "
        f"{kind}{_ports_phrase(i['port'] for i in members)}{label}"
        for entry, members in _group_by_entry(items)
        if entry is not None
    ]


def _nacl_closed_text(items: list[dict[str, Any]], name_ports: bool) -> str:
    reasons = []
    for entry, members in _group_by_entry(items):
        sources = _join(sorted({i["source"] for i in members}))
        where = (
            f"{_ports_phrase(i['port'] for i in members)} from {sources}"
            if name_ports
            else f"from {sources}"
        )
        reasons.append(
            f"{where} by {_nacl_rule_name(entry)}, which denies {_nacl_traffic(entry)}"
            if entry is not None
            else f"{where} because no entry matches"
        )
    return "; ".join(reasons)


def _nacl_port_results(
    data: Mapping[str, Any],
    unit: Unit,
    spec: CheckSpec,
    *,
    ports: tuple[int, ...] = ADMIN_PORTS,
    protocol: str = TCP,
    service: str = "",
    reported_by: str = "",
) -> Iterable[Result]:
    """One verdict per network ACL: does ``protocol`` traffic from 0.0.0.0/0 or ::/0 reach one
    of ``ports`` (``service`` names what they serve, e.g. "CIFS/SMB")?

    With ``reported_by`` (the TCP check of the same ports), an exposure through an all-traffic
    entry that the TCP evaluation reports for the same source and port is ``covered``: listed
    in the evidence, not failed again (see the module's docstring).
    """
    label = f" ({service})" if service else ""
    kind = f"{_PROTOCOL_NAMES[protocol]} " if protocol != TCP else ""
    named = f"{kind}{_ports_phrase(ports)}" if kind else _ports_phrase(ports).capitalize()
    for acl in data.get("network_acls", []):
        entries = acl.get("Entries", [])
        exposed, closed = nacl_admin_exposure(entries, ports, protocol)
        details: dict[str, Any] = {
            "vpc_id": acl.get("VpcId"),
            "is_default": bool(acl.get("IsDefault")),
        }
        covered: list[dict[str, Any]] = []
        if reported_by:
            # Items compare by source, port and deciding entry: only an all-traffic entry can
            # decide both protocols.
            tcp_exposed, _ = nacl_admin_exposure(entries, ports, TCP)
            covered = [item for item in exposed if item in tcp_exposed]
            exposed = [item for item in exposed if item not in tcp_exposed]
        details["exposed"] = exposed
        details["closed"] = closed
        if reported_by:
            details["covered"] = covered
        details["ingress_entries"] = _nacl_ingress(entries)
        also = (
            f"all-traffic entries that {reported_by} reports: "
            + "; ".join(_nacl_allowed_parts(covered, label, kind))
            + "."
        )
        if exposed:
            summary = (
                "Ingress " + "; ingress ".join(_nacl_allowed_parts(exposed, label, kind)) + "."
            )
            if covered:
                summary += f" Also let in through {also}"
        elif covered:
            summary = (
                f"No {kind}entry opens {_ports_phrase(ports)}{label} to {ANYWHERE_V4} or "
                f"{ANYWHERE_V6}; {kind}traffic gets in only through {also}"
            )
            if closed:
                summary += " Closed: " + _nacl_closed_text(closed, name_ports=True) + "."
        elif len(ports) == 1:
            summary = f"{named}{label} is closed " + _nacl_closed_text(closed, False) + "."
        else:
            summary = (
                f"{named}{label} are closed to {ANYWHERE_V4} and {ANYWHERE_V6}: "
                + _nacl_closed_text(closed, name_ports=True)
                + "."
            )
        yield spec.result(
            ec2_arn(unit, "network-acl", acl["NetworkAclId"]), not exposed, summary, details
        )


@check(
    "ec2_network_acl_admin_ports_restricted",
    controls=["5.1"],
    service="ec2",
    resource_type="AWS::EC2::NetworkAcl",
    title="No network ACL allows ingress from 0.0.0.0/0 or ::/0 to ports 22 or 3389",
)
def ec2_network_acl_admin_ports_restricted(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    return _nacl_port_results(data, unit, spec)


@check(
    "ec2_network_acl_admin_ports_udp_restricted",
    controls=(),  # CIS v3.0.0 and later name UDP: their catalogs map it, v2.0.0 does not
    service="ec2",
    resource_type="AWS::EC2::NetworkAcl",
    title="No network ACL allows UDP ingress from 0.0.0.0/0 or ::/0 to ports 22 or 3389",
)
def ec2_network_acl_admin_ports_udp_restricted(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    return _nacl_port_results(
        data, unit, spec, protocol=UDP, reported_by="ec2_network_acl_admin_ports_restricted"
    )


# --------------------------------------------------------------------------- security groups


def _permission_ports(permission: Mapping[str, Any], protocol: str = TCP) -> tuple[int, int] | None:
    """The ``protocol`` (TCP unless told) port range a security group rule opens, or None if
    it opens no port of that protocol."""
    rule_protocol = _protocol(permission.get("IpProtocol"))
    if rule_protocol == "-1":
        return (0, 65535)
    if rule_protocol != protocol:
        return None
    low = permission.get("FromPort")
    high = permission.get("ToPort")
    if low is None or high is None or int(low) == -1:
        return (0, 65535)
    return (int(low), int(high))


def describe_permission(permission: Mapping[str, Any]) -> str:
    protocol = _protocol(permission.get("IpProtocol"))
    if protocol == "-1":
        return "all traffic"
    name = _PROTOCOL_NAMES.get(protocol, f"protocol {protocol}")
    if protocol not in (TCP, UDP):
        return name  # for ICMP, FromPort and ToPort hold a type and a code, not ports
    low, high = permission.get("FromPort"), permission.get("ToPort")
    if low is None or high is None or int(low) == -1:
        return f"{name} all ports"
    return f"{name} {_ports_text(int(low), int(high))}"


def sg_admin_exposure(
    group: Mapping[str, Any],
    ipv6: bool,
    ports: tuple[int, ...] = ADMIN_PORTS,
    protocol: str = TCP,
) -> list[dict[str, Any]]:
    """Inbound rules letting 0.0.0.0/0 (or ::/0) reach ``ports`` (22 or 3389 unless told) over
    ``protocol`` (TCP unless told; all-traffic rules reach every protocol)."""
    range_key, cidr_key = ("Ipv6Ranges", "CidrIpv6") if ipv6 else ("IpRanges", "CidrIp")
    found: list[dict[str, Any]] = []
    for permission in group.get("IpPermissions", []):
        opened = _permission_ports(permission, protocol)
        if opened is None:
            continue
        reached = [port for port in ports if opened[0] <= port <= opened[1]]
        if not reached:
            continue
        for ip_range in permission.get(range_key, []):
            if is_anywhere(ip_range.get(cidr_key)):
                found.append(
                    {
                        "ports": reached,
                        "source": ip_range[cidr_key],
                        "rule": describe_permission(permission),
                        "description": ip_range.get("Description"),
                        "permission": dict(permission),
                    }
                )
    return found


def _sg_rule_parts(items: list[dict[str, Any]]) -> list[str]:
    return [
        f"{item['rule']} from {item['source']}, which includes {_ports_phrase(item['ports'])}"
        for item in items
    ]


def _sg_admin_results(
    data: Mapping[str, Any],
    unit: Unit,
    spec: CheckSpec,
    ipv6: bool,
    protocol: str = TCP,
    reported_by: str = "",
) -> Iterable[Result]:
    """One verdict per security group for ``protocol`` to 22 and 3389 from the whole IPv4 (or
    IPv6) internet. With ``reported_by`` (the TCP check), all-traffic rules, which that check
    fails for the same source and ports, are ``covered``: named, not failed again."""
    anywhere = ANYWHERE_V6 if ipv6 else ANYWHERE_V4
    kind = f"{_PROTOCOL_NAMES[protocol]} " if protocol != TCP else ""
    for group in data.get("security_groups", []):
        exposed = sg_admin_exposure(group, ipv6, protocol=protocol)
        details: dict[str, Any] = {"vpc_id": group.get("VpcId")}
        covered: list[dict[str, Any]] = []
        if reported_by:
            tcp_exposed = sg_admin_exposure(group, ipv6)
            covered = [item for item in exposed if item in tcp_exposed]
            exposed = [item for item in exposed if item not in tcp_exposed]
        details["exposed"] = exposed
        if reported_by:
            details["covered"] = covered
        label = f"{group.get('GroupName', '')} ({group['GroupId']})"
        if exposed:
            summary = (
                f"Security group {label} allows inbound " + "; and ".join(_sg_rule_parts(exposed))
            ) + "."
        else:
            summary = (
                f"No inbound {kind}rule of security group {label} lets {anywhere} reach "
                "port 22 or 3389."
            )
        if covered:
            summary += (
                f" {_PROTOCOL_NAMES[protocol]} also gets in through all-traffic rules that "
                f"{reported_by} reports: " + "; ".join(_sg_rule_parts(covered)) + "."
            )
        yield spec.result(
            ec2_arn(unit, "security-group", group["GroupId"]), not exposed, summary, details
        )


@check(
    "ec2_security_group_admin_ports_ipv4_restricted",
    controls=["5.2"],
    service="ec2",
    resource_type="AWS::EC2::SecurityGroup",
    title="No security group allows ingress from 0.0.0.0/0 to ports 22 or 3389",
)
def ec2_security_group_admin_ports_ipv4_restricted(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    return _sg_admin_results(data, unit, spec, ipv6=False)


@check(
    "ec2_security_group_admin_ports_ipv6_restricted",
    controls=["5.3"],
    service="ec2",
    resource_type="AWS::EC2::SecurityGroup",
    title="No security group allows ingress from ::/0 to ports 22 or 3389",
)
def ec2_security_group_admin_ports_ipv6_restricted(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    return _sg_admin_results(data, unit, spec, ipv6=True)


@check(
    "ec2_security_group_admin_ports_ipv4_udp_restricted",
    controls=(),  # CIS v3.0.0 and later name UDP: their catalogs map it, v2.0.0 does not
    service="ec2",
    resource_type="AWS::EC2::SecurityGroup",
    title="No security group allows UDP ingress from 0.0.0.0/0 to ports 22 or 3389",
)
def ec2_security_group_admin_ports_ipv4_udp_restricted(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    return _sg_admin_results(
        data,
        unit,
        spec,
        ipv6=False,
        protocol=UDP,
        reported_by="ec2_security_group_admin_ports_ipv4_restricted",
    )


@check(
    "ec2_security_group_admin_ports_ipv6_udp_restricted",
    controls=(),  # CIS v3.0.0 and later name UDP: their catalogs map it, v2.0.0 does not
    service="ec2",
    resource_type="AWS::EC2::SecurityGroup",
    title="No security group allows UDP ingress from ::/0 to ports 22 or 3389",
)
def ec2_security_group_admin_ports_ipv6_udp_restricted(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    return _sg_admin_results(
        data,
        unit,
        spec,
        ipv6=True,
        protocol=UDP,
        reported_by="ec2_security_group_admin_ports_ipv6_restricted",
    )


def _sources(permission: Mapping[str, Any]) -> list[str]:
    sources = [str(r.get("CidrIp")) for r in permission.get("IpRanges", [])]
    sources += [str(r.get("CidrIpv6")) for r in permission.get("Ipv6Ranges", [])]
    sources += [str(p.get("PrefixListId")) for p in permission.get("PrefixListIds", [])]
    for pair in permission.get("UserIdGroupPairs", []):
        sources.append(str(pair.get("GroupId") or pair.get("GroupName") or "a security group"))
    return sources


def _rules_text(permissions: list[Mapping[str, Any]], direction: str) -> str:
    count = len(permissions)
    described = [
        f"{describe_permission(p)} {direction} {_join(_sources(p)) or '?'}" for p in permissions
    ]
    rules = "rule" if count == 1 else "rules"
    return f"{count} {'inbound' if direction == 'from' else 'outbound'} {rules} (" + (
        "; ".join(described) + ")"
    )


@check(
    "ec2_default_security_group_restricts_all",
    controls=["5.4"],
    service="ec2",
    resource_type="AWS::EC2::SecurityGroup",
    title="The default security group of every VPC restricts all traffic",
)
def ec2_default_security_group_restricts_all(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for group in data.get("security_groups", []):
        if group.get("GroupName") != "default" or not group.get("VpcId"):
            continue
        inbound = list(group.get("IpPermissions", []))
        outbound = list(group.get("IpPermissionsEgress", []))
        vpc = group["VpcId"]
        if inbound or outbound:
            found = [
                _rules_text(rules, direction)
                for rules, direction in ((inbound, "from"), (outbound, "to"))
                if rules
            ]
            summary = f"The default security group of {vpc} has " + " and ".join(found) + "."
        else:
            summary = f"The default security group of {vpc} has no inbound or outbound rules."
        yield spec.result(
            ec2_arn(unit, "security-group", group["GroupId"]),
            not inbound and not outbound,
            summary,
            {"vpc_id": vpc, "inbound": inbound, "outbound": outbound},
        )


# --------------------------------------------------------------------------- CIFS / SMB (445)

#: CIFS/SMB over TCP (SMB direct). NetBIOS session service (TCP 139) is older SMB transport that
#: the benchmark's CIFS recommendation does not name; UDP 445 carries no SMB.
CIFS_PORTS = (445,)


@check(
    "ec2_nacl_no_cifs_from_internet",
    controls=(),
    service="ec2",
    resource_type="AWS::EC2::NetworkAcl",
    title="No network ACL allows ingress from 0.0.0.0/0 or ::/0 to CIFS port 445",
)
def ec2_nacl_no_cifs_from_internet(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    """The 5.1 evaluation (rule order, first match decides, narrower sources neither expose nor
    close) applied to TCP 445."""
    return _nacl_port_results(data, unit, spec, ports=CIFS_PORTS, service="CIFS/SMB")


@check(
    "ec2_security_group_no_cifs_from_internet",
    controls=(),
    service="ec2",
    resource_type="AWS::EC2::SecurityGroup",
    title="No security group allows ingress from 0.0.0.0/0 or ::/0 to CIFS port 445",
)
def ec2_security_group_no_cifs_from_internet(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    """One verdict per group for both address families: SMB reachable from the IPv6 internet is
    as exposed as from the IPv4 one."""
    for group in data.get("security_groups", []):
        exposed = sg_admin_exposure(group, ipv6=False, ports=CIFS_PORTS) + sg_admin_exposure(
            group, ipv6=True, ports=CIFS_PORTS
        )
        label = f"{group.get('GroupName', '')} ({group['GroupId']})"
        if exposed:
            parts = [
                f"{item['rule']} from {item['source']}, which includes port 445" for item in exposed
            ]
            summary = (
                f"Security group {label} lets the internet reach CIFS/SMB: it allows inbound "
                + "; and ".join(parts)
                + "."
            )
        else:
            summary = (
                f"No inbound rule of security group {label} lets 0.0.0.0/0 or ::/0 reach "
                "port 445 (CIFS/SMB)."
            )
        yield spec.result(
            ec2_arn(unit, "security-group", group["GroupId"]),
            not exposed,
            summary,
            {"vpc_id": group.get("VpcId"), "exposed": exposed},
        )


# --------------------------------------------------------------------------- the rest


@check(
    "ec2_ebs_default_encryption_enabled",
    controls=["2.2.1"],
    service="ec2",
    resource_type="AWS::EC2::RegionalSettings",
    title="EBS encryption by default is enabled in the region",
)
def ec2_ebs_default_encryption_enabled(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    if "ebs_encryption_by_default" not in data:
        return
    enabled = bool(data["ebs_encryption_by_default"])
    region = data.get("region", unit.region)
    summary = (
        f"EBS encryption by default is enabled in {region}."
        if enabled
        else f"EBS encryption by default is disabled in {region}: new volumes may be unencrypted."
    )
    yield spec.result(
        unit.regional_settings_arn("ec2"),
        enabled,
        summary,
        {"EbsEncryptionByDefault": enabled},
    )


def _qualifying_flow_log(flow_log: Mapping[str, Any]) -> bool:
    return flow_log.get("FlowLogStatus") == "ACTIVE" and flow_log.get("TrafficType") in (
        "ALL",
        "REJECT",
    )


@check(
    "ec2_vpc_flow_logs_enabled",
    controls=["3.9"],
    service="ec2",
    resource_type="AWS::EC2::VPC",
    title="VPC flow logging is enabled (capturing rejected traffic)",
)
def ec2_vpc_flow_logs_enabled(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    """A VPC passes with an ACTIVE flow log on the VPC itself whose traffic type is ALL or
    REJECT (the benchmark's remediation logs rejected traffic; an ACCEPT-only log misses it).
    Flow logs on single subnets or interfaces do not cover the VPC."""
    by_vpc: dict[str, list[Mapping[str, Any]]] = {}
    for flow_log in data.get("flow_logs", []):
        by_vpc.setdefault(str(flow_log.get("ResourceId")), []).append(flow_log)
    for vpc in data.get("vpcs", []):
        vpc_id = vpc["VpcId"]
        logs = by_vpc.get(vpc_id, [])
        good = [log for log in logs if _qualifying_flow_log(log)]
        kind = "default VPC" if vpc.get("IsDefault") else "VPC"
        if good:
            log = good[0]
            summary = (
                f"Flow log {log.get('FlowLogId')} captures {log.get('TrafficType')} traffic of "
                f"{kind} {vpc_id} to {log.get('LogDestinationType', 'its destination')}."
            )
        elif logs:
            states = _join(
                [
                    f"{log.get('FlowLogId')} ({log.get('TrafficType')}, {log.get('FlowLogStatus')})"
                    for log in logs
                ]
            )
            summary = (
                f"No flow log of {kind} {vpc_id} is active and captures rejected traffic: {states}."
            )
        else:
            summary = f"{kind[0].upper()}{kind[1:]} {vpc_id} has no flow log."
        yield spec.result(
            ec2_arn(unit, "vpc", vpc_id),
            bool(good),
            summary,
            {"is_default": bool(vpc.get("IsDefault")), "flow_logs": logs},
        )


@check(
    "ec2_instance_imdsv2_required",
    controls=["5.6"],
    service="ec2",
    resource_type="AWS::EC2::Instance",
    title="EC2 instance metadata service requires IMDSv2",
)
def ec2_instance_imdsv2_required(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    for instance in data.get("instances", []):
        options = dict(instance.get("MetadataOptions") or {})
        tokens = options.get("HttpTokens")
        endpoint = options.get("HttpEndpoint")
        if endpoint == "disabled":
            passed, summary = True, "The instance metadata service is disabled (HttpEndpoint)."
        elif tokens == "required":
            passed, summary = True, "IMDSv2 is required (HttpTokens = required)."
        elif not options:
            passed, summary = False, "No metadata options are reported, so IMDSv1 may be allowed."
        else:
            passed = False
            summary = f"The instance allows IMDSv1: HttpTokens is {tokens or 'not set'}."
        yield spec.result(
            ec2_arn(unit, "instance", instance["InstanceId"]),
            passed,
            summary,
            {"MetadataOptions": options},
        )


@check(
    "ec2_instance_uses_instance_profile",
    controls=["1.18"],
    service="ec2",
    resource_type="AWS::EC2::Instance",
    title="EC2 instance gets AWS access from an IAM instance role",
)
def ec2_instance_uses_instance_profile(
    data: Mapping[str, Any], unit: Unit, spec: CheckSpec
) -> Iterable[Result]:
    """CIS 1.18: software on an instance should reach AWS through the instance's role (short-lived
    credentials from the metadata service), not keys copied onto the machine. The audit is an
    attached instance profile; a stopped instance counts too, since it starts with what it has.
    """
    for instance in data.get("instances", []):
        profile = instance.get("IamInstanceProfile") or {}
        arn = profile.get("Arn")
        if arn:
            passed, summary = True, f"The instance has the instance profile {arn}."
        else:
            passed = False
            summary = (
                "No IAM instance profile is attached: software on it has no role credentials "
                "and would need long-lived access keys to call AWS."
            )
        yield spec.result(
            ec2_arn(unit, "instance", instance["InstanceId"]),
            passed,
            summary,
            {"IamInstanceProfile": profile or None},
        )
