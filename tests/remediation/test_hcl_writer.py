"""The HCL writer and the shell quoting, pure: a hostile value stays one value."""

from __future__ import annotations

import json
import shlex
import subprocess

import pytest

from findings.remediation import BUILDERS, Target, hcl, remedy_for, terraform_directory
from findings.remediation.builders import tightened_nacl_ingress
from findings.remediation.model import shell

HOSTILE = [
    'a"b',
    "back\\slash\\",
    "line\nbreak\r\n",
    '${file("/etc/passwd")}',
    "%{ if true }x%{ endif }",
    "$${literal}",
    "\\${x}",
    "*/ /* # //",
    '"\n}\ndata "external" "x" {\n  program = ["sh", "-c", "id"]\n}\n# ',
    "tab\tand\u2028sep\u202eRTL\x00nul",
]


def _hcl_to_python(literal: str) -> str:
    """What HCL makes of a quoted string with no template sequence left: JSON's escapes are
    HCL's (``\\n``, ``\\"``, ``\\\\``, ``\\uNNNN``) and ``$${``/``%%{`` are literal."""
    assert literal.startswith('"') and literal.endswith('"')
    body = literal[1:-1]
    # A live template sequence is a "${" or "%{" not preceded by its escape.
    stripped = body.replace("$${", "").replace("%%{", "")
    assert "${" not in stripped and "%{" not in stripped, literal
    return json.loads('"' + body.replace("$${", "${").replace("%%{", "%{") + '"')


@pytest.mark.parametrize("value", HOSTILE)
def test_a_string_reads_back_as_the_same_value(value: str) -> None:
    literal = hcl.string(value)
    assert "\n" not in literal and "\r" not in literal
    assert _hcl_to_python(literal) == value


@pytest.mark.parametrize("value", HOSTILE)
def test_a_comment_stays_one_line(value: str) -> None:
    line = hcl.comment(f"Name: {hcl.comment_text(value)}")
    assert "\n" not in line and "\r" not in line and "\u2028" not in line
    assert line.startswith("# ")


def test_labels_are_identifiers_and_unique() -> None:
    labels = {hcl.label("bucket", name) for name in ("a.b", "a-b", "a_b", "A-B", "a b", '"; x')}
    assert len(labels) == 6
    for label in labels:
        assert label.replace("_", "a").isalnum() and label[0].isalpha()
    assert hcl.label("nacl", "acl-0abc") == "nacl_acl_0abc"


@pytest.mark.parametrize("value", HOSTILE)
def test_shell_arguments_stay_one_argument(value: str) -> None:
    assert shlex.split(shell("aws", "ec2", "delete-vpc", "--vpc-id", value)) == [
        "aws",
        "ec2",
        "delete-vpc",
        "--vpc-id",
        value,
    ]


_HOSTILE_TRAIL = {
    "arn": "arn:aws:cloudtrail:eu-west-1:123456789012:trail/t",
    "name": HOSTILE[8],
    "home_region": "eu-west-1",
    "tags": {"Name": HOSTILE[8]},
    "snapshot": {
        "trail": {
            "Name": HOSTILE[8],
            "S3BucketName": HOSTILE[4],
            "S3KeyPrefix": HOSTILE[3],
            "IsMultiRegionTrail": False,
        },
        "status": {"IsLogging": False},
        "event_selectors": [
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": [HOSTILE[8]]}],
            }
        ],
        "advanced_event_selectors": [],
        "s3_bucket": {"public_access_block": None},
    },
}


def _target(resource_type: str, arn: str, **config) -> Target:
    return Target(
        "123456789012",
        "eu-west-1",
        resource_type,
        arn,
        tags={"Name": HOSTILE[8]},
        configuration=config,
    )


def test_every_builder_renders_and_keeps_hostile_tags_in_strings() -> None:
    targets = {
        "AWS::S3::Bucket": _target("AWS::S3::Bucket", "arn:aws:s3:::b", policy=None),
        "AWS::EC2::Instance": _target(
            "AWS::EC2::Instance",
            "arn:aws:ec2:eu-west-1:123456789012:instance/i-1",
            ImageId="ami-1",
            InstanceType="t3.micro",
        ),
        "AWS::EC2::NetworkAcl": _target(
            "AWS::EC2::NetworkAcl",
            "arn:aws:ec2:eu-west-1:123456789012:network-acl/acl-1",
            VpcId="vpc-1",
            IsDefault=False,
            Entries=[],
        ),
        "AWS::EC2::SecurityGroup": _target(
            "AWS::EC2::SecurityGroup",
            "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-1",
            VpcId="vpc-1",
            GroupName=HOSTILE[3],
            Description=HOSTILE[8],
        ),
        "AWS::EC2::VPC": _target("AWS::EC2::VPC", "arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-1"),
        "other": _target("AWS::::Account", "arn:aws:iam::123456789012:root"),
        "account with a trail": _target(
            "AWS::::Account",
            "arn:aws:iam::123456789012:root",
            cloudtrail={"trails": [{**_HOSTILE_TRAIL, "owned": True}]},
        ),
        "AWS::CloudTrail::Trail": _target(
            "AWS::CloudTrail::Trail", _HOSTILE_TRAIL["arn"], **_HOSTILE_TRAIL["snapshot"]
        ),
        "AWS::IAM::User": _target(
            "AWS::IAM::User",
            "arn:aws:iam::123456789012:user/x",
            user_name=HOSTILE[8],
            attached_policies=["arn:aws:iam::123456789012:policy/" + HOSTILE[3]],
            inline_policies=[HOSTILE[8]],
            credentials={
                "password_enabled": "true",
                "access_key_1_active": "true",
                "access_key_1_last_rotated": HOSTILE[8],
            },
        ),
        "AWS::IAM::Policy": _target(
            "AWS::IAM::Policy",
            "arn:aws:iam::123456789012:policy/p",
            policy_name=HOSTILE[8],
            managed_by="customer",
            path="/",
        ),
        "AWS::IAM::ServerCertificate": _target(
            "AWS::IAM::ServerCertificate",
            "arn:aws:iam::123456789012:server-certificate/c",
            expiration=HOSTILE[8],
        ),
        "AWS::RDS::DBInstance": _target(
            "AWS::RDS::DBInstance",
            "arn:aws:rds:eu-west-1:123456789012:db:d",
            DBInstanceIdentifier=HOSTILE[8],
            DBInstanceClass="db.t3.micro",
            Engine=HOSTILE[3],
        ),
        "AWS::EFS::FileSystem": _target(
            "AWS::EFS::FileSystem",
            "arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-1",
            FileSystemId="fs-1",
        ),
        "AWS::KMS::Key": _target(
            "AWS::KMS::Key",
            "arn:aws:kms:eu-west-1:123456789012:key/k-1",
            KeyId="k-1",
            Description=HOSTILE[8],
            Aliases=[HOSTILE[8]],
        ),
    }
    remedies = []
    scripts: list[str] = []
    for check_id in BUILDERS:
        for target in targets.values():
            remedy = remedy_for(check_id, target)
            text = remedy.terraform() if remedy else ""
            # The hostile tag never leaves a string: no "data" block, no live interpolation.
            _assert_only_our_blocks(text)
            # A comment line stays one line: a value with a newline cannot start a command.
            for line in remedy.cli if remedy else []:
                if line.lstrip().startswith("#"):
                    assert "\n" not in line and "\r" not in line
            scripts.append(remedy.cli_text() if remedy else "")
            remedies.append(remedy)
    _assert_only_our_blocks(terraform_directory(r for r in remedies if r))
    # And the commands are valid shell, each hostile value one quoted argument.
    subprocess.run(["bash", "-n"], input="\n".join(scripts), text=True, check=True)


def _assert_only_our_blocks(text: str) -> None:
    """Outside comments, the hostile text appears only escaped inside strings, and every
    top-level line opens one of the blocks the product writes."""
    code = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("#"))
    assert 'data "external"' not in code.replace('\\"', "")
    for line in code.split("\n"):
        if line and not line.startswith((" ", "}")):
            assert line.split()[0] in ("variable", "import", "resource", "terraform", "provider")


def test_a_nacl_keeps_its_other_traffic_and_closes_admin_ports() -> None:
    entries = [
        {
            "RuleNumber": 100,
            "Protocol": "-1",
            "RuleAction": "allow",
            "Egress": False,
            "CidrBlock": "0.0.0.0/0",
        },
        {
            "RuleNumber": 110,
            "Protocol": "6",
            "RuleAction": "allow",
            "Egress": False,
            "CidrBlock": "0.0.0.0/0",
            "PortRange": {"From": 22, "To": 22},
        },
        {
            "RuleNumber": 32767,
            "Protocol": "-1",
            "RuleAction": "deny",
            "Egress": False,
            "CidrBlock": "0.0.0.0/0",
        },
    ]
    ingress, _notes = tightened_nacl_ingress(entries)
    numbers = [
        (
            e["RuleNumber"],
            e["RuleAction"],
            str(e["Protocol"]),
            (e.get("PortRange") or {}).get("From"),
        )
        for e in ingress
    ]
    # All traffic opens 22 and 3389 over UDP as well as TCP (CIS v3.0.0 on name UDP): both are
    # denied before it; SSH from the admin network comes first.
    assert numbers == [
        (95, "allow", "6", 22),
        (96, "deny", "17", 3389),
        (97, "deny", "17", 22),
        (98, "deny", "6", 3389),
        (99, "deny", "6", 22),
        (100, "allow", "-1", None),
    ]
    assert isinstance(ingress[0]["CidrBlock"], hcl.Raw)  # var.admin_cidr


@pytest.mark.parametrize("order", [1, -1])
def test_fixes_of_one_resource_become_one_block_with_every_fix(order: int) -> None:
    """Several fixes of one resource in one download: one import and one resource block, each
    fix's changed value kept whichever comes first (two blocks importing one id is invalid)."""
    account = "123456789012"
    instance = Target(
        account,
        "eu-west-1",
        "AWS::EC2::Instance",
        f"arn:aws:ec2:eu-west-1:{account}:instance/i-1",
        configuration={"ImageId": "ami-1", "InstanceType": "t3.micro"},
    )
    trail = _HOSTILE_TRAIL["snapshot"]
    trail_target = Target(
        account, "eu-west-1", "AWS::CloudTrail::Trail", _HOSTILE_TRAIL["arn"], configuration=trail
    )
    account_target = Target(
        account,
        "global",
        "AWS::::Account",
        f"arn:aws:iam::{account}:root",
        configuration={"cloudtrail": {"trails": [{**_HOSTILE_TRAIL, "owned": True}]}},
    )
    remedies = [
        remedy_for("ec2_instance_imdsv2_required", instance),
        remedy_for("ec2_instance_uses_instance_profile", instance),
        remedy_for("cloudtrail_log_file_validation_enabled", trail_target),
        remedy_for("cloudtrail_multi_region_trail_logging", account_target),
        remedy_for("cloudtrail_s3_write_data_events_logged", account_target),
        remedy_for("cloudtrail_s3_read_data_events_logged", account_target),
    ][::order]
    text = terraform_directory(remedies)
    flat = " ".join(text.split())
    assert text.count('resource "aws_instance"') == 1
    assert flat.count("to = aws_instance.instance_i_1") == 1
    assert 'http_tokens = "required"' in flat
    assert "iam_instance_profile = var.instance_profile_name" in flat
    assert text.count('resource "aws_cloudtrail"') == 1
    assert flat.count("to = aws_cloudtrail.") == 1
    for fixed in (
        "enable_log_file_validation = true",
        "is_multi_region_trail = true",
        "enable_logging = true",
        'read_write_type = "WriteOnly" include_management_events = false',
        'read_write_type = "ReadOnly" include_management_events = false',
    ):
        assert fixed in flat, fixed
    assert "is_multi_region_trail = false" not in flat
    assert "enable_logging = false" not in flat
    # The trail's own selector is kept once.
    assert flat.count('read_write_type = "All"') == 1


@pytest.mark.parametrize("protocol", ["-1", "udp"])
def test_a_security_group_fix_cuts_the_admin_ports_out_of_udp_too(protocol: str) -> None:
    """All traffic (or UDP 0-65535) from anywhere: the fix keeps the other ports open and
    leaves neither TCP nor UDP 22/3389 reachable (CIS v3.0.0 on name UDP)."""
    from findings.remediation.builders import _permission_rules

    permission = {
        "IpProtocol": protocol,
        "FromPort": 0 if protocol == "udp" else None,
        "ToPort": 65535 if protocol == "udp" else None,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
    }
    blocks, _ssh = _permission_rules("ingress", permission, "sg-1", fix=True)
    rules = [{a.name: a.value for a in b.body if isinstance(a, hcl.Attr)} for b in blocks]
    by_protocol: dict[str, list[tuple[int, int]]] = {}
    for rule in rules:
        by_protocol.setdefault(rule["protocol"], []).append((rule["from_port"], rule["to_port"]))
    assert by_protocol["17"] == [(0, 21), (23, 3388), (3390, 65535)]
    if protocol == "-1":
        assert by_protocol["6"] == [(0, 21), (23, 3388), (3390, 65535)]
    for low, high in by_protocol.get("6", []) + by_protocol["17"]:
        assert not any(low <= port <= high for port in (22, 3389))
