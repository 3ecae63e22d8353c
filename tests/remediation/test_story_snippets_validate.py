"""Every fix the product shows for the story's failing findings is Terraform that
``terraform validate`` accepts, with AWS ids where Terraform needs ids.

The story account is scanned (moto server over HTTP, real scan); the snippets of every automated
control failing on its resources are validated with the real terraform and aws provider. One
working directory: each snippet's blocks in a file of its own, the variables once.
"""

from __future__ import annotations

import re

import pytest

from findings.models import Finding
from findings.remediation import hcl, terraform_directory
from findings.remediation.selection import remedies_for

# Terraform's part does not depend on the database engine: run once, on PostgreSQL (bin/test's
# first pass), so the slow terraform runs are not paid twice.
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _story_remedies(story, story_account, scan_now, simulation):
    ec2 = simulation.client(story_account.endpoint_url, "ec2", story.region)
    # The vulnerable variant of a web security group: every port from the whole internet
    # (IPv4 and IPv6), so 5.2 and 5.3 fail too.
    open_group = ec2.create_security_group(
        GroupName="story-open", Description="wide open", VpcId=story.vpc_id
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=open_group,
        IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {
                "IpProtocol": "tcp",
                "FromPort": 0,
                "ToPort": 65535,
                "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
            },
        ],
    )
    scan_now(story_account)
    failing = Finding.objects.filter(
        status="fail", region__in=[story.region, "global"]
    ).select_related("resource__account", "control_check")
    return list(failing), remedies_for(failing), open_group


def test_every_story_fix_validates(story, story_account, scan_now, simulation, terraform, tf_dir):
    failing, pairs, open_group = _story_remedies(story, story_account, scan_now, simulation)
    refs_failing = {c.ref for f in failing for c in f.control_check.controls.all() if c.automated}
    refs_fixed = {remedy.control_ref for _f, remedy in pairs}
    # Every automated control failing on the story's resources has a fix.
    assert refs_failing - refs_fixed == set()
    assert {"2.1.1", "2.1.4", "5.1", "5.2", "5.3", "5.6", "1.5"} <= refs_fixed

    by_resource = {}
    for finding, remedy in pairs:
        by_resource.setdefault((remedy.control_ref, finding.resource.resource_type), remedy)
        if remedy.has_terraform:
            # Complete on its own: every variable it uses is declared in it.
            text = remedy.terraform()
            for used in set(re.findall(r"var\.([a-z_]+)", text)):
                assert f'variable "{used}"' in text, (remedy.control_ref, used)

    # Ids where Terraform needs ids; the Name tag only in comments and tags.
    nacl = next(
        r for f, r in pairs if r.control_ref == "5.1" and story.network_acl_id in r.target.arn
    )
    assert f'id = "{story.network_acl_id}"' in nacl.terraform()
    instance = next(r for f, r in pairs if r.control_ref == "5.6")
    assert f'id = "{story.instance_id}"' in instance.terraform()
    assert 'http_tokens                 = "required"' in instance.terraform()
    assert '"web-server"' not in instance.terraform().split("tags")[0]
    group = next(r for f, r in pairs if r.control_ref == "5.2" and open_group in r.target.arn)
    assert f'id = "{open_group}"' in group.terraform()
    assert f'vpc_id      = "{story.vpc_id}"' in group.terraform()
    account = next(r for f, r in pairs if r.control_ref == "2.1.4")
    assert "aws_s3_account_public_access_block" in account.terraform()
    assert "aws_s3_bucket_public_access_block" not in account.terraform()
    root = next(r for f, r in pairs if r.control_ref == "1.5")
    assert not root.has_terraform and root.manual_reason and root.console
    for _f, remedy in pairs:
        assert "{{" not in remedy.terraform() + remedy.cli_text()

    # One directory: snippets that share a resource (1.8/1.9, 5.6/1.18) go to separate files
    # only when their blocks differ; the same block twice is written once.
    written: dict[tuple[str, ...], str] = {}
    variables = {}
    for index, (_f, remedy) in enumerate(pairs):
        if not remedy.has_terraform:
            continue
        blocks = []
        for block in remedy.blocks:
            if isinstance(block, hcl.Block) and block.type in ("resource", "import"):
                key = (
                    block.type,
                    *block.labels,
                    hcl.render_block(block) if block.type == "import" else "",
                )
                text = hcl.render_block(block)
                if key in written:
                    continue
                written[key] = text
            blocks.append(block)
        (tf_dir / f"fix_{index:03d}.tf").write_text(hcl.render(blocks))
        for variable in remedy.variables:
            variables[variable.name] = variable
    (tf_dir / "variables.tf").write_text(hcl.render([v.block() for v in variables.values()]))
    terraform.validate(tf_dir)

    # And the download of them all at once: one main.tf, as is (5.6 and 1.18 on the web
    # server become one aws_instance; 1.8 and 1.9 one password policy).
    directory = terraform.workdir(tf_dir / "download")
    text = terraform_directory(remedy for _f, remedy in pairs)
    assert (
        text.count(f'resource "aws_instance" "instance_{story.instance_id.replace("-", "_")}"') == 1
    )
    assert text.count('resource "aws_iam_account_password_policy"') == 1
    (directory / "main.tf").write_text(text)
    terraform.validate(directory)
