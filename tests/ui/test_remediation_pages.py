"""Fixes on the pages: per failing finding on a resource page, the VPC of each network ACL on a
control page, and the main.tf download of a selection (with its refusals)."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse
from django.utils import timezone

from findings.models import Resource

pytestmark = pytest.mark.django_db

HOSTILE = 'web"\n}\ndata "external" "x" { program = ["id"] }\n${file("/etc/passwd")}'


def _acl(account, acl_id: str, vpc_id: str, is_default: bool, name: str = "") -> Resource:
    return Resource.objects.create(
        account=account,
        region="us-east-1",
        scan_unit="us-east-1",
        resource_type="AWS::EC2::NetworkAcl",
        arn=f"arn:aws:ec2:us-east-1:{account.account_id}:network-acl/{acl_id}",
        name=name or acl_id,
        tags={"Name": name} if name else {},
        configuration={
            "NetworkAclId": acl_id,
            "VpcId": vpc_id,
            "VpcIsDefault": is_default,
            "IsDefault": True,
            "Entries": [
                {
                    "RuleNumber": 100,
                    "Protocol": "-1",
                    "RuleAction": "allow",
                    "Egress": False,
                    "CidrBlock": "0.0.0.0/0",
                },
            ],
            "Associations": [{"SubnetId": "subnet-1"}],
        },
        first_seen=timezone.now(),
    )


@pytest.fixture
def nacls(make_account, make_finding):
    account = make_account(account_id="123456789012")
    web = _acl(account, "acl-0web", "vpc-0web", False, name=HOSTILE)
    default = _acl(account, "acl-0def", "vpc-0def", True)
    Resource.objects.create(
        account=account,
        region="us-east-1",
        scan_unit="us-east-1",
        resource_type="AWS::EC2::VPC",
        arn="arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0web",
        name="story-web-vpc",
        configuration={"VpcId": "vpc-0web", "IsDefault": False},
        first_seen=timezone.now(),
    )
    findings = {
        "web": make_finding(
            account=account,
            control_ref="5.1",
            resource=web,
            check_id="ec2_network_acl_admin_ports_restricted",
        ),
        "default": make_finding(
            account=account,
            control_ref="5.1",
            resource=default,
            check_id="ec2_network_acl_admin_ports_restricted",
        ),
    }
    return findings


def test_the_control_page_tells_the_web_vpc_from_default_ones(login, viewer, nacls, catalog):
    control = catalog.controls.get(ref="5.1")
    response = login(viewer).get(reverse("control-detail", args=[control.pk]))
    rows = {row["finding"].resource.arn.rsplit("/", 1)[-1]: row for row in response.context["rows"]}
    assert rows["acl-0web"]["vpc"]["id"] == "vpc-0web"
    assert rows["acl-0web"]["vpc"]["name"] == "story-web-vpc"
    assert rows["acl-0web"]["vpc"]["is_default"] is False
    assert rows["acl-0def"]["vpc"]["is_default"] is True
    body = response.content.decode()
    assert body.count('data-testid="default-vpc"') == 1
    # The default VPC's ACL comes with the steps to delete that VPC, filled in.
    fix = rows["acl-0def"]["fixes"][0]
    assert "aws ec2 delete-vpc --region us-east-1 --vpc-id vpc-0def" in fix["cli"]
    assert fix["not_in_terraform"]


def test_the_resource_page_shows_the_fix_of_each_failing_finding(login, viewer, nacls):
    resource = nacls["web"].resource
    response = login(viewer).get(reverse("resource-detail", args=[resource.pk]))
    body = html.unescape(response.content.decode())
    fix = response.context["fixes"][nacls["web"].pk][0]
    assert 'id = "acl-0web"' in fix["terraform"]
    assert fix["terraform"] in body
    # The hostile name only ever appears escaped inside a string or in a one-line comment.
    assert 'data "external"' not in fix["terraform"].replace('\\"', "").split("tags")[1]
    assert "$${file(" in fix["terraform"]


def test_the_download_holds_the_selection(login, viewer, nacls, catalog):
    control = catalog.controls.get(ref="5.1")
    selected = [nacls["web"].resource_id, nacls["default"].resource_id]
    response = login(viewer).get(
        reverse("remediation-terraform"), {"control": control.pk, "resource": selected}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="main.tf"'
    text = response.content.decode()
    assert text.count('resource "aws_default_network_acl"') == 2
    assert text.count('variable "admin_cidr"') == 1


def test_the_download_refuses_nothing_bad_ids_and_outsiders(login, viewer, outsider, nacls):
    url = reverse("remediation-terraform")
    assert login(viewer).get(url).status_code == 400
    assert login(viewer).get(url, {"finding": "x"}).status_code == 400
    assert login(outsider).get(url, {"finding": nacls["web"].pk}).status_code == 403


def test_the_api_gives_each_finding_its_fix_and_refuses_outsiders(client, viewer, outsider, nacls):
    client.force_login(viewer)
    finding = nacls["default"]
    data = client.get(f"/api/v1/findings/{finding.pk}/remediation/").json()
    assert data["fixes"][0]["control"] == "5.1"
    assert 'default_network_acl_id = "acl-0def"' in data["fixes"][0]["terraform"]
    response = client.get("/api/v1/findings/terraform/", {"id": "nope"})
    assert response.status_code == 400 and "id" in response.json()
    client.force_login(outsider)
    # As for every single object: an outsider does not learn it exists.
    assert client.get(f"/api/v1/findings/{finding.pk}/remediation/").status_code == 404
    assert client.get("/api/v1/findings/terraform/", {"id": finding.pk}).status_code == 403


def test_the_download_refuses_more_ids_than_the_limit(client, login, viewer, nacls, settings):
    settings.CSPM_TERRAFORM_MAX_IDS = 2
    ids = [nacls["web"].pk, nacls["default"].pk, nacls["web"].pk + 1000]
    page = login(viewer).get(reverse("remediation-terraform"), {"finding": ids})
    assert page.status_code == 400
    assert page.content.decode().startswith("finding: at most 2 ids")
    resources = [nacls["web"].resource_id] * 3
    page = login(viewer).get(reverse("remediation-terraform"), {"resource": resources})
    assert page.status_code == 400 and "resource: at most 2 ids" in page.content.decode()
    client.force_login(viewer)
    api = client.get("/api/v1/findings/terraform/", {"id": ids})
    assert api.status_code == 400
    assert "at most 2 ids" in str(api.json()["id"])
    # At the limit, the download is served.
    assert client.get("/api/v1/findings/terraform/", {"id": ids[:2]}).status_code == 200
