"""One builder per check: the fix of that check's failing finding on one resource, as Terraform
blocks. A control of any benchmark shows the fixes of the checks that decide it.

Builders are pure: they read a :class:`Target` (what the scan saw) and return a
:class:`Remedy`. Values the product knows (ids, current rules, current policy) are filled in;
what only the user knows becomes a ``variable``. Name tags appear only in comments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from findings.checks.ec2 import ADMIN_PORTS, is_anywhere, nacl_entry_reaches
from findings.checks.monitoring import CONTROLS as MONITORED
from findings.remediation import hcl
from findings.remediation.hcl import Attr, Block, Comment, Raw
from findings.remediation.model import ADMIN_CIDR, Remedy, Target, Variable, shell

Builder = Callable[[Target], Remedy | None]
BUILDERS: dict[str, Builder] = {}

_ALL_BLOCKED = [
    Attr("block_public_acls", True),
    Attr("block_public_policy", True),
    Attr("ignore_public_acls", True),
    Attr("restrict_public_buckets", True),
]
_NACL_DEFAULT_RULE = 32767


def builds(*check_ids: str) -> Callable[[Builder], Builder]:
    """Register ``fn`` as the fix of the findings of each of ``check_ids``."""

    def register(fn: Builder) -> Builder:
        for check_id in check_ids:
            BUILDERS[check_id] = fn
        return fn

    return register


def _import(resource_type: str, name: str, aws_id: str) -> Block:
    return Block("import", (), [Attr("to", Raw(f"{resource_type}.{name}")), Attr("id", aws_id)])


def _resource(resource_type: str, name: str, body: list[Any]) -> Block:
    return Block("resource", (resource_type, name), body)


def _tags(target: Target) -> list[Attr]:
    # An imported resource without its tags would have them removed at apply: keep them.
    return [Attr("tags", dict(target.tags))] if target.tags else []


def _region_args(target: Target) -> list[str]:
    return ["--region", target.region] if target.is_regional else []


# --------------------------------------------------------------------------- S3


def _deny_http(target: Target, bucket: str) -> dict[str, Any]:
    arn = target.arn_of("s3", bucket)
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


@builds("s3_bucket_secure_transport")
def bucket_denies_http(target: Target) -> Remedy:
    bucket = target.aws_id
    policy = dict(target.configuration.get("policy") or {})
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    deny = _deny_http(target, bucket)
    kept = [s for s in statements if not (isinstance(s, dict) and s.get("Sid") == deny["Sid"])]
    document = {**policy, "Version": policy.get("Version", "2012-10-17")}
    document["Statement"] = [*kept, deny]
    name = hcl.label("bucket_policy", bucket)
    blocks: list[Any] = [
        Comment(
            f"Bucket {bucket}: its {len(kept)} current statement(s) kept as the scan saw them, "
            "plus a Deny of s3:* without TLS."
        )
    ]
    if policy:
        blocks.append(_import("aws_s3_bucket_policy", name, bucket))
    blocks.append(
        _resource(
            "aws_s3_bucket_policy",
            name,
            [Attr("bucket", bucket), Attr("policy", Raw(f"jsonencode({hcl.value(document)})"))],
        )
    )
    return Remedy(
        "s3_bucket_secure_transport",
        f"deny HTTP requests to bucket {bucket}",
        target,
        blocks,
        cli=[
            "# Review the current policy first: put-bucket-policy replaces it whole.",
            shell("aws", "s3api", "get-bucket-policy", "--bucket", bucket),
        ],
    )


@builds("s3_bucket_public_access_blocked", "s3_account_public_access_blocked")
def public_access_blocked(target: Target) -> Remedy:
    if target.resource_type == "AWS::::Account":
        account = target.account_id
        name = hcl.label("account_public_access_block", account)
        blocks: list[Any] = [Comment(f"Account {account}: Block Public Access for every bucket.")]
        if target.configuration.get("s3_public_access_block"):
            blocks.append(_import("aws_s3_account_public_access_block", name, account))
        blocks.append(
            _resource(
                "aws_s3_account_public_access_block",
                name,
                [Attr("account_id", account), *_ALL_BLOCKED],
            )
        )
        flags = (
            "BlockPublicAcls=true,IgnorePublicAcls=true,"
            "BlockPublicPolicy=true,RestrictPublicBuckets=true"
        )
        cli = [
            shell(
                "aws",
                "s3control",
                "put-public-access-block",
                "--account-id",
                account,
                "--public-access-block-configuration",
                flags,
            )
        ]
        return Remedy(
            "s3_account_public_access_blocked",
            f"block public access in account {account}",
            target,
            blocks,
            cli=cli,
        )
    bucket = target.aws_id
    name = hcl.label("bucket_public_access_block", bucket)
    blocks = []
    if target.configuration.get("public_access_block"):
        blocks.append(_import("aws_s3_bucket_public_access_block", name, bucket))
    blocks.append(
        _resource(
            "aws_s3_bucket_public_access_block", name, [Attr("bucket", bucket), *_ALL_BLOCKED]
        )
    )
    return Remedy(
        "s3_bucket_public_access_blocked", f"block public access to bucket {bucket}", target, blocks
    )


_MFA = Variable(
    "root_mfa",
    "The root user's MFA device serial and a current code, separated by a space "
    "(MFA Delete can only be set by the root user with MFA).",
    sensitive=True,
)


@builds("s3_bucket_mfa_delete_enabled")
def bucket_mfa_delete(target: Target) -> Remedy:
    bucket = target.aws_id
    name = hcl.label("bucket_versioning", bucket)
    blocks: list[Any] = [
        Comment("Apply with the root user's credentials: only root may change MFA Delete."),
        _import("aws_s3_bucket_versioning", name, bucket),
        _resource(
            "aws_s3_bucket_versioning",
            name,
            [
                Attr("bucket", bucket),
                Attr("mfa", Raw("var.root_mfa")),
                Block(
                    "versioning_configuration",
                    body=[Attr("status", "Enabled"), Attr("mfa_delete", "Enabled")],
                ),
            ],
        ),
    ]
    cli = [
        "# As the root user, with its MFA device:",
        shell(
            "aws",
            "s3api",
            "put-bucket-versioning",
            "--bucket",
            bucket,
            "--versioning-configuration",
            "Status=Enabled,MFADelete=Enabled",
            "--mfa",
            target.arn_of("iam", "mfa/root-account-mfa-device", account=target.account_id)
            + " 123456",
        ),
    ]
    return Remedy(
        "s3_bucket_mfa_delete_enabled",
        f"MFA Delete on bucket {bucket}",
        target,
        blocks,
        [_MFA],
        cli=cli,
    )


# --------------------------------------------------------------------------- network ACLs


def _nacl_rule(entry: dict[str, Any]) -> Block:
    ports = entry.get("PortRange") or {}
    icmp = entry.get("IcmpTypeCode") or {}
    protocol = str(entry.get("Protocol", "-1"))
    body = [
        Attr("rule_no", int(entry["RuleNumber"])),
        Attr("protocol", protocol),
        Attr("action", str(entry.get("RuleAction", "deny"))),
    ]
    if entry.get("Ipv6CidrBlock"):
        body.append(Attr("ipv6_cidr_block", str(entry["Ipv6CidrBlock"])))
    elif isinstance(entry.get("CidrBlock"), Raw):
        body.append(Attr("cidr_block", entry["CidrBlock"]))
    else:
        body.append(Attr("cidr_block", str(entry.get("CidrBlock", ""))))
    body.append(Attr("from_port", int(ports.get("From", 0)) if protocol != "-1" else 0))
    body.append(Attr("to_port", int(ports.get("To", 0)) if protocol != "-1" else 0))
    if icmp:
        body += [
            Attr("icmp_type", int(icmp.get("Type", -1))),
            Attr("icmp_code", int(icmp.get("Code", -1))),
        ]
    return Block("egress" if entry.get("Egress") else "ingress", body=body)


_PROTOCOL_NAMES = {"6": "TCP", "17": "UDP"}


def _exposes(entry: dict[str, Any]) -> list[tuple[str, int]]:
    """The (protocol, admin port) pairs an allow rule from anywhere opens: TCP and UDP (CIS
    v3.0.0 on name UDP too; an all-traffic rule opens both)."""
    source = entry.get("CidrBlock") or entry.get("Ipv6CidrBlock")
    if entry.get("Egress") or entry.get("RuleAction") != "allow" or not is_anywhere(source):
        return []
    return [
        (protocol, port)
        for protocol in _PROTOCOL_NAMES
        for port in ADMIN_PORTS
        if nacl_entry_reaches(entry, port, protocol)
    ]


def _said(pairs: list[tuple[str, int]]) -> str:
    return ", ".join(f"{_PROTOCOL_NAMES[protocol]} {port}" for protocol, port in pairs)


def _covers_only_admin_ports(entry: dict[str, Any]) -> bool:
    ports = entry.get("PortRange") or {}
    if str(entry.get("Protocol")) not in _PROTOCOL_NAMES or not ports:
        return False
    low, high = int(ports.get("From", 0)), int(ports.get("To", 65535))
    return all(port in ADMIN_PORTS for port in range(low, high + 1)) if high - low < 10 else False


def tightened_nacl_ingress(entries: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The ingress rules minus what opens 22/3389 to the internet, and notes saying what changed.

    A rule opening only admin ports is removed. A broader one (all traffic, or 0-65535) also
    carries the site's other traffic: it is kept, and deny rules for 22/3389 (TCP, UDP, or both
    for all traffic) from the same source are put just before it (rules are evaluated in
    number order, the first match decides), so nothing else the network relies on stops
    working. SSH from ``var.admin_cidr`` comes before every such deny.
    """
    ingress = [
        dict(e)
        for e in entries
        if not e.get("Egress") and int(e["RuleNumber"]) != _NACL_DEFAULT_RULE
    ]
    used = {int(e["RuleNumber"]) for e in ingress}
    result: list[dict[str, Any]] = []
    notes: list[str] = []
    lowest_deny: int | None = None
    ssh_exposed = False

    def free_below(number: int) -> int | None:
        for candidate in range(number - 1, 0, -1):
            if candidate not in used:
                used.add(candidate)
                return candidate
        return None

    for entry in sorted(ingress, key=lambda e: int(e["RuleNumber"])):
        ports = _exposes(entry)
        if not ports:
            result.append(entry)
            continue
        ssh_exposed = ssh_exposed or ("6", 22) in ports
        number = int(entry["RuleNumber"])
        source_key = "Ipv6CidrBlock" if entry.get("Ipv6CidrBlock") else "CidrBlock"
        if _covers_only_admin_ports(entry):
            notes.append(f"rule {number} removed: it opened {_said(ports)} to {entry[source_key]}")
            continue
        denies = []
        for protocol, port in ports:
            slot = free_below(number)
            if slot is None:
                break
            denies.append(
                {
                    "RuleNumber": slot,
                    "Protocol": protocol,
                    "RuleAction": "deny",
                    "Egress": False,
                    source_key: entry[source_key],
                    "PortRange": {"From": port, "To": port},
                }
            )
        if len(denies) < len(ports):
            notes.append(f"rule {number} removed: no free rule number before it for a deny")
            continue
        result.extend([*denies, entry])
        lowest_deny = min([lowest_deny or _NACL_DEFAULT_RULE, *(d["RuleNumber"] for d in denies)])
        notes.append(
            f"rule {number} kept for its other traffic; {_said(ports)} from {entry[source_key]} "
            f"denied first (rules {', '.join(str(d['RuleNumber']) for d in denies)})"
        )
    if ssh_exposed:
        slot = (
            free_below(lowest_deny or 100)
            if lowest_deny
            else (100 if 100 not in used else free_below(_NACL_DEFAULT_RULE))
        )
        if slot is not None:
            result.append(
                {
                    "RuleNumber": slot,
                    "Protocol": "6",
                    "RuleAction": "allow",
                    "Egress": False,
                    "CidrBlock": Raw("var.admin_cidr"),
                    "PortRange": {"From": 22, "To": 22},
                }
            )
            notes.append(f"rule {slot} allows SSH from var.admin_cidr only")
    return sorted(result, key=lambda e: int(e["RuleNumber"])), notes


def _vpc_note(target: Target) -> str:
    vpc = str(target.configuration.get("VpcId") or "")
    if not vpc:
        return ""
    if target.configuration.get("VpcIsDefault"):
        return f" in {vpc} (the region's default VPC)"
    return f" in {vpc}"


def delete_default_vpc_steps(target: Target, vpc_id: str, subnet_ids: list[str]) -> list[str]:
    """Delete a default VPC in the safe order: nothing must run in it, then its internet
    gateway (detach, delete), its subnets, and the VPC (its default ACL, security group and
    main route table go with it)."""
    region = ["--region", target.region]
    in_vpc = f"Name=vpc-id,Values={vpc_id}"
    igws = f"Name=attachment.vpc-id,Values={vpc_id}"
    steps = [
        f"# 1. Nothing may use {hcl.comment_text(vpc_id)}: this must print nothing"
        " (else stop, it is in use).",
        shell(
            "aws",
            "ec2",
            "describe-network-interfaces",
            *region,
            "--filters",
            in_vpc,
            "--query",
            "NetworkInterfaces[].NetworkInterfaceId",
            "--output",
            "text",
        ),
        "# 2. Detach and delete its internet gateway(s).",
        "for igw in $("
        + shell(
            "aws",
            "ec2",
            "describe-internet-gateways",
            *region,
            "--filters",
            igws,
            "--query",
            "InternetGateways[].InternetGatewayId",
            "--output",
            "text",
        )
        + "); do",
        "  "
        + shell("aws", "ec2", "detach-internet-gateway", *region, "--vpc-id", vpc_id)
        + ' --internet-gateway-id "$igw"',
        "  "
        + shell("aws", "ec2", "delete-internet-gateway", *region)
        + ' --internet-gateway-id "$igw"',
        "done",
        "# 3. Delete its subnets.",
    ]
    steps += [
        shell("aws", "ec2", "delete-subnet", *region, "--subnet-id", s) for s in subnet_ids
    ] or [
        "for subnet in $("
        + shell(
            "aws",
            "ec2",
            "describe-subnets",
            *region,
            "--filters",
            in_vpc,
            "--query",
            "Subnets[].SubnetId",
            "--output",
            "text",
        )
        + "); do "
        + shell("aws", "ec2", "delete-subnet", *region)
        + ' --subnet-id "$subnet"; done'
    ]
    steps += [
        "# 4. Delete the VPC (its default network ACL, security group and main route table"
        " go with it).",
        shell("aws", "ec2", "delete-vpc", *region, "--vpc-id", vpc_id),
    ]
    return steps


@builds("ec2_network_acl_admin_ports_restricted", "ec2_network_acl_admin_ports_udp_restricted")
def nacl_admin_ports(target: Target) -> Remedy:
    config = target.configuration
    acl_id = target.aws_id
    entries = list(config.get("Entries") or [])
    ingress, notes = tightened_nacl_ingress(entries)
    egress = [e for e in entries if e.get("Egress") and int(e["RuleNumber"]) != _NACL_DEFAULT_RULE]
    subnets = sorted(
        str(a["SubnetId"]) for a in config.get("Associations") or [] if a.get("SubnetId")
    )
    name = hcl.label("nacl", acl_id)
    is_default_acl = bool(config.get("IsDefault"))
    kind = "aws_default_network_acl" if is_default_acl else "aws_network_acl"
    head = (
        [Attr("default_network_acl_id", acl_id)]
        if is_default_acl
        else [Attr("vpc_id", str(config.get("VpcId", "")))]
    )
    body: list[Any] = [*head, Attr("subnet_ids", subnets)]
    body.append(Comment("Rule set as the scan saw it, " + "; ".join(notes) + "."))
    body += [_nacl_rule(e) for e in ingress] + [_nacl_rule(e) for e in egress]
    body += _tags(target)
    blocks: list[Any] = [
        Comment(
            f"Network ACL {target.describe()}{_vpc_note(target)}. "
            "This block owns its whole rule set."
        ),
        _import(kind, name, acl_id),
        _resource(kind, name, body),
    ]
    remedy = Remedy(
        "ec2_network_acl_admin_ports_restricted",
        f"close 22/3389 to the internet on network ACL {acl_id}",
        target,
        blocks,
        [ADMIN_CIDR],
    )
    vpc_id = str(config.get("VpcId") or "")
    if config.get("VpcIsDefault") and vpc_id:
        remedy.manual_reason = (
            f"{vpc_id} is the region's default VPC. If nothing runs in it, deleting it is the "
            "better fix; Terraform does not manage default VPCs it did not create, so use the CLI."
        )
        remedy.cli = delete_default_vpc_steps(target, vpc_id, subnets)
    return remedy


# --------------------------------------------------------------------------- security groups


def _split_range(low: int, high: int) -> list[tuple[int, int]]:
    ranges, start = [], low
    for port in ADMIN_PORTS:
        if start <= port <= high:
            if start < port:
                ranges.append((start, port - 1))
            start = port + 1
    if start <= high:
        ranges.append((start, high))
    return ranges


def _sg_rule(
    kind: str, protocol: str, low: int, high: int, source: dict[str, Any], own_id: str
) -> Block:
    body: list[Any] = [
        Attr("protocol", protocol),
        Attr("from_port", low if protocol != "-1" else 0),
        Attr("to_port", high if protocol != "-1" else 0),
    ]
    if "CidrIp" in source:
        body.append(
            Attr(
                "cidr_blocks",
                [source["CidrIp"]]
                if not isinstance(source["CidrIp"], Raw)
                else Raw(f"[{source['CidrIp'].text}]"),
            )
        )
    elif "CidrIpv6" in source:
        body.append(Attr("ipv6_cidr_blocks", [str(source["CidrIpv6"])]))
    elif "PrefixListId" in source:
        body.append(Attr("prefix_list_ids", [str(source["PrefixListId"])]))
    elif source.get("GroupId") == own_id:
        body.append(Attr("self", True))
    elif "GroupId" in source:
        body.append(Attr("security_groups", [str(source["GroupId"])]))
    if source.get("Description"):
        body.append(Attr("description", str(source["Description"])))
    return Block(kind, body=body)


def _permission_rules(
    kind: str, permission: dict[str, Any], own_id: str, fix: bool
) -> tuple[list[Block], bool]:
    """Blocks for one permission (one per source), the admin ports cut out of sources that are
    the whole internet when ``fix``; and whether SSH was open to the internet."""
    protocol = str(permission.get("IpProtocol", "-1"))
    protocol = {"tcp": "6", "udp": "17", "icmp": "1"}.get(protocol, protocol)
    low, high = int(permission.get("FromPort", 0) or 0), int(permission.get("ToPort", 0) or 0)
    if protocol == "-1":
        low, high = 0, 65535
    sources = (
        list(permission.get("IpRanges") or [])
        + list(permission.get("Ipv6Ranges") or [])
        + list(permission.get("PrefixListIds") or [])
        + list(permission.get("UserIdGroupPairs") or [])
    )
    blocks: list[Block] = []
    ssh = False
    for source in sources:
        cidr = source.get("CidrIp") or source.get("CidrIpv6")
        admin = protocol in ("6", "17", "-1")
        opened = [p for p in ADMIN_PORTS if low <= p <= high] if admin else []
        if fix and cidr and is_anywhere(cidr) and opened:
            ssh = ssh or (22 in opened and protocol != "17")
            # The admin ports cut out of TCP and UDP alike (CIS v3.0.0 on name UDP too).
            kept = _split_range(low, high)
            if protocol == "-1":
                parts = [(p, a, b) for p in ("6", "17") for a, b in kept]
                parts.append(("1" if "CidrIp" in source else "58", -1, -1))
            else:
                parts = [(protocol, a, b) for a, b in kept]
            blocks += [_sg_rule(kind, p, a, b, source, own_id) for p, a, b in parts]
            continue
        if protocol == "-1":
            blocks.append(_sg_rule(kind, "-1", 0, 0, source, own_id))
        else:
            blocks.append(_sg_rule(kind, protocol, low, high, source, own_id))
    return blocks, ssh


@builds(
    "ec2_security_group_admin_ports_ipv4_restricted",
    "ec2_security_group_admin_ports_ipv6_restricted",
    "ec2_security_group_admin_ports_ipv4_udp_restricted",
    "ec2_security_group_admin_ports_ipv6_udp_restricted",
)
def security_group_admin_ports(target: Target) -> Remedy:
    config = target.configuration
    group_id = target.aws_id
    ingress: list[Block] = []
    ssh = False
    for permission in config.get("IpPermissions") or []:
        blocks, opened = _permission_rules("ingress", permission, group_id, fix=True)
        ingress += blocks
        ssh = ssh or opened
    if ssh:
        ingress.append(
            _sg_rule(
                "ingress",
                "6",
                22,
                22,
                {"CidrIp": Raw("var.admin_cidr"), "Description": "SSH from the admin network"},
                group_id,
            )
        )
    egress: list[Block] = []
    for permission in config.get("IpPermissionsEgress") or []:
        egress += _permission_rules("egress", permission, group_id, fix=False)[0]
    name = hcl.label("security_group", group_id)
    body: list[Any] = [
        Attr("name", str(config.get("GroupName", ""))),
        Attr("description", str(config.get("Description", ""))),
        Attr("vpc_id", str(config.get("VpcId", ""))),
        Comment(
            "Rules as the scan saw them; ports 22 and 3389 cut out of those open to the internet."
        ),
        *ingress,
        *egress,
        *_tags(target),
    ]
    blocks = [
        Comment(
            f"Security group {target.describe()}{_vpc_note(target)}. This block owns all its rules."
        ),
        _import("aws_security_group", name, group_id),
        _resource("aws_security_group", name, body),
    ]
    return Remedy(
        "ec2_security_group_admin_ports_ipv4_restricted",
        f"close 22/3389 to the internet on security group {group_id}",
        target,
        blocks,
        [ADMIN_CIDR] if ssh else [],
    )


@builds("ec2_default_security_group_restricts_all")
def default_security_group(target: Target) -> Remedy:
    group_id = target.aws_id
    name = hcl.label("default_security_group", group_id)
    vpc = str(target.configuration.get("VpcId", ""))
    blocks = [
        Comment(
            f"Default security group {target.describe()}{_vpc_note(target)}: no rules at all. "
            "Anything still using it loses its traffic: check first."
        ),
        _import("aws_default_security_group", name, group_id),
        _resource("aws_default_security_group", name, [Attr("vpc_id", vpc), *_tags(target)]),
    ]
    cli = [
        "# What still uses the group (must be nothing before its rules go):",
        shell(
            "aws",
            "ec2",
            "describe-network-interfaces",
            *_region_args(target),
            "--filters",
            f"Name=group-id,Values={group_id}",
            "--query",
            "NetworkInterfaces[].NetworkInterfaceId",
        ),
    ]
    return Remedy(
        "ec2_default_security_group_restricts_all",
        f"remove every rule of default security group {group_id}",
        target,
        blocks,
        cli=cli,
    )


# --------------------------------------------------------------------------- instances


def _instance(target: Target, extra: list[Any], metadata: dict[str, Any] | None = None) -> Block:
    config = target.configuration
    options = dict(config.get("MetadataOptions") or {})
    # Only the fix that changes the metadata options writes them: 1.18's block for the same
    # instance then merges with 5.6's in a directory without a conflict.
    meta: list[Block] = []
    if metadata is not None:
        meta_body = [
            Attr("http_endpoint", str(options.get("HttpEndpoint", "enabled"))),
            Attr("http_tokens", str(metadata["http_tokens"])),
            Attr("http_put_response_hop_limit", int(options.get("HttpPutResponseHopLimit", 1))),
        ]
        meta = [Block("metadata_options", body=meta_body)]
    return _resource(
        "aws_instance",
        hcl.label("instance", target.aws_id),
        [
            Attr("ami", str(config.get("ImageId", ""))),
            Attr("instance_type", str(config.get("InstanceType", ""))),
            *extra,
            *meta,
            *_tags(target),
        ],
    )


@builds("ec2_instance_imdsv2_required")
def instance_imdsv2(target: Target) -> Remedy:
    instance_id = target.aws_id
    blocks = [
        Comment(f"Instance {target.describe()}: IMDSv2 only (session tokens required)."),
        _import("aws_instance", hcl.label("instance", instance_id), instance_id),
        _instance(target, [], {"http_tokens": "required"}),
    ]
    cli = [
        shell(
            "aws",
            "ec2",
            "modify-instance-metadata-options",
            *_region_args(target),
            "--instance-id",
            instance_id,
            "--http-tokens",
            "required",
            "--http-endpoint",
            "enabled",
        )
    ]
    return Remedy(
        "ec2_instance_imdsv2_required",
        f"require IMDSv2 on instance {instance_id}",
        target,
        blocks,
        cli=cli,
    )


_PROFILE = Variable(
    "instance_profile_name",
    "The IAM instance profile that grants the instance the AWS access it needs.",
)


@builds("ec2_instance_uses_instance_profile")
def instance_profile(target: Target) -> Remedy:
    instance_id = target.aws_id
    blocks = [
        Comment(f"Instance {target.describe()}: an instance profile instead of stored keys."),
        _import("aws_instance", hcl.label("instance", instance_id), instance_id),
        _instance(target, [Attr("iam_instance_profile", Raw("var.instance_profile_name"))]),
    ]
    return Remedy(
        "ec2_instance_uses_instance_profile",
        f"attach an instance profile to {instance_id}",
        target,
        blocks,
        [_PROFILE],
    )


# --------------------------------------------------------------------------- regional settings


def _regional(
    target: Target,
    check_id: str,
    title: str,
    prefix: str,
    resources: list[Block],
    variables: list[Variable] | None = None,
) -> Remedy:
    return Remedy(
        check_id,
        f"{title} in {target.region}",
        target,
        [Comment(f"{title}, region {target.region}."), *resources],
        variables or [],
    )


@builds("ec2_ebs_default_encryption_enabled")
def ebs_encryption(target: Target) -> Remedy:
    name = hcl.label("ebs_encryption", target.region)
    return _regional(
        target,
        "ec2_ebs_default_encryption_enabled",
        "EBS encryption by default",
        name,
        [_resource("aws_ebs_encryption_by_default", name, [Attr("enabled", True)])],
    )


@builds("accessanalyzer_enabled")
def access_analyzer(target: Target) -> Remedy:
    name = hcl.label("access_analyzer", target.region)
    return _regional(
        target,
        "accessanalyzer_enabled",
        "IAM Access Analyzer",
        name,
        [
            _resource(
                "aws_accessanalyzer_analyzer",
                name,
                [
                    Attr("analyzer_name", f"account-analyzer-{target.region}"),
                    Attr("type", "ACCOUNT"),
                ],
            )
        ],
    )


@builds("securityhub_hub_enabled")
def security_hub(target: Target) -> Remedy:
    name = hcl.label("security_hub", target.region)
    return _regional(
        target,
        "securityhub_hub_enabled",
        "Security Hub",
        name,
        [_resource("aws_securityhub_account", name, [])],
    )


_CONFIG_ROLE = Variable(
    "config_role_arn", "ARN of the IAM role AWS Config records with (AWS_ConfigRole attached)."
)
_CONFIG_BUCKET = Variable(
    "config_bucket_name", "S3 bucket AWS Config delivers configuration snapshots to."
)


@builds("config_recorder_recording_all_resources")
def config_recorder(target: Target) -> Remedy:
    region = target.region
    recorder, channel, status = (
        hcl.label(p, region) for p in ("config_recorder", "config_channel", "config_status")
    )
    return _regional(
        target,
        "config_recorder_recording_all_resources",
        "AWS Config recording all resources",
        recorder,
        [
            _resource(
                "aws_config_configuration_recorder",
                recorder,
                [
                    Attr("name", "default"),
                    Attr("role_arn", Raw("var.config_role_arn")),
                    Block(
                        "recording_group",
                        body=[
                            Attr("all_supported", True),
                            Attr("include_global_resource_types", True),
                        ],
                    ),
                ],
            ),
            _resource(
                "aws_config_delivery_channel",
                channel,
                [
                    Attr("name", "default"),
                    Attr("s3_bucket_name", Raw("var.config_bucket_name")),
                    Attr("depends_on", Raw(f"[aws_config_configuration_recorder.{recorder}]")),
                ],
            ),
            _resource(
                "aws_config_configuration_recorder_status",
                status,
                [
                    Attr("name", Raw(f"aws_config_configuration_recorder.{recorder}.name")),
                    Attr("is_enabled", True),
                    Attr("depends_on", Raw(f"[aws_config_delivery_channel.{channel}]")),
                ],
            ),
        ],
        [_CONFIG_ROLE, _CONFIG_BUCKET],
    )


_FLOW_ROLE = Variable(
    "flow_logs_role_arn", "ARN of the IAM role VPC Flow Logs uses to write to CloudWatch Logs."
)


@builds("ec2_vpc_flow_logs_enabled")
def vpc_flow_logs(target: Target) -> Remedy:
    vpc_id = target.aws_id
    group, flow = hcl.label("flow_logs", vpc_id), hcl.label("flow_log", vpc_id)
    blocks = [
        Comment(f"VPC {target.describe()}: log rejected traffic to CloudWatch Logs."),
        _resource(
            "aws_cloudwatch_log_group",
            group,
            [Attr("name", f"/aws/vpc/flow-logs/{vpc_id}"), Attr("retention_in_days", 365)],
        ),
        _resource(
            "aws_flow_log",
            flow,
            [
                Attr("vpc_id", vpc_id),
                Attr("traffic_type", "REJECT"),
                Attr("log_destination_type", "cloud-watch-logs"),
                Attr("log_destination", Raw(f"aws_cloudwatch_log_group.{group}.arn")),
                Attr("iam_role_arn", Raw("var.flow_logs_role_arn")),
            ],
        ),
    ]
    return Remedy(
        "ec2_vpc_flow_logs_enabled", f"flow logs for VPC {vpc_id}", target, blocks, [_FLOW_ROLE]
    )


# --------------------------------------------------------------------------- account


def _password_policy(target: Target, check_id: str) -> Remedy:
    current = target.configuration.get("password_policy") or {}
    name = hcl.label("password_policy", target.account_id)
    keep = {
        "RequireUppercaseCharacters": "require_uppercase_characters",
        "RequireLowercaseCharacters": "require_lowercase_characters",
        "RequireSymbols": "require_symbols",
        "RequireNumbers": "require_numbers",
        "AllowUsersToChangePassword": "allow_users_to_change_password",
        "HardExpiry": "hard_expiry",
        "MaxPasswordAge": "max_password_age",
    }
    body: list[Any] = [
        Attr("minimum_password_length", max(14, int(current.get("MinimumPasswordLength", 0) or 0))),
        Attr(
            "password_reuse_prevention",
            max(24, int(current.get("PasswordReusePrevention", 0) or 0)),
        ),
    ]
    body += [
        Attr(arg, current[key])
        for key, arg in keep.items()
        if key in current and isinstance(current[key], bool | int)
    ]
    blocks: list[Any] = [
        Comment(
            f"Account {target.account_id}: password policy (length >= 14, the last 24 not reused)."
        )
    ]
    if current:
        blocks.append(
            _import("aws_iam_account_password_policy", name, "iam-account-password-policy")
        )
    blocks.append(_resource("aws_iam_account_password_policy", name, body))
    return Remedy(check_id, f"password policy of account {target.account_id}", target, blocks)


BUILDERS["iam_password_policy_min_length_14"] = lambda target: _password_policy(
    target, "iam_password_policy_min_length_14"
)
BUILDERS["iam_password_policy_reuse_24"] = lambda target: _password_policy(
    target, "iam_password_policy_reuse_24"
)

_SUPPORT_PRINCIPAL = Variable(
    "support_principal_arn",
    "ARN of the user or role (e.g. your incident team's role) allowed to assume the support role.",
)


@builds("iam_support_role_exists")
def support_role(target: Target) -> Remedy:
    role, attach = (
        hcl.label("support_role", target.account_id),
        hcl.label("support_access", target.account_id),
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"AWS": Raw("var.support_principal_arn")},
            }
        ],
    }
    blocks = [
        _resource(
            "aws_iam_role",
            role,
            [
                Attr("name", "aws-support"),
                Attr("assume_role_policy", Raw(f"jsonencode({hcl.value(trust)})")),
            ],
        ),
        _resource(
            "aws_iam_role_policy_attachment",
            attach,
            [
                Attr("role", Raw(f"aws_iam_role.{role}.name")),
                Attr("policy_arn", target.arn_of("iam", "policy/AWSSupportAccess", account="aws")),
            ],
        ),
    ]
    return Remedy(
        "iam_support_role_exists",
        f"support role in account {target.account_id}",
        target,
        blocks,
        [_SUPPORT_PRINCIPAL],
    )


_LOG_GROUP = Variable(
    "cloudtrail_log_group_name",
    "CloudWatch Logs group your multi-region CloudTrail trail sends events to.",
)
_ALARM_TOPIC = Variable(
    "alarm_sns_topic_arn", "ARN of the SNS topic the security team is subscribed to."
)


def _monitoring(check_id: str) -> Builder:
    control = next(c for c in MONITORED if c.check_id == check_id)

    def build(target: Target) -> Remedy:
        metric = "cis_" + control.check_id.removeprefix("monitoring_").removesuffix("_alarmed")
        flt, alarm = hcl.label("metric_filter", metric), hcl.label("alarm", metric)
        blocks = [
            Comment(f"Account {target.account_id}: alarm on {control.subject}."),
            _resource(
                "aws_cloudwatch_log_metric_filter",
                flt,
                [
                    Attr("name", metric),
                    Attr("log_group_name", Raw("var.cloudtrail_log_group_name")),
                    Attr("pattern", control.patterns[0]),
                    Block(
                        "metric_transformation",
                        body=[
                            Attr("name", metric),
                            Attr("namespace", "CISBenchmark"),
                            Attr("value", "1"),
                        ],
                    ),
                ],
            ),
            _resource(
                "aws_cloudwatch_metric_alarm",
                alarm,
                [
                    Attr("alarm_name", metric),
                    Attr("metric_name", metric),
                    Attr("namespace", "CISBenchmark"),
                    Attr("statistic", "Sum"),
                    Attr("period", 300),
                    Attr("evaluation_periods", 1),
                    Attr("threshold", 1),
                    Attr("comparison_operator", "GreaterThanOrEqualToThreshold"),
                    Attr("alarm_actions", Raw("[var.alarm_sns_topic_arn]")),
                    Attr("depends_on", Raw(f"[aws_cloudwatch_log_metric_filter.{flt}]")),
                ],
            ),
        ]
        return Remedy(
            check_id, f"alarm on {control.subject}", target, blocks, [_LOG_GROUP, _ALARM_TOPIC]
        )

    return build


for _control in MONITORED:
    BUILDERS[_control.check_id] = _monitoring(_control.check_id)


# --------------------------------------------------------------------------- not in Terraform


_ROOT_ONLY = (
    "Root user settings cannot be managed with Terraform or the CLI: "
    "only the root user can, in the console."
)


@builds("iam_root_mfa_enabled")
def root_mfa(target: Target) -> Remedy:
    return Remedy(
        "iam_root_mfa_enabled",
        f"MFA for the root user of account {target.account_id}",
        target,
        manual_reason=_ROOT_ONLY,
        console=[
            f"Sign in to the AWS console ({target.console_url}) as the root user of account "
            f"{target.account_id}.",
            "Open the account menu › Security credentials › Multi-factor authentication (MFA)"
            " › Assign MFA device.",
            "Pick a device (a hardware key where the benchmark asks for one), follow the steps,"
            " and keep the recovery details with the account's owner.",
        ],
        cli=[
            "# Audit: 1 means the root user has MFA.",
            shell("aws", "iam", "get-account-summary", "--query", "SummaryMap.AccountMFAEnabled"),
        ],
    )


@builds("iam_root_hardware_mfa_enabled")
def root_hardware_mfa(target: Target) -> Remedy:
    root = f"arn:{target.partition}:iam::{target.account_id}:root"
    return Remedy(
        "iam_root_hardware_mfa_enabled",
        f"a hardware MFA device for the root user of account {target.account_id}",
        target,
        manual_reason=_ROOT_ONLY,
        console=[
            f"Sign in to the AWS console ({target.console_url}) as the root user of account "
            f"{target.account_id}.",
            "Open the account menu › Security credentials › Multi-factor authentication (MFA).",
            "Assign a hardware device (a FIDO security key or a hardware TOTP token), then remove"
            " the virtual (authenticator app) device; keep the key with the account's owner.",
        ],
        cli=[
            "# Audit: the root user's virtual MFA devices (none once the hardware key is in use).",
            shell(
                "aws",
                "iam",
                "list-virtual-mfa-devices",
                "--assignment-status",
                "Assigned",
                "--query",
                f"VirtualMFADevices[?User.Arn=='{root}'].SerialNumber",
            ),
        ],
    )


@builds("iam_root_not_used_recently")
def root_not_used(target: Target) -> Remedy:
    return Remedy(
        "iam_root_not_used_recently",
        f"daily work without the root user of account {target.account_id}",
        target,
        manual_reason=(
            "A practice, not a setting: give each person a role or an IAM Identity Center user "
            "for administration and keep the root user for the few tasks only it can do."
        ),
        console=[
            "Find who used the root user and why: CloudTrail › Event history, filter User name"
            " = root.",
            "Give them an administrator role (IAM Identity Center permission set or an IAM role)"
            " for that work.",
            "Store the root user's password and MFA device with the account's owner; accept the"
            " finding for a task only the root user can do (closing the account, changing its"
            " support plan).",
        ],
        cli=[
            "# Audit: the root user's last password and key use (credential report, row 2).",
            shell("aws", "iam", "generate-credential-report"),
            shell("aws", "iam", "get-credential-report", "--query", "Content", "--output", "text")
            + " | base64 -d | head -n 2",
        ],
    )


@builds("iam_root_no_access_key")
def root_access_keys(target: Target) -> Remedy:
    return Remedy(
        "iam_root_no_access_key",
        f"no access keys for the root user of account {target.account_id}",
        target,
        manual_reason="Root user access keys can only be deleted by the root user, in the console.",
        console=[
            f"Sign in to the AWS console ({target.console_url}) as the root user of account "
            f"{target.account_id}.",
            "Open the account menu › Security credentials › Access keys;"
            " deactivate, then delete each key.",
        ],
    )
