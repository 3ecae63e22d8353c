"""Pure tests of the S3 checks (CIS 2.1.1, 2.1.2, 2.1.4): plain data in, verdicts out."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from findings.checks import REGISTRY
from findings.checks.base import GLOBAL, Result, Unit
from findings.checks.s3 import _glob
from tests.checks.evidence import checked

UNIT = Unit("123456789012", GLOBAL)
BUCKET = "images"
ARN = f"arn:aws:s3:::{BUCKET}"
ALL_ON = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
CLOUDFRONT_READ = {
    "Sid": "AllowCloudFront",
    "Effect": "Allow",
    "Principal": {"Service": "cloudfront.amazonaws.com"},
    "Action": "s3:GetObject",
    "Resource": f"{ARN}/*",
}


def bucket(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": BUCKET,
        "region": "us-east-1",
        "policy": None,
        "versioning": {},
        "public_access_block": None,
        "logging": None,
        "encryption": None,
        "tags": {},
    }
    return {**base, **overrides}


def deny_http(**overrides: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [ARN, f"{ARN}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    statement.update(overrides)
    return {key: value for key, value in statement.items() if value is not None}


def run(check_id: str, data: dict[str, Any], unit: Unit = UNIT) -> list[Result]:
    return checked(REGISTRY[check_id].run(data, unit))


def one(check_id: str, data: dict[str, Any], unit: Unit = UNIT) -> Result:
    results = run(check_id, data, unit)
    assert len(results) == 1
    return results[0]


def transport(*statements: dict[str, Any]) -> Result:
    policy = {"Version": "2012-10-17", "Statement": list(statements)}
    return one("s3_bucket_secure_transport", {"buckets": [bucket(policy=policy)]})


def test_registered_with_their_controls() -> None:
    expected = {
        "s3_bucket_secure_transport": (("2.1.1",), "AWS::S3::Bucket"),
        "s3_bucket_mfa_delete_enabled": (("2.1.2",), "AWS::S3::Bucket"),
        "s3_bucket_public_access_blocked": (("2.1.4",), "AWS::S3::Bucket"),
        "s3_account_public_access_blocked": (("2.1.4",), "AWS::::Account"),
    }
    for check_id, (controls, resource_type) in expected.items():
        spec = REGISTRY[check_id]
        assert (spec.controls, spec.resource_type, spec.service) == (controls, resource_type, "s3")


# --------------------------------------------------------------------------- 2.1.1


def test_no_policy_fails() -> None:
    result = one("s3_bucket_secure_transport", {"buckets": [bucket()]})
    assert (result.resource_arn, result.status) == (ARN, "fail")
    assert "no bucket policy" in result.summary


def test_policy_without_deny_fails_naming_its_statements() -> None:
    result = transport(CLOUDFRONT_READ)
    assert result.status == "fail"
    assert "Statement 'AllowCloudFront' (Allow)" in result.summary
    assert result.details["policy"]["Statement"] == [CLOUDFRONT_READ]


def test_standard_deny_passes_on_bucket_and_objects() -> None:
    result = transport(CLOUDFRONT_READ, deny_http())
    assert result.status == "pass"
    assert "Statement 'DenyInsecureTransport'" in result.summary
    assert "the bucket and its objects" in result.summary
    assert result.details["covers"] == [ARN, f"{ARN}/*"]


@pytest.mark.parametrize("value", ["false", False, ["false"], [False]])
def test_false_as_string_boolean_or_list_passes(value: Any) -> None:
    condition = {"Bool": {"aws:SecureTransport": value}}
    assert transport(deny_http(Condition=condition)).status == "pass"


@pytest.mark.parametrize("value", ["true", True, "False", "no"])
def test_other_values_fail(value: Any) -> None:
    result = transport(deny_http(Condition={"Bool": {"aws:SecureTransport": value}}))
    assert result.status == "fail"
    assert "not false" in result.summary


def test_bool_if_exists_counts_like_bool() -> None:
    # aws:SecureTransport is always in the request context, so BoolIfExists denies the same.
    condition = {"BoolIfExists": {"aws:SecureTransport": "false"}}
    assert transport(deny_http(Condition=condition)).status == "pass"


def test_condition_key_is_case_insensitive() -> None:
    condition = {"Bool": {"AWS:SecureTransport": "false"}}
    assert transport(deny_http(Condition=condition)).status == "pass"


def test_extra_condition_narrows_the_deny_and_fails() -> None:
    condition = {
        "Bool": {"aws:SecureTransport": "false"},
        "IpAddress": {"aws:SourceIp": "198.51.100.0/24"},
    }
    result = transport(deny_http(Condition=condition))
    assert result.status == "fail"
    assert "narrows the deny" in result.summary
    assert result.details["near_misses"][0]["label"] == "Statement 'DenyInsecureTransport'"


@pytest.mark.parametrize("condition", [{}, {"Bool": {}}, {"Bool": "aws:SecureTransport"}])
def test_a_deny_without_a_secure_transport_test_does_not_count(condition: Any) -> None:
    result = transport(deny_http(Condition=condition))
    assert result.status == "fail"
    assert "No statement of the bucket policy denies s3:*" in result.summary


def test_secure_transport_tested_with_another_operator_fails() -> None:
    condition = {"StringEquals": {"aws:SecureTransport": "false"}}
    result = transport(deny_http(Condition=condition))
    assert result.status == "fail"
    assert "not Bool" in result.summary


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["*"]}])
def test_all_principal_forms_pass(principal: Any) -> None:
    assert transport(deny_http(Principal=principal)).status == "pass"


@pytest.mark.parametrize(
    "principal", [{"AWS": "arn:aws:iam::123456789012:root"}, {"Service": "s3.amazonaws.com"}]
)
def test_some_principals_only_fails(principal: Any) -> None:
    result = transport(deny_http(Principal=principal))
    assert result.status == "fail"
    assert "all principals" in result.summary


@pytest.mark.parametrize("principal", [None, "arn:aws:iam::123456789012:root", ["*"], {}])
def test_a_missing_or_malformed_principal_is_not_everyone(principal: Any) -> None:
    statement = deny_http(Principal=principal)
    result = transport(statement)
    assert result.status == "fail"
    assert "all principals" in result.details["near_misses"][0]["reason"]


def test_not_principal_fails() -> None:
    statement = deny_http(Principal=None)
    statement["NotPrincipal"] = {"AWS": "arn:aws:iam::123456789012:root"}
    assert transport(statement).status == "fail"


@pytest.mark.parametrize("action", ["*", "S3:*", ["s3:GetObject", "s3:*"]])
def test_all_actions_pass(action: Any) -> None:
    assert transport(deny_http(Action=action)).status == "pass"


def test_some_actions_only_fails() -> None:
    result = transport(deny_http(Action=["s3:GetObject", "s3:PutObject"]))
    assert result.status == "fail"
    assert "denies only s3:GetObject, s3:PutObject, not s3:*" in result.summary


def test_not_action_fails() -> None:
    statement = deny_http(Action=None)
    statement["NotAction"] = "s3:GetObject"
    assert transport(statement).status == "fail"


def test_deny_on_objects_only_passes_and_says_so() -> None:
    result = transport(deny_http(Resource=f"{ARN}/*"))
    assert result.status == "pass"
    assert "its objects only" in result.summary
    assert result.details["covers"] == [f"{ARN}/*"]


def test_deny_on_bucket_only_passes_and_says_so() -> None:
    result = transport(deny_http(Resource=ARN))
    assert result.status == "pass"
    assert "the bucket only" in result.summary


@pytest.mark.parametrize("resource", ["*", "arn:aws:s3:::*", "arn:aws:s3:::imag*"])
def test_wildcard_resources_cover_the_bucket(resource: str) -> None:
    assert transport(deny_http(Resource=resource)).status == "pass"


@pytest.mark.parametrize(
    "resource", ["arn:aws:s3:::other/*", f"{ARN}/private/*", "arn:aws:s3:::images-backup"]
)
def test_other_resources_fail(resource: str) -> None:
    result = transport(deny_http(Resource=resource))
    assert result.status == "fail"
    assert "neither the bucket nor its objects" in result.summary


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("arn:aws:s3:::images", ARN, True),
        ("arn:aws:s3:::image", ARN, False),
        ("arn:aws:s3:::images/*", f"{ARN}/*", True),
        ("arn:aws:s3:::*/*", f"{ARN}/*", True),
        ("arn:aws:s3:::*/*", ARN, False),
        ("arn:aws:s3:::image?", ARN, True),
        ("arn:aws:s3:::images?", ARN, False),
        ("arn:aws:s3:::?mages*", f"{ARN}/*", True),
        ("arn:aws:s3:::i*g*s", ARN, True),
        ("arn:aws:s3:::i*x*s", ARN, False),
        ("*images", ARN, True),
        ("arn:aws:s3:::ima*ages", ARN, False),  # the two ends may not share characters
        ("arn:aws:s3:::**", ARN, True),
        ("ARN:AWS:S3:::IMAGES", ARN, False),  # ARNs are case-sensitive
        ("", "", True),
        ("*", "", True),
        ("?", "", False),
    ],
)
def test_policy_wildcards_match_as_iam_does(pattern: str, text: str, matches: bool) -> None:
    assert _glob(pattern, text) is matches


def _reference_glob(pattern: str, text: str) -> bool:
    """The textbook dynamic programme, slow but plainly right, to compare with."""
    reach = [[False] * (len(text) + 1) for _ in range(len(pattern) + 1)]
    reach[0][0] = True
    for i, p in enumerate(pattern, 1):
        for j in range(len(text) + 1):
            if p == "*":
                reach[i][j] = reach[i - 1][j] or (j > 0 and reach[i][j - 1])
            else:
                reach[i][j] = j > 0 and reach[i - 1][j - 1] and p in ("?", text[j - 1])
    return reach[len(pattern)][len(text)]


def test_policy_wildcards_agree_with_the_reference_on_every_short_case() -> None:
    texts = ["".join(t) for n in range(5) for t in itertools.product("ab", repeat=n)]
    patterns = ["".join(p) for n in range(5) for p in itertools.product("ab*?", repeat=n)]
    wrong = [
        (pattern, text)
        for pattern in patterns
        for text in texts
        if _glob(pattern, text) != _reference_glob(pattern, text)
    ]
    assert wrong == []


def test_a_hostile_wildcard_pattern_is_answered_without_backtracking() -> None:
    # A backtracking matcher needs seconds for 11 stars against 40 characters, and each star
    # multiplies it; these would never finish.
    hostile = "a*" * 200 + "b"
    assert _glob(hostile, "a" * 5000) is False
    assert _glob(hostile, "a" * 5000 + "b") is True
    assert _glob("?*" * 300 + "c", "ab" * 3000) is False


def test_a_hostile_resource_pattern_in_a_bucket_policy_is_judged() -> None:
    # Anyone who can edit a bucket policy in a scanned account can write this pattern.
    name = "a" * 63
    arn = f"arn:aws:s3:::{name}"
    statement = deny_http(Resource="arn:aws:s3:::" + "a*" * 60 + "b")
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    result = one("s3_bucket_secure_transport", {"buckets": [bucket(name=name, policy=policy)]})
    assert (result.resource_arn, result.status) == (arn, "fail")
    assert "neither the bucket nor its objects" in result.summary


def test_statement_as_single_object_passes() -> None:
    policy = {"Version": "2012-10-17", "Statement": deny_http()}
    result = one("s3_bucket_secure_transport", {"buckets": [bucket(policy=policy)]})
    assert result.status == "pass"


def test_allow_only_over_tls_is_not_a_deny() -> None:
    allow = deny_http(Effect="Allow", Condition={"Bool": {"aws:SecureTransport": "true"}})
    assert transport(allow).status == "fail"


def test_tls_version_deny_is_not_a_secure_transport_deny() -> None:
    tls = deny_http(Condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}})
    result = transport(tls)
    assert result.status == "fail"
    assert result.details["near_misses"] == []


def test_first_qualifying_statement_decides_despite_near_misses() -> None:
    near = deny_http(Sid="OnlyGets", Action="s3:GetObject")
    assert transport(near, deny_http()).status == "pass"


def test_partition_is_honoured() -> None:
    unit = Unit("123456789012", GLOBAL, partition="aws-cn")
    arn = f"arn:aws-cn:s3:::{BUCKET}"
    policy = {"Statement": [deny_http(Resource=[arn, f"{arn}/*"])]}
    result = one("s3_bucket_secure_transport", {"buckets": [bucket(policy=policy)]}, unit)
    assert (result.resource_arn, result.status) == (arn, "pass")


# --------------------------------------------------------------------------- 2.1.2


def test_mfa_delete_with_versioning_passes() -> None:
    data = {"buckets": [bucket(versioning={"Status": "Enabled", "MFADelete": "Enabled"})]}
    result = one("s3_bucket_mfa_delete_enabled", data)
    assert (result.resource_arn, result.status) == (ARN, "pass")


def test_versioning_alone_fails_and_says_so() -> None:
    data = {"buckets": [bucket(versioning={"Status": "Enabled", "MFADelete": "Disabled"})]}
    result = one("s3_bucket_mfa_delete_enabled", data)
    assert result.status == "fail"
    assert result.summary.startswith("Versioning is enabled but MFA Delete is not")
    assert result.details["versioning"] == {"Status": "Enabled", "MFADelete": "Disabled"}


@pytest.mark.parametrize(
    ("versioning", "phrase"),
    [
        ({}, "never been enabled"),
        ({"Status": "Suspended"}, "Versioning is suspended"),
        ({"Status": "Suspended", "MFADelete": "Enabled"}, "versioning is suspended"),
    ],
)
def test_without_versioning_fails(versioning: dict[str, str], phrase: str) -> None:
    result = one("s3_bucket_mfa_delete_enabled", {"buckets": [bucket(versioning=versioning)]})
    assert result.status == "fail"
    assert phrase in result.summary


# --------------------------------------------------------------------------- 2.1.4


def test_bucket_block_public_access_all_on_passes() -> None:
    result = one(
        "s3_bucket_public_access_blocked", {"buckets": [bucket(public_access_block=ALL_ON)]}
    )
    assert (result.resource_arn, result.status) == (ARN, "pass")


def test_bucket_block_public_access_partly_off_fails_naming_flags() -> None:
    config = {**ALL_ON, "IgnorePublicAcls": False, "RestrictPublicBuckets": False}
    result = one(
        "s3_bucket_public_access_blocked", {"buckets": [bucket(public_access_block=config)]}
    )
    assert result.status == "fail"
    assert "IgnorePublicAcls, RestrictPublicBuckets" in result.summary
    assert result.details["missing"] == ["IgnorePublicAcls", "RestrictPublicBuckets"]


def test_bucket_without_block_public_access_fails() -> None:
    result = one("s3_bucket_public_access_blocked", {"buckets": [bucket()]})
    assert result.status == "fail"
    assert "no Block Public Access configuration" in result.summary


@pytest.mark.parametrize("config", [None, {**ALL_ON, "BlockPublicAcls": False}])
def test_account_level_settings_cover_the_bucket(config: dict[str, bool] | None) -> None:
    data = {"buckets": [bucket(public_access_block=config)], "account_public_access_block": ALL_ON}
    result = one("s3_bucket_public_access_blocked", data)
    assert result.status == "pass"
    assert result.summary.startswith("All four account-level Block Public Access settings")
    assert result.details["account_public_access_block"] == ALL_ON


def test_partial_account_level_settings_do_not_cover_the_bucket() -> None:
    account = {**ALL_ON, "RestrictPublicBuckets": False}
    data = {"buckets": [bucket()], "account_public_access_block": account}
    result = one("s3_bucket_public_access_blocked", data)
    assert result.status == "fail"
    assert "account-level settings do not cover it" in result.summary


def test_account_level_is_judged_on_the_account() -> None:
    # The story: every flag on at bucket level, none at account level.
    data = {"buckets": [bucket(public_access_block=ALL_ON)], "account_public_access_block": None}
    assert one("s3_bucket_public_access_blocked", data).status == "pass"
    account = one("s3_account_public_access_blocked", data)
    assert (account.resource_arn, account.status) == (UNIT.account_arn, "fail")
    assert "no account-level" in account.summary

    data["account_public_access_block"] = ALL_ON
    assert one("s3_account_public_access_blocked", data).status == "pass"

    data["account_public_access_block"] = {**ALL_ON, "BlockPublicPolicy": False}
    result = one("s3_account_public_access_blocked", data)
    assert result.status == "fail"
    assert "BlockPublicPolicy" in result.summary
    assert result.details == {
        "public_access_block": {**ALL_ON, "BlockPublicPolicy": False},
        "missing": ["BlockPublicPolicy"],
    }


def test_no_buckets_no_bucket_results() -> None:
    data = {"buckets": [], "account_public_access_block": ALL_ON}
    for check_id in (
        "s3_bucket_secure_transport",
        "s3_bucket_mfa_delete_enabled",
        "s3_bucket_public_access_blocked",
    ):
        assert run(check_id, data) == []
    assert one("s3_account_public_access_blocked", data).status == "pass"


def test_a_deny_without_condition_is_not_a_near_miss() -> None:
    result = transport(deny_http(Condition=None))
    assert result.status == "fail"
    assert result.details["near_misses"] == []
    assert result.summary == (
        "No statement of the bucket policy denies s3:* to all principals when "
        "aws:SecureTransport is false; it has Statement 'DenyInsecureTransport' (Deny)."
    )


def test_near_misses_carry_the_statement_and_why_it_does_not_count() -> None:
    near = deny_http(Sid="OnlyGets", Action="s3:GetObject")
    result = transport(near)
    assert result.details["near_misses"] == [
        {
            "statement": near,
            "label": "Statement 'OnlyGets'",
            "reason": "it denies only s3:GetObject, not s3:*",
        }
    ]
    assert result.details["policy"]["Statement"] == [near]


def test_a_statement_without_effect_is_shown_as_such() -> None:
    odd = {key: value for key, value in CLOUDFRONT_READ.items() if key != "Effect"}
    result = transport(odd)
    assert result.status == "fail"
    assert "Statement 'AllowCloudFront' (?)" in result.summary
