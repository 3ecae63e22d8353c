"""A fix belongs to the check whose finding it fixes, not to one benchmark's numbering: a control
of any loaded version shows the fixes of the checks that decide it (v4.0.1 renumbered IMDSv2
from 5.6 to 5.7; 2.1.4 is decided by a bucket check and an account check), under its own number,
and its page's download holds them."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse
from django.utils import timezone

from findings import services
from findings.checks import REGISTRY
from findings.models import Benchmark, Resource
from findings.remediation import BUILDERS

pytestmark = pytest.mark.django_db

ACCOUNT = "123456789012"


@pytest.fixture
def failing(catalog, make_account, make_finding):
    """IMDSv1 allowed on an instance, Block Public Access off on a bucket and on the account;
    the checks mapped to every loaded version's controls."""
    services.sync_checks()
    account = make_account(account_id=ACCOUNT)
    now = timezone.now()

    def resource(resource_type: str, arn: str, region: str, **configuration) -> Resource:
        return Resource.objects.create(
            account=account,
            region=region,
            scan_unit="global" if region == "global" else region,
            resource_type=resource_type,
            arn=arn,
            name=arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1],
            configuration=configuration,
            first_seen=now,
        )

    instance = resource(
        "AWS::EC2::Instance",
        f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0abc",
        "eu-west-1",
        InstanceId="i-0abc",
        ImageId="ami-1",
        InstanceType="t3.micro",
        MetadataOptions={"HttpTokens": "optional", "HttpEndpoint": "enabled"},
    )
    bucket = resource("AWS::S3::Bucket", "arn:aws:s3:::story-images", "us-east-1")
    root = resource("AWS::::Account", f"arn:aws:iam::{ACCOUNT}:root", "global")
    return {
        "imds": make_finding(
            account=account, resource=instance, check_id="ec2_instance_imdsv2_required"
        ),
        "bucket": make_finding(
            account=account, resource=bucket, check_id="s3_bucket_public_access_blocked"
        ),
        "account": make_finding(
            account=account, resource=root, check_id="s3_account_public_access_blocked"
        ),
    }


def _fixes(client, control) -> dict[str, dict]:
    """The fixes a control page shows, by the resource they are for."""
    response = client.get(reverse("control-detail", args=[control.pk]))
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    out = {}
    for row in response.context["rows"]:
        for fix in row["fixes"]:
            assert fix["terraform"] in body
            out[row["finding"].resource.arn] = fix
    return out


def _blocks(terraform: str) -> str:
    """The snippet without its first line (the comment naming the control)."""
    return terraform.split("\n", 1)[1]


def test_a_v4_control_shows_the_same_fixes_as_v2_under_its_own_number(
    login, viewer, catalog, failing
):
    v4 = Benchmark.objects.get(slug="cis-aws-foundations", version="4.0.1")
    client = login(viewer)
    instance = failing["imds"].resource.arn

    old = _fixes(client, catalog.controls.get(ref="5.6"))
    new = _fixes(client, v4.controls.get(ref="5.7"))
    assert set(new) == {instance}
    assert new[instance]["check"] == "ec2_instance_imdsv2_required"
    assert new[instance]["control"] == "5.7" and old[instance]["control"] == "5.6"
    assert new[instance]["terraform"].startswith("# CIS 5.7: require IMDSv2 on instance i-0abc")
    assert 'http_tokens                 = "required"' in new[instance]["terraform"]
    assert _blocks(new[instance]["terraform"]) == _blocks(old[instance]["terraform"])
    for key in ("cli", "console", "not_in_terraform", "variables"):
        assert new[instance][key] == old[instance][key]
    # v4.0.1's 5.6 is another recommendation (VPC peering routes): no IMDSv2 fix there.
    assert _fixes(client, v4.controls.get(ref="5.6")) == {}

    # Decided by two checks: the page shows each check's fix, on its own resource.
    old = _fixes(client, catalog.controls.get(ref="2.1.4"))
    new = _fixes(client, v4.controls.get(ref="2.1.4"))
    bucket, account = failing["bucket"].resource.arn, failing["account"].resource.arn
    assert set(new) == {bucket, account}
    assert new[bucket]["check"] == "s3_bucket_public_access_blocked"
    assert new[account]["check"] == "s3_account_public_access_blocked"
    assert "aws_s3_bucket_public_access_block" in new[bucket]["terraform"]
    assert "aws_s3_account_public_access_block" in new[account]["terraform"]
    for arn in (bucket, account):
        assert new[arn]["terraform"] == old[arn]["terraform"]  # both number it 2.1.4


def test_the_download_works_from_a_v4_control_and_names_its_numbers(
    login, viewer, client, catalog, failing
):
    v4 = Benchmark.objects.get(slug="cis-aws-foundations", version="4.0.1")
    control = v4.controls.get(ref="5.7")
    response = login(viewer).get(
        reverse("remediation-terraform"),
        {"control": control.pk, "resource": [failing["imds"].resource_id]},
    )
    assert response.status_code == 200, response.content
    assert response["Content-Disposition"] == 'attachment; filename="main.tf"'
    text = response.content.decode()
    assert "# CIS 5.7: require IMDSv2 on instance i-0abc" in text
    assert "CIS 5.6" not in text
    assert text.count('resource "aws_instance"') == 1
    assert 'http_tokens = "required"' in " ".join(text.split())

    # The same from the v4 2.1.4 page: both checks' fixes, in one file.
    control = v4.controls.get(ref="2.1.4")
    chosen = [failing["bucket"].resource_id, failing["account"].resource_id]
    text = (
        client.get(reverse("remediation-terraform"), {"control": control.pk, "resource": chosen})
        .content.decode()
        .replace("\n", " ")
    )
    assert 'resource "aws_s3_bucket_public_access_block"' in text
    assert 'resource "aws_s3_account_public_access_block"' in text

    # The API names the fixes as the benchmark asked for does (the default one otherwise).
    imds = failing["imds"].pk
    fix = client.get(f"/api/v1/findings/{imds}/remediation/", {"benchmark": v4.pk}).json()["fixes"][
        0
    ]
    assert (fix["check"], fix["control"], fix["label"]) == (
        "ec2_instance_imdsv2_required",
        "5.7",
        "CIS 5.7",
    )
    assert client.get(f"/api/v1/findings/{imds}/remediation/").json()["fixes"][0]["control"] == (
        "5.6"  # the tests' default benchmark is v2.0.0
    )
    text = client.get("/api/v1/findings/terraform/", {"id": imds, "benchmark": v4.pk})
    assert text.status_code == 200 and b"# CIS 5.7: require IMDSv2" in text.content


def test_every_fix_belongs_to_a_registered_check():
    assert set(BUILDERS) <= set(REGISTRY)
    # Every check that decides a control of the story's version has its fix.
    decided = {spec.check_id for spec in REGISTRY.values() if spec.controls}
    assert decided <= set(BUILDERS)
