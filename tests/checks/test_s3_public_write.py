"""Pure tests of "S3 bucket policy grants no public write access", on the s3 collector's data."""

from __future__ import annotations

from typing import Any

import pytest

from findings.checks import REGISTRY
from findings.checks.base import GLOBAL, Result, Unit
from tests.checks.evidence import checked

UNIT = Unit("123456789012", GLOBAL)
ARN = "arn:aws:s3:::uploads"
CHECK = "s3_bucket_policy_no_public_write"


def bucket(policy: Any = None, pab: dict[str, bool] | None = None) -> dict[str, Any]:
    return {
        "name": "uploads",
        "region": "us-east-1",
        "policy": policy,
        "versioning": {},
        "public_access_block": pab,
        "logging": None,
        "encryption": None,
        "tags": {},
    }


def allow(sid: str, action: Any, principal: Any = "*", **extra: Any) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": action,
        "Resource": f"{ARN}/*",
        **extra,
    }


def one(*statements: dict[str, Any], pab: Any = None, account: Any = None) -> Result:
    policy = {"Version": "2012-10-17", "Statement": list(statements)} if statements else None
    data = {"buckets": [bucket(policy, pab)], "account_public_access_block": account}
    results = checked(REGISTRY[CHECK].run(data, UNIT))
    assert len(results) == 1
    return results[0]


def test_registered_unmapped_on_the_s3_collector() -> None:
    spec = REGISTRY[CHECK]
    assert (spec.controls, spec.service, spec.resource_type) == ((), "s3", "AWS::S3::Bucket")


def test_no_policy_passes() -> None:
    result = one()
    assert (result.resource_arn, result.status) == (ARN, "pass")
    assert (
        result.summary == "The bucket has no bucket policy, so its policy grants no public write."
    )


@pytest.mark.parametrize(
    "action",
    [
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:*",
        "*",
        "s3:Put*",
        ["s3:GetObject", "s3:PutObjectAcl"],
    ],
)
def test_public_write_fails_naming_statement_and_actions(action: Any) -> None:
    result = one(allow("Drop", action))
    assert result.status == "fail"
    assert result.summary.startswith(
        "The bucket policy lets everyone write: statement 'Drop' allows"
    )
    assert "RestrictPublicBuckets is off" in result.summary
    assert result.details["public_statements"][0]["write_actions"]


def test_public_read_only_passes_and_says_so() -> None:
    result = one(allow("Website", "s3:GetObject"))
    assert result.status == "pass"
    assert result.summary == (
        "The bucket policy lets everyone read only, not write: statement 'Website' (s3:GetObject)."
    )


def test_write_by_a_named_account_passes() -> None:
    statement = allow("Partner", "s3:PutObject", {"AWS": "arn:aws:iam::111122223333:root"})
    result = one(statement)
    assert result.status == "pass"
    assert result.summary.startswith("No statement of the bucket policy lets everyone write")


def test_public_write_pinned_to_a_vpc_endpoint_passes() -> None:
    condition = {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d"}}
    result = one(allow("FromEndpoint", "s3:PutObject", Condition=condition))
    assert result.status == "pass"
    assert "aws:SourceVpce = vpce-0a1b2c3d" in result.summary


def test_public_write_under_a_negated_condition_fails() -> None:
    condition = {"StringNotEquals": {"aws:SourceAccount": "123456789012"}}
    assert one(allow("Odd", "s3:PutObject", Condition=condition)).status == "fail"


def test_not_principal_write_fails() -> None:
    statement = allow("AllBut", "s3:PutObject")
    del statement["Principal"]
    statement["NotPrincipal"] = {"AWS": "arn:aws:iam::123456789012:root"}
    result = one(statement)
    assert result.status == "fail"
    assert "NotPrincipal" in result.summary


def test_a_deny_of_write_to_everyone_is_not_public_write() -> None:
    deny = {**allow("NoWrites", "s3:PutObject"), "Effect": "Deny"}
    assert one(deny).status == "pass"


@pytest.mark.parametrize(
    ("pab", "account", "where"),
    [
        ({"RestrictPublicBuckets": True}, None, "bucket"),
        (None, {"RestrictPublicBuckets": True}, "account"),
    ],
)
def test_restrict_public_buckets_neutralises_public_write(
    pab: Any, account: Any, where: str
) -> None:
    result = one(allow("Drop", "s3:PutObject"), pab=pab, account=account)
    assert result.status == "pass"
    assert f"RestrictPublicBuckets is on for the {where}" in result.summary
    assert "statement 'Drop' allows s3:PutObject" in result.summary


def test_block_public_policy_alone_does_not_neutralise_an_existing_policy() -> None:
    # BlockPublicPolicy refuses new public policies; one already in place keeps working.
    result = one(allow("Drop", "s3:PutObject"), pab={"BlockPublicPolicy": True})
    assert result.status == "fail"
