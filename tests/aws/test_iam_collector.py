"""The ``iam`` collector against a moto server, then the IAM checks on what it collected.

Where moto 5.2.5 differs from AWS, the harness makes it behave like AWS or the test asserts only
what moto reports faithfully; each place says so with "moto differs from AWS":

* AWS managed policies (AWSSupportAccess, AdministratorAccess) always exist in AWS; moto loads
  them only when started with MOTO_IAM_LOAD_MANAGED_POLICIES=true, which the shared ``aws``
  server is not. These tests run their own server with it set (``iam_aws`` below).
* The credential report has no ``<root_account>`` row, and the account summary always says
  AccountMFAEnabled 0 and AccountAccessKeysPresent 0. For the seeded account (no root MFA, no
  root key: neither can be set through the API with IAM user credentials) that is what AWS
  would say, so 1.4 pass and 1.5 and 1.6 fail are asserted; 1.7 fails because the row is
  missing (AWS always writes it); the root row's part is covered by the pure tests.
* A virtual MFA device cannot be assigned to the root user through the API (on AWS neither:
  only the root user can, signed in), and moto has no hardware devices. The root MFA test
  enables the device on a stand-in IAM user and rewrites what the collector receives as AWS
  would send it: the device's User is the root user (the account ARN), and the summary's
  AccountMFAEnabled is 1 (``_root_mfa_as_aws_reports_it``).
* ListServerCertificates reports the fixed Expiration 2012-05-08T01:02:03.004Z for every
  certificate; AWS reports the certificate's own notAfter. The harness rewrites the response
  the collector receives to each uploaded certificate's notAfter (``_aws_like_expirations``).
* moto cannot backdate keys or passwords, so ages are tested by scanning "later": the collected
  data's ``collected_at`` is moved forward, as if the same account were scanned N days on.
* moto builds the credential report anew on every GetCredentialReport; AWS reuses a report for
  up to four hours. After a remediation, only checks not based on the report are re-asserted.
* For users without a password moto writes ``not_supported``/the creation date in
  password_last_used/password_last_changed where AWS writes ``N/A``; the checks read neither
  field when password_enabled is false, so nothing depends on it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from findings.aws.base import CollectContext, Collected
from findings.aws.iam import collect_iam
from findings.checks.base import GLOBAL, Result, Unit, checks_for
from simulation.account import client, reset_moto, start_moto_server

ACCOUNT = "123456789012"
UNIT = Unit(ACCOUNT, GLOBAL)
ACCOUNT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
ADMIN_DOC = {
    "Version": "2012-10-17",
    "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"},
}
S3_READ_DOC = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}
    ],
}
TRUST_ACCOUNT = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT_ARN}, "Action": "sts:AssumeRole"}
    ],
}


@pytest.fixture(scope="module")
def iam_moto() -> Iterator[str]:
    """A moto server that knows AWS managed policies, as every AWS account does.

    moto differs from AWS: without MOTO_IAM_LOAD_MANAGED_POLICIES=true it has no AWS managed
    policies at all, so AWSSupportAccess (1.17) could not be attached.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        server = start_moto_server()
    try:
        yield server.endpoint_url
    finally:
        server.stop()


@pytest.fixture
def iam_aws(iam_moto: str) -> str:
    """The endpoint of that server, reset to a fresh account before the test."""
    reset_moto(iam_moto)
    return iam_moto


# --------------------------------------------------------------------------- harness


def _certificate(name: str, not_after: dt.datetime) -> tuple[str, str]:
    """A self-signed certificate valid for a year until ``not_after``, and its key (PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name}.example.com")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - dt.timedelta(days=365))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    body = cert.public_bytes(serialization.Encoding.PEM).decode()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return body, private


def _aws_like_expirations(ctx: CollectContext, endpoint: str) -> None:
    """Make ListServerCertificates report each certificate's notAfter, as AWS does.

    moto differs from AWS: it answers Expiration 2012-05-08T01:02:03.004Z for every
    certificate. The real value is read from the stored body (GetServerCertificate, a harness
    call the collector does not make) and put in the response the collector receives.
    """
    seeding = client(endpoint, "iam")

    def rewrite(parsed: dict[str, Any], **kwargs: Any) -> None:
        for item in parsed.get("ServerCertificateMetadataList", []):
            body = seeding.get_server_certificate(
                ServerCertificateName=item["ServerCertificateName"]
            )["ServerCertificate"]["CertificateBody"]
            item["Expiration"] = x509.load_pem_x509_certificate(body.encode()).not_valid_after_utc

    ctx.client("iam").meta.events.register("after-call.iam.ListServerCertificates", rewrite)


def _root_mfa_as_aws_reports_it(ctx: CollectContext, stand_in: str) -> None:
    """Make the root user's MFA look as AWS reports it (see the module docstring).

    moto differs from AWS: the root user cannot be given a device, and AccountMFAEnabled is
    always 0. The device enabled on IAM user ``stand_in`` is reported as the root user's, and
    the summary says the root user has MFA (a hardware key, once no virtual device is left).
    """

    def devices(parsed: dict[str, Any], **kwargs: Any) -> None:
        for item in parsed.get("VirtualMFADevices", []):
            if item.get("User", {}).get("UserName") == stand_in:
                item["User"] = {"Arn": ACCOUNT_ARN, "UserId": ACCOUNT, "Path": "/"}

    def summary(parsed: dict[str, Any], **kwargs: Any) -> None:
        parsed["SummaryMap"]["AccountMFAEnabled"] = 1

    events = ctx.client("iam").meta.events
    events.register("after-call.iam.ListVirtualMFADevices", devices)
    events.register("after-call.iam.GetAccountSummary", summary)


def _one_device_a_page(ctx: CollectContext) -> None:
    """Ask for one virtual MFA device a page, so that the listing takes several pages."""

    def page_size(params: dict[str, Any], **kwargs: Any) -> None:
        params["MaxItems"] = 1

    ctx.client("iam").meta.events.register(
        "before-parameter-build.iam.ListVirtualMFADevices", page_size
    )


def collect(endpoint: str, root_mfa_on: str = "") -> tuple[Collected, CollectContext]:
    ctx = CollectContext(
        session=boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing"),
        unit=UNIT,
        regions=["us-east-1"],
        endpoint_url=endpoint,
    )
    _aws_like_expirations(ctx, endpoint)
    if root_mfa_on:
        _root_mfa_as_aws_reports_it(ctx, root_mfa_on)
        _one_device_a_page(ctx)
    return collect_iam(ctx), ctx


def evaluate(collected: Collected) -> list[Result]:
    results = [result for spec in checks_for("iam") for result in spec.run(collected.data, UNIT)]
    arns = {ref.arn for ref in collected.resources}
    stray = [result for result in results if result.resource_arn not in arns]
    assert stray == [], "every result must be about a resource the collector returned"
    json.dumps(collected.data)  # the data is JSON-serializable
    json.dumps([dict(ref.configuration) for ref in collected.resources])
    return results


def verdicts(results: list[Result]) -> dict[tuple[str, str], str]:
    """{(check id, last part of the resource ARN, "root" for the account): status}."""
    return {
        (result.check_id, re.split("[/:]", result.resource_arn)[-1]): result.status
        for result in results
    }


def later(collected: Collected, days: float) -> Collected:
    """The same account scanned ``days`` later (moto cannot backdate credentials)."""
    moved = dict(collected.data)
    moved["collected_at"] = (
        dt.datetime.fromisoformat(collected.data["collected_at"]) + dt.timedelta(days=days)
    ).isoformat()
    return Collected(resources=collected.resources, data=moved)


def user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def seed(endpoint: str) -> dict[str, str]:
    """A small account with one example of each thing section 1 looks at."""
    iam = client(endpoint, "iam")
    iam.update_account_password_policy(MinimumPasswordLength=14, PasswordReusePrevention=24)

    s3_read = iam.create_policy(PolicyName="s3-read", PolicyDocument=json.dumps(S3_READ_DOC))
    admin = iam.create_policy(PolicyName="admin-all", PolicyDocument=json.dumps(ADMIN_DOC))
    iam.create_policy(PolicyName="admin-unused", PolicyDocument=json.dumps(ADMIN_DOC))
    iam.create_group(GroupName="devs")
    iam.attach_group_policy(GroupName="devs", PolicyArn=s3_read["Policy"]["Arn"])

    # alice: console password, MFA, one key, permissions from her group only.
    iam.create_user(UserName="alice", Tags=[{"Key": "team", "Value": "web"}])
    iam.create_login_profile(UserName="alice", Password="Correct-Horse-Battery-1")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]
    iam.enable_mfa_device(
        UserName="alice",
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    iam.create_access_key(UserName="alice")
    iam.add_user_to_group(GroupName="devs", UserName="alice")

    # bob: console password without MFA, the *:* policy attached to him directly.
    iam.create_user(UserName="bob")
    iam.create_login_profile(UserName="bob", Password="Correct-Horse-Battery-2")
    iam.attach_user_policy(UserName="bob", PolicyArn=admin["Policy"]["Arn"])

    # ci: no console password, two active keys, an inline policy.
    iam.create_user(UserName="ci")
    iam.create_access_key(UserName="ci")
    iam.create_access_key(UserName="ci")
    iam.put_user_policy(UserName="ci", PolicyName="deploy", PolicyDocument=json.dumps(S3_READ_DOC))

    # old: one key, made inactive.
    iam.create_user(UserName="old")
    key = iam.create_access_key(UserName="old")["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName="old", AccessKeyId=key, Status="Inactive")

    iam.create_role(RoleName="support", AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT))
    iam.attach_role_policy(RoleName="support", PolicyArn="arn:aws:iam::aws:policy/AWSSupportAccess")
    iam.create_role(RoleName="break-glass", AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT))
    iam.attach_role_policy(
        RoleName="break-glass", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )

    now = dt.datetime.now(dt.UTC)
    for name, not_after in (
        ("legacy-web", now - dt.timedelta(days=30)),  # has since expired
        ("current-web", now + dt.timedelta(days=200)),
    ):
        body, private = _certificate(name, not_after)
        iam.upload_server_certificate(
            ServerCertificateName=name, CertificateBody=body, PrivateKey=private
        )
    return {"admin_policy_arn": admin["Policy"]["Arn"]}


# --------------------------------------------------------------------------- tests


def test_seeded_account_end_to_end(iam_aws: str) -> None:
    seed(iam_aws)
    collected, ctx = collect(iam_aws)
    results = evaluate(collected)
    got = verdicts(results)

    by_type: dict[str, set[str]] = {}
    for ref in collected.resources:
        by_type.setdefault(ref.resource_type, set()).add(ref.name)
    assert by_type == {
        "AWS::::Account": {ACCOUNT},
        "AWS::IAM::User": {"alice", "bob", "ci", "old"},
        "AWS::IAM::Policy": {
            "s3-read",
            "admin-all",
            "admin-unused",
            "AWSSupportAccess",
            "AdministratorAccess",
        },
        "AWS::IAM::ServerCertificate": {"legacy-web", "current-web"},
    }
    alice = next(ref for ref in collected.resources if ref.name == "alice")
    assert alice.tags == {"team": "web"}
    assert alice.configuration["groups"] == ["devs"]
    assert alice.configuration["credentials"]["mfa_active"] == "true"

    # Root (from the account summary; see the module docstring on moto's root row).
    assert got[("iam_root_no_access_key", "root")] == "pass"
    assert got[("iam_root_mfa_enabled", "root")] == "fail"
    assert got[("iam_root_hardware_mfa_enabled", "root")] == "fail"  # no MFA at all
    assert got[("iam_root_not_used_recently", "root")] == "fail"  # no root row in moto
    # alice's virtual device is listed, and is not the root user's.
    assert collected.data["virtual_mfa_devices"] == [
        {
            "SerialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/alice",
            "UserArn": user_arn("alice"),
            "EnableDate": collected.data["virtual_mfa_devices"][0]["EnableDate"],
        }
    ]
    # Password policy.
    assert got[("iam_password_policy_min_length_14", "root")] == "pass"
    assert got[("iam_password_policy_reuse_24", "root")] == "pass"
    # 1.10: bob has a console password without MFA; ci has keys but no console password.
    assert {
        name: got[("iam_user_console_mfa_enabled", name)] for name in ("alice", "bob", "ci", "old")
    } == {"alice": "pass", "bob": "fail", "ci": "pass", "old": "pass"}
    # 1.11: alice got a key with her console password and has never used it; bob has no key,
    # ci and old no console password.
    assert {
        name: got[("iam_user_no_access_key_at_setup", name)]
        for name in ("alice", "bob", "ci", "old")
    } == {"alice": "fail", "bob": "pass", "ci": "pass", "old": "pass"}
    # 1.12 and 1.14: everything was created just now.
    for name in ("alice", "bob", "ci", "old"):
        assert got[("iam_user_unused_credentials_45_days", name)] == "pass"
        assert got[("iam_user_access_keys_rotated_90_days", name)] == "pass"
    # 1.13: ci has two active keys; old's only key is inactive.
    assert {
        name: got[("iam_user_one_active_access_key", name)]
        for name in ("alice", "bob", "ci", "old")
    } == {"alice": "pass", "bob": "pass", "ci": "fail", "old": "pass"}
    # 1.15: bob has an attached policy, ci an inline one; alice gets hers from devs.
    assert {
        name: got[("iam_user_no_direct_policies", name)] for name in ("alice", "bob", "ci", "old")
    } == {"alice": "pass", "bob": "fail", "ci": "fail", "old": "pass"}
    # 1.16: the attached *:* policies fail, the unattached one and the narrow ones pass.
    assert got[("iam_customer_policy_no_full_admin_attached", "admin-all")] == "fail"
    assert got[("iam_customer_policy_no_full_admin_attached", "admin-unused")] == "pass"
    assert got[("iam_customer_policy_no_full_admin_attached", "s3-read")] == "pass"
    assert got[("iam_aws_policy_no_full_admin_attached", "AdministratorAccess")] == "fail"
    assert got[("iam_aws_policy_no_full_admin_attached", "AWSSupportAccess")] == "pass"
    # 1.17 and 1.19.
    assert got[("iam_support_role_exists", "root")] == "pass"
    assert got[("iam_server_certificate_not_expired", "legacy-web")] == "fail"
    assert got[("iam_server_certificate_not_expired", "current-web")] == "pass"

    admin_all = next(
        r
        for r in results
        if r.check_id == "iam_customer_policy_no_full_admin_attached"
        and "admin-all" in r.resource_arn
    )
    assert admin_all.summary == (
        'Customer managed policy admin-all allows Action "*" on Resource "*" in its default '
        "version v1 and is attached to 1 entity (user bob)."
    )
    administrator = next(
        r
        for r in results
        if r.check_id == "iam_aws_policy_no_full_admin_attached" and r.status == "fail"
    )
    assert administrator.details["attached_to"] == ["role break-glass"]

    # No per-user call: generate the report (twice: STARTED, then COMPLETE), get it, summary,
    # password policy, virtual MFA devices, authorization details, list attached AWS policies,
    # one policy version per attached AWS policy (2), server certificates, entities of
    # AWSSupportAccess.
    assert ctx.api_calls == 12

    # ----- the same account scanned later: credentials and certificates age.
    after_44 = verdicts(evaluate(later(collected, 44)))
    after_46 = verdicts(evaluate(later(collected, 46)))
    after_91 = verdicts(evaluate(later(collected, 91)))

    # Passwords never used count from when they were set; keys never used from creation.
    for name in ("alice", "bob", "ci"):
        assert after_44[("iam_user_unused_credentials_45_days", name)] == "pass"
        assert after_46[("iam_user_unused_credentials_45_days", name)] == "fail"
    # old's only key is inactive: nothing enabled to be unused.
    assert after_91[("iam_user_unused_credentials_45_days", "old")] == "pass"

    assert after_46[("iam_user_access_keys_rotated_90_days", "ci")] == "pass"
    assert {
        name: after_91[("iam_user_access_keys_rotated_90_days", name)]
        for name in ("alice", "bob", "ci", "old")
    } == {"alice": "fail", "bob": "pass", "ci": "fail", "old": "pass"}

    # The still valid certificate has expired 201 days on.
    later_certs = verdicts(evaluate(later(collected, 201)))
    assert later_certs[("iam_server_certificate_not_expired", "current-web")] == "fail"


def test_empty_account(aws: str) -> None:
    # The shared server (no AWS managed policies loaded) is enough here: nothing is attached,
    # and AWS would list no attached AWS managed policy either.
    collected, ctx = collect(aws)
    results = evaluate(collected)
    assert [ref.resource_type for ref in collected.resources] == ["AWS::::Account"]
    assert collected.data["password_policy"] is None
    assert {result.check_id: result.status for result in results} == {
        "iam_root_no_access_key": "pass",
        "iam_root_mfa_enabled": "fail",
        "iam_root_hardware_mfa_enabled": "fail",
        "iam_root_not_used_recently": "fail",
        "iam_password_policy_min_length_14": "fail",
        "iam_password_policy_reuse_24": "fail",
        "iam_support_role_exists": "fail",
    }
    # Nothing attached in the account: no get_policy_version at all.
    assert ctx.api_calls == 10


def test_remediation_is_seen_on_the_next_scan(iam_aws: str) -> None:
    seeded = seed(iam_aws)
    iam = client(iam_aws, "iam")
    iam.detach_user_policy(UserName="bob", PolicyArn=seeded["admin_policy_arn"])
    iam.add_user_to_group(GroupName="devs", UserName="bob")
    iam.delete_user_policy(UserName="ci", PolicyName="deploy")
    iam.detach_role_policy(
        RoleName="break-glass", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    iam.delete_server_certificate(ServerCertificateName="legacy-web")

    collected, _ = collect(iam_aws)
    got = verdicts(evaluate(collected))
    assert got[("iam_user_no_direct_policies", "bob")] == "pass"
    assert got[("iam_user_no_direct_policies", "ci")] == "pass"
    assert got[("iam_customer_policy_no_full_admin_attached", "admin-all")] == "pass"
    # AdministratorAccess is no longer attached anywhere, so it is no longer collected.
    assert ("iam_aws_policy_no_full_admin_attached", "AdministratorAccess") not in got
    assert ("iam_server_certificate_not_expired", "legacy-web") not in got


def test_a_virtual_root_mfa_device_is_not_hardware(aws: str) -> None:
    iam = client(aws, "iam")
    # An IAM user's device first, so that the root's is on a later page.
    iam.create_user(UserName="alice")
    for name, holder in (("alice", "alice"), ("root-account-mfa-device", "root-stand-in")):
        if holder != "alice":
            iam.create_user(UserName=holder)
        serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"][
            "SerialNumber"
        ]
        iam.enable_mfa_device(
            UserName=holder,
            SerialNumber=serial,
            AuthenticationCode1="123456",
            AuthenticationCode2="654321",
        )
    iam.create_virtual_mfa_device(VirtualMFADeviceName="spare")  # unassigned: not listed
    root_serial = f"arn:aws:iam::{ACCOUNT}:mfa/root-account-mfa-device"

    collected, ctx = collect(aws, root_mfa_on="root-stand-in")
    result = next(r for r in evaluate(collected) if r.check_id == "iam_root_hardware_mfa_enabled")
    assert (result.resource_arn, result.status) == (ACCOUNT_ARN, "fail")
    assert [d["SerialNumber"] for d in result.details["root_virtual_mfa_devices"]] == [root_serial]
    assert [d["SerialNumber"] for d in collected.data["virtual_mfa_devices"]] == [
        f"arn:aws:iam::{ACCOUNT}:mfa/alice",
        root_serial,
    ]
    account = next(ref for ref in collected.resources if ref.arn == ACCOUNT_ARN)
    assert [d["UserArn"] for d in account.configuration["root_user"]["virtual_mfa_devices"]] == [
        ACCOUNT_ARN
    ]
    # One device a page: two pages and the empty third moto answers after a full page.
    assert ctx.api_calls == 9 + 3

    # The root user moves to a security key: the virtual device is removed.
    iam.deactivate_mfa_device(UserName="root-stand-in", SerialNumber=root_serial)
    iam.delete_virtual_mfa_device(SerialNumber=root_serial)
    collected, _ = collect(aws, root_mfa_on="root-stand-in")
    assert verdicts(evaluate(collected))[("iam_root_hardware_mfa_enabled", "root")] == "pass"
