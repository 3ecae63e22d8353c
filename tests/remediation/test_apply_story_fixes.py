"""The downloaded Terraform fixes the story for real: ``terraform apply`` against the simulated
account (moto server over HTTP, provider endpoints pointed at it through an override file, as
one points Terraform at any emulator), then a re-scan shows 2.1.1, 2.1.4, 5.1 and 5.6 fixed,
and the bucket still lets CloudFront read its images."""

from __future__ import annotations

import json

import pytest

from findings.models import Finding
from tests.remediation.tf import HostPrefixProxy

# Terraform's part does not depend on the database engine: run once, on PostgreSQL (bin/test's
# first pass), so the slow terraform runs are not paid twice.
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

_SERVICES = ("ec2", "s3", "s3control", "sts", "iam")


def _override(endpoint: str, aliases: list[str], services: tuple[str, ...] = _SERVICES) -> str:
    endpoints = "\n".join(f'    {name} = "{endpoint}"' for name in services)
    settings = f"""  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  endpoints {{
{endpoints}
  }}
"""
    blocks = [f'provider "aws" {{\n{settings}}}\n']
    blocks += [f'provider "aws" {{\n  alias = "{alias}"\n{settings}}}\n' for alias in aliases]
    return "\n".join(blocks)


def _open(ref: str, **resource) -> Finding:
    return Finding.objects.get(
        control_check__controls__benchmark__version="2.0.0",
        control_check__controls__ref=ref,
        status="fail",
        resolved_at__isnull=True,
        **resource,
    )


def test_applying_the_download_fixes_the_story(
    story, story_account, scan_now, simulation, terraform, tf_dir, client, admin_user
):
    scan_now(story_account)
    chosen = [
        _open("2.1.1", resource__name=story.bucket_name),
        _open("2.1.4", resource__resource_type="AWS::::Account"),
        _open("5.1", resource__arn__endswith=story.network_acl_id),
        _open("5.6", resource__arn__endswith=story.instance_id),
    ]
    client.force_login(admin_user)
    response = client.get("/api/v1/findings/terraform/", {"id": [f.pk for f in chosen]})
    assert response.status_code == 200, response.content
    assert response["Content-Disposition"] == 'attachment; filename="main.tf"'
    (tf_dir / "main.tf").write_bytes(response.content)
    (tf_dir / "moto_override.tf").write_text(_override(story_account.endpoint_url, ["us_east_1"]))
    (tf_dir / "terraform.tfvars").write_text(f'admin_cidr = "{story.admin_cidr}"\n')

    with HostPrefixProxy(story_account.endpoint_url) as proxy:
        env = {"HTTP_PROXY": proxy.url, "http_proxy": proxy.url}
        terraform.run(tf_dir, "plan", "-input=false", "-no-color", "-out=fix.plan", env=env)
        plan = json.loads(terraform.run(tf_dir, "show", "-json", "fix.plan"))
        actions = {c["address"]: c["change"]["actions"] for c in plan["resource_changes"]}
        # Nothing is destroyed or replaced: the fix changes the resources in place.
        assert all("delete" not in a for a in actions.values()), actions
        terraform.run(tf_dir, "apply", "-input=false", "-no-color", "fix.plan", env=env)

    scan_now(story_account)
    for finding in chosen:
        finding.refresh_from_db()
        assert finding.status == "pass", (finding.control_check.check_id, finding.evidence)
    # The ACL's fix closes UDP 22/3389 too (CIS v3.0.0 on): its UDP check passes after it.
    udp = Finding.objects.get(
        control_check__check_id="ec2_network_acl_admin_ports_udp_restricted",
        resource__arn__endswith=story.network_acl_id,
    )
    assert udp.status == "pass", udp.evidence
    s3 = simulation.client(story_account.endpoint_url, "s3", story.region)
    statements = json.loads(s3.get_bucket_policy(Bucket=story.bucket_name)["Policy"])["Statement"]
    assert [s.get("Sid") for s in statements] == [
        "AllowCloudFrontServicePrincipalReadOnly",
        "DenyInsecureTransport",
    ]
    assert statements[0]["Condition"]["StringEquals"]["AWS:SourceArn"] == story.distribution_arn
    ec2 = simulation.client(story_account.endpoint_url, "ec2", story.region)
    entries = ec2.describe_network_acls(NetworkAclIds=[story.network_acl_id])["NetworkAcls"][0][
        "Entries"
    ]
    assert any(
        e.get("CidrBlock") == story.admin_cidr and e["RuleAction"] == "allow" for e in entries
    )
