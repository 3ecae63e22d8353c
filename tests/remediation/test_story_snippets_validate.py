"""Every fix the product shows for the story's failing findings is Terraform that
``terraform validate`` accepts, with AWS ids where Terraform needs ids.

The story account is scanned (moto server over HTTP, real scan); the snippets of every automated
control failing on its resources are validated with the real terraform and aws provider. One
working directory: each snippet's blocks in a file of its own, the variables once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess

import pytest
import time_machine

from findings.models import Control, Finding
from findings.remediation import Remedy, terraform_directory
from findings.remediation.selection import remedies_for
from tests.remediation.test_apply_story_fixes import _SERVICES, _override
from tests.remediation.tf import HostPrefixProxy

# Terraform's part does not depend on the database engine: run once, on PostgreSQL (bin/test's
# first pass), so the slow terraform runs are not paid twice.
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _self_signed_certificate(days: int) -> tuple[str, str]:
    """A PEM certificate valid from yesterday for ``days`` days, and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old.example.com")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return pem, key_pem


def _seed_the_rest_of_the_account(story, endpoint: str, simulation) -> dict[str, str]:
    """The vulnerable variant of what else an account of the story's size holds, so that every
    automated control fails somewhere: an IAM user with a console password, no MFA, two access
    keys and a full-admin policy of its own; a certificate about to expire; a public,
    unencrypted database; an unencrypted file system; a key without rotation; and a
    single-region trail without validation, encryption or CloudWatch Logs, writing to a public
    bucket without access logging."""
    iam = simulation.client(endpoint, "iam", story.region)
    iam.create_user(UserName="deploy")
    iam.create_login_profile(UserName="deploy", Password="Correct-Horse-Battery-1")
    iam.create_access_key(UserName="deploy")
    iam.create_access_key(UserName="deploy")
    admin = iam.create_policy(
        PolicyName="everything",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName="deploy", PolicyArn=admin)
    certificate, key = _self_signed_certificate(days=30)
    iam.upload_server_certificate(
        ServerCertificateName="old-site", CertificateBody=certificate, PrivateKey=key
    )
    rds = simulation.client(endpoint, "rds", story.region)
    rds.create_db_instance(
        DBInstanceIdentifier="story-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="app",
        MasterUserPassword="Correct-Horse-Battery-1",
        AllocatedStorage=20,
        StorageEncrypted=False,
        PubliclyAccessible=True,
        AutoMinorVersionUpgrade=False,
    )
    simulation.client(endpoint, "efs", story.region).create_file_system(
        CreationToken="story-files", Encrypted=False
    )
    simulation.client(endpoint, "kms", story.region).create_key(Description="story data")
    s3 = simulation.client(endpoint, "s3", story.region)
    s3.create_bucket(Bucket="story-trail-logs")
    s3.put_bucket_policy(
        Bucket="story-trail-logs",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "PublicRead",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::story-trail-logs/*",
                    }
                ],
            }
        ),
    )
    trail = simulation.client(endpoint, "cloudtrail", story.region)
    trail.create_trail(Name="story-trail", S3BucketName="story-trail-logs")
    trail.start_logging(Name="story-trail")
    return {"policy": admin}


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
    _seed_the_rest_of_the_account(story, story_account.endpoint_url, simulation)
    # Scanned 100 days on: the user's password and keys have gone unused for 45 days, the keys
    # are older than 90, the certificate has expired.
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=100)):
        scan_now(story_account)
    failing = Finding.objects.filter(
        status="fail", region__in=[story.region, "global"]
    ).select_related("resource__account", "control_check")
    return list(failing), remedies_for(failing), open_group


def test_every_story_fix_validates(story, story_account, scan_now, simulation, terraform, tf_dir):
    failing, pairs, open_group = _story_remedies(story, story_account, scan_now, simulation)
    # The fixes are numbered by v2.0.0; the other loaded CIS versions reuse some refs.
    v2 = {"benchmark__slug": "cis-aws-foundations", "benchmark__version": "2.0.0"}
    refs_failing = {
        c.ref for f in failing for c in f.control_check.controls.filter(automated=True, **v2)
    }
    refs_fixed = {remedy.control_ref for _f, remedy in pairs}
    # The vulnerable variant fails every automated control but 1.4 (the simulated root user
    # has no access key), and each of them has a fix.
    automated = set(Control.objects.filter(automated=True, **v2).values_list("ref", flat=True))
    assert automated - refs_failing == {"1.4"}
    assert refs_failing - refs_fixed == set()

    for _f, remedy in pairs:
        assert "{{" not in remedy.terraform() + remedy.cli_text()
        # Each fix is Terraform, or says why not and gives the steps.
        assert remedy.has_terraform or (remedy.manual_reason and (remedy.cli or remedy.console))
        if remedy.has_terraform:
            # Complete on its own: every variable it uses is declared in it.
            text = remedy.terraform()
            for used in set(re.findall(r"var\.([a-z0-9_]+)", text)):
                assert f'variable "{used}"' in text, (remedy.control_ref, used)

    def fix(ref: str, arn_end: str = "") -> Remedy:
        return next(r for _f, r in pairs if r.control_ref == ref and r.target.arn.endswith(arn_end))

    # Ids where Terraform needs ids; the Name tag only in comments and tags.
    assert f'id = "{story.network_acl_id}"' in fix("5.1", story.network_acl_id).terraform()
    instance = fix("5.6").terraform()
    assert f'id = "{story.instance_id}"' in instance
    assert 'http_tokens                 = "required"' in instance
    assert '"web-server"' not in instance.split("tags")[0]
    group = fix("5.2", open_group).terraform()
    assert f'id = "{open_group}"' in group
    assert f'vpc_id      = "{story.vpc_id}"' in group
    account = fix("2.1.4", f":{story.account_id}:root").terraform()
    assert "aws_s3_account_public_access_block" in account
    assert "aws_s3_bucket_public_access_block" not in account
    root = fix("1.5")
    assert not root.has_terraform and root.manual_reason and root.console

    # The account-level trail controls update the trail the account has, in its region.
    trail_arn = f"arn:aws:cloudtrail:{story.region}:{story.account_id}:trail/story-trail"
    for ref in ("3.1", "3.10", "3.11", "3.2", "3.4", "3.7"):
        text = fix(ref).terraform()
        assert f'id = "{trail_arn}"' in text, ref
        assert 's3_bucket_name                = "story-trail-logs"' in text, ref
        assert "account-trail" not in text, ref
    assert "is_multi_region_trail         = true" in fix("3.1").terraform()
    assert "enable_log_file_validation    = true" in fix("3.2").terraform()
    # Fixes out of Terraform are filled in: the user, the database, the certificate.
    for ref, value in (
        ("1.10", "--user-name deploy"),
        ("1.12", "delete-login-profile --user-name deploy"),
        ("1.13", "update-access-key --user-name deploy --status Inactive"),
        ("1.14", "create-access-key --user-name deploy"),
        ("1.19", "delete-server-certificate --server-certificate-name old-site"),
        ("2.3.1", "--db-instance-identifier story-db"),
    ):
        assert value in fix(ref).cli_text(), ref
    assert 'id = "story-db"' in fix("2.3.3").terraform()
    assert "publicly_accessible        = false" in fix("2.3.3").terraform()
    # Every CLI step is valid shell.
    script = "\n".join(remedy.cli_text() for _f, remedy in pairs)
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)

    # One download of them all, validated as is: each resource once, the fixes of one resource
    # merged into its block (the trail's six, 5.6 and 1.18 on the web server, 1.8 and 1.9 on
    # the password policy, 2.3.2 and 2.3.3 on the database).
    text = terraform_directory(remedy for _f, remedy in pairs)
    label = story.instance_id.replace("-", "_")
    assert text.count(f'resource "aws_instance" "instance_{label}"') == 1
    assert text.count('resource "aws_iam_account_password_policy"') == 1
    assert text.count('resource "aws_db_instance"') == 1
    assert text.count('resource "aws_cloudtrail"') == 1
    assert text.count(f'id       = "{trail_arn}"') == 1
    trail_label = f"trail_{story.region.replace('-', '_')}_story_trail"
    trail = text[text.index('resource "aws_cloudtrail"') :].split("\n}\n")[0]
    for setting in (
        "is_multi_region_trail = true",
        "enable_log_file_validation = true",
        "kms_key_id = aws_kms_key.",
        "cloud_watch_logs_role_arn = var.cloudtrail_cloudwatch_role_arn",
        'read_write_type = "WriteOnly"',
        'read_write_type = "ReadOnly"',
    ):
        assert setting in re.sub(" +", " ", trail), trail
    (tf_dir / "main.tf").write_text(text)
    terraform.validate(tf_dir)

    # And planned against the simulated account as it is: every imported resource is found by
    # its id and changed in place; nothing is destroyed or replaced.
    services = (*_SERVICES, "cloudtrail", "kms", "rds", "efs", "logs", "cloudwatch")
    override = _override(story_account.endpoint_url, ["us_east_1"], services)
    (tf_dir / "moto_override.tf").write_text(override)
    (tf_dir / "terraform.tfvars.json").write_text(json.dumps(_variable_values(text)))
    with HostPrefixProxy(story_account.endpoint_url) as proxy:
        env = {"HTTP_PROXY": proxy.url, "http_proxy": proxy.url}
        terraform.run(tf_dir, "plan", "-input=false", "-no-color", "-out=fix.plan", env=env)
        plan = json.loads(terraform.run(tf_dir, "show", "-json", "fix.plan"))
    actions = {c["address"]: c["change"]["actions"] for c in plan["resource_changes"]}
    assert all("delete" not in a for a in actions.values()), actions
    imported = {c["address"] for c in plan["resource_changes"] if c["change"].get("importing")}
    assert f"aws_cloudtrail.{trail_label}" in imported
    assert "aws_db_instance.db_us_east_1_story_db" in imported


def _variable_values(text: str) -> dict[str, str]:
    """A value for each variable of a download, as a user would give (valid for its checks)."""
    values = {}
    for name in re.findall(r'^variable "([a-z0-9_]+)"', text, re.MULTILINE):
        if name.endswith("_document"):
            values[name] = json.dumps({"Version": "2012-10-17", "Statement": []})
        elif name == "admin_cidr":
            values[name] = "203.0.113.10/32"
        elif name.endswith("_arn"):
            values[name] = "arn:aws:iam::123456789012:role/example"
        elif name == "root_mfa":
            values[name] = "arn:aws:iam::123456789012:mfa/root-account-mfa-device 123456"
        else:
            values[name] = "example-logs"
    return values
