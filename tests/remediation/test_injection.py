"""A resource's name cannot add code to its fix: hostile Name tags and descriptions (quotes,
newlines, ``${...}``, ``%{...}``, ``*/``, a whole ``data "external"`` block) come out of
Terraform's own parser as the very same string values, and the parsed configuration holds no
block or interpolation the product did not write.

Real parts: the resources are created in the simulated account (moto server over HTTP) and
scanned; the downloaded directory is planned by the real terraform against them, and the
plan's configuration read back with ``terraform show -json``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from findings.models import Finding
from tests.remediation.test_apply_story_fixes import _override
from tests.remediation.tf import HostPrefixProxy

# Terraform's part does not depend on the database engine: run once, on PostgreSQL (bin/test's
# first pass), so the slow terraform runs are not paid twice.
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

HOSTILE_NAME = (
    'web"\n}\n\ndata "external" "pwn" {\n  program = ["sh", "-c", "id > /tmp/pwned"]\n}\n'
    '# ${file("/etc/passwd")} %{ for x in [1] }${x}%{ endfor } */ /* \\" \\'
)
HOSTILE_DESCRIPTION = 'SSH "${path.module}" %{ if true }open%{ endif } */ \\ end'


def _references(node: Any) -> set[str]:
    """Every reference an expression of the parsed configuration makes."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "references":
                found.update(value)
            else:
                found |= _references(value)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item)
    return found


def test_hostile_names_stay_strings(
    story, story_account, scan_now, simulation, terraform, tf_dir, client, admin_user
):
    ec2 = simulation.client(story_account.endpoint_url, "ec2", story.region)
    tags = [{"Key": "Name", "Value": HOSTILE_NAME}, {"Key": "Owner", "Value": "${var.x}"}]
    acl_id = ec2.create_network_acl(
        VpcId=story.vpc_id, TagSpecifications=[{"ResourceType": "network-acl", "Tags": tags}]
    )["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(
        NetworkAclId=acl_id,
        RuleNumber=100,
        Protocol="-1",
        RuleAction="allow",
        Egress=False,
        CidrBlock="0.0.0.0/0",
    )
    group_id = ec2.create_security_group(
        GroupName="hostile",
        Description=HOSTILE_DESCRIPTION,
        VpcId=story.vpc_id,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": tags}],
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": HOSTILE_NAME}],
            }
        ],
    )
    ec2.create_tags(Resources=[story.instance_id], Tags=tags)
    scan_now(story_account)

    chosen = [
        Finding.objects.get(
            control_check__controls__benchmark__version="2.0.0",
            control_check__controls__ref=ref,
            status="fail",
            resource__arn__endswith=rid,
        )
        for ref, rid in (("5.1", acl_id), ("5.2", group_id), ("5.6", story.instance_id))
    ]
    client.force_login(admin_user)
    response = client.get("/api/v1/findings/terraform/", {"id": [f.pk for f in chosen]})
    assert response.status_code == 200, response.content
    (tf_dir / "main.tf").write_bytes(response.content)
    (tf_dir / "moto_override.tf").write_text(_override(story_account.endpoint_url, ["us_east_1"]))
    (tf_dir / "terraform.tfvars").write_text('admin_cidr = "203.0.113.10/32"\n')
    with HostPrefixProxy(story_account.endpoint_url) as proxy:
        env = {"HTTP_PROXY": proxy.url}
        terraform.run(tf_dir, "plan", "-input=false", "-no-color", "-out=p.plan", env=env)
        plan = json.loads(terraform.run(tf_dir, "show", "-json", "p.plan"))

    config = plan["configuration"]["root_module"]
    resources = {r["address"]: r for r in config["resources"]}
    # Only the managed resources the product wrote; no data source, no module, no output.
    assert {r["mode"] for r in resources.values()} == {"managed"}
    assert sorted(r["type"] for r in resources.values()) == [
        "aws_instance",
        "aws_network_acl",
        "aws_security_group",
    ]
    assert not config.get("module_calls") and not config.get("outputs")
    assert set(config["variables"]) == {"admin_cidr"}
    # The only interpolation is the one the product wrote: SSH from var.admin_cidr.
    assert _references(config) == {"var.admin_cidr"}
    # Hostile values come back from the parser as exactly the strings AWS holds.
    expected_tags = {"Name": HOSTILE_NAME, "Owner": "${var.x}"}
    for resource in resources.values():
        tags_read = resource["expressions"]["tags"]["constant_value"]
        assert {key: tags_read[key] for key in expected_tags} == expected_tags
    group = next(r for r in resources.values() if r["type"] == "aws_security_group")
    assert group["expressions"]["description"]["constant_value"] == HOSTILE_DESCRIPTION
    # Tags and description are kept as they are: the plan changes neither.
    for change in plan["resource_changes"]:
        assert change["change"]["after"]["tags"] == change["change"]["before"]["tags"]
        assert change["change"]["after"]["tags"]["Name"] == HOSTILE_NAME
        assert "delete" not in change["change"]["actions"]
