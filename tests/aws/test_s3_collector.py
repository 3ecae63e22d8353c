"""The S3 collector against the moto server, then the S3 checks on what it collected."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from findings.aws import COLLECTORS
from findings.aws.base import CollectContext, Collected, CollectionError
from findings.checks.base import GLOBAL, Result, Unit, checks_for
from simulation.account import client, remediate_story_stack, seed_story_stack

ACCOUNT = "123456789012"
UNIT = Unit(ACCOUNT, GLOBAL)
#: ListBuckets, s3control GetPublicAccessBlock, and per bucket: GetBucketLocation (moto does not
#: return BucketRegion; AWS does, and then this call is not made), policy, versioning, Block
#: Public Access, logging, encryption, tags.
CALLS_PER_BUCKET = 7
FIXED_CALLS = 2


def context(endpoint: str) -> CollectContext:
    return CollectContext(
        session=boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing"),
        unit=UNIT,
        regions=["us-east-1", "eu-west-1"],
        endpoint_url=endpoint,
    )


def scan(endpoint: str) -> tuple[CollectContext, Collected, dict[tuple[str, str], Result]]:
    ctx = context(endpoint)
    assert COLLECTORS["s3"].scope == GLOBAL
    collected = COLLECTORS["s3"].function(ctx)
    arns = {ref.arn for ref in collected.resources}
    json.dumps([ref.configuration for ref in collected.resources])
    results: dict[tuple[str, str], Result] = {}
    for spec in checks_for("s3"):
        for result in spec.run(collected.data, UNIT):
            assert result.resource_arn in arns, result
            results[(result.check_id, result.resource_arn)] = result
    return ctx, collected, results


def test_story_account_before_and_after_remediation(aws: str) -> None:
    stack = seed_story_stack(aws)
    bucket_arn = f"arn:aws:s3:::{stack.bucket_name}"
    account_arn = UNIT.account_arn

    ctx, collected, results = scan(aws)
    assert ctx.api_calls == FIXED_CALLS + CALLS_PER_BUCKET
    bucket = next(ref for ref in collected.resources if ref.arn == bucket_arn)
    assert (bucket.resource_type, bucket.region, bucket.name) == (
        "AWS::S3::Bucket",
        "us-east-1",
        stack.bucket_name,
    )
    assert bucket.tags == {"Project": "story", "Environment": "prod"}
    account = next(ref for ref in collected.resources if ref.arn == account_arn)
    assert (account.resource_type, account.region, account.name) == (
        "AWS::::Account",
        GLOBAL,
        ACCOUNT,
    )
    assert account.configuration == {"s3_public_access_block": None}

    assert results[("s3_bucket_secure_transport", bucket_arn)].status == "fail"
    assert results[("s3_bucket_mfa_delete_enabled", bucket_arn)].status == "fail"
    assert results[("s3_bucket_public_access_blocked", bucket_arn)].status == "pass"
    assert results[("s3_account_public_access_blocked", account_arn)].status == "fail"

    remediate_story_stack(aws, stack)
    ctx, collected, results = scan(aws)
    assert ctx.api_calls == FIXED_CALLS + CALLS_PER_BUCKET
    transport = results[("s3_bucket_secure_transport", bucket_arn)]
    assert transport.status == "pass"
    assert "Statement 'DenyInsecureTransport'" in transport.summary
    assert results[("s3_account_public_access_blocked", account_arn)].status == "pass"
    assert results[("s3_bucket_public_access_blocked", bucket_arn)].status == "pass"
    mfa = results[("s3_bucket_mfa_delete_enabled", bucket_arn)]
    assert mfa.status == "fail"  # the accepted risk: versioning on, MFA Delete off
    assert mfa.summary.startswith("Versioning is enabled but MFA Delete is not")


def test_bucket_settings_and_regions(aws: str) -> None:
    s3 = client(aws, "s3", "us-east-1")
    s3.create_bucket(Bucket="configured")
    s3.put_bucket_versioning(Bucket="configured", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_tagging(Bucket="configured", Tagging={"TagSet": [{"Key": "Team", "Value": "a"}]})
    s3.put_bucket_encryption(
        Bucket="configured",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    s3.create_bucket(Bucket="access-logs")
    s3.put_bucket_policy(
        Bucket="access-logs",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": "arn:aws:s3:::access-logs/*",
                    }
                ],
            }
        ),
    )
    s3.put_bucket_logging(
        Bucket="configured",
        BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "access-logs", "TargetPrefix": "configured/"}
        },
    )
    client(aws, "s3", "eu-west-1").create_bucket(
        Bucket="bare-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )

    ctx, collected, results = scan(aws)
    assert ctx.api_calls == FIXED_CALLS + 3 * CALLS_PER_BUCKET
    buckets = {bucket["name"]: bucket for bucket in collected.data["buckets"]}
    assert set(buckets) == {"configured", "access-logs", "bare-eu"}

    configured = buckets["configured"]
    assert configured["region"] == "us-east-1"
    assert configured["versioning"] == {"Status": "Enabled"}
    assert configured["tags"] == {"Team": "a"}
    assert configured["encryption"]["Rules"][0]["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms"
    }
    assert configured["logging"]["TargetBucket"] == "access-logs"

    bare = buckets["bare-eu"]
    assert bare["region"] == "eu-west-1"
    assert (bare["policy"], bare["public_access_block"], bare["encryption"], bare["tags"]) == (
        None,
        None,
        None,
        {},
    )
    refs = {ref.name: ref for ref in collected.resources}
    assert refs["bare-eu"].region == "eu-west-1"
    assert refs["bare-eu"].arn == "arn:aws:s3:::bare-eu"
    assert results[("s3_bucket_secure_transport", "arn:aws:s3:::bare-eu")].summary == (
        "The bucket has no bucket policy, so nothing denies requests made over HTTP."
    )


def test_a_bucket_deleted_while_scanning_is_left_out(aws: str) -> None:
    seeder = client(aws, "s3", "us-east-1")
    for name in ("kept", "vanishing"):
        seeder.create_bucket(Bucket=name)
    ctx = context(aws)

    def delete_first(params: dict[str, Any], **kwargs: Any) -> None:
        if params.get("Bucket") == "vanishing":
            seeder.delete_bucket(Bucket="vanishing")

    ctx.client("s3").meta.events.register(
        "before-parameter-build.s3.GetBucketLocation", delete_first
    )
    collected = COLLECTORS["s3"].function(ctx)
    assert [bucket["name"] for bucket in collected.data["buckets"]] == ["kept"]


class _Denied:
    status_code = 403
    headers: dict[str, str] = {}


def test_a_denied_call_fails_the_unit(aws: str) -> None:
    client(aws, "s3", "us-east-1").create_bucket(Bucket="locked")
    ctx = context(aws)

    def deny(**kwargs: Any) -> tuple[_Denied, dict[str, Any]]:
        return _Denied(), {
            "Error": {"Code": "AccessDenied", "Message": "Access Denied"},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }

    ctx.client("s3").meta.events.register("before-call.s3.GetBucketPolicy", deny)
    with pytest.raises(CollectionError) as raised:
        COLLECTORS["s3"].function(ctx)
    assert (raised.value.operation, raised.value.code) == ("get_bucket_policy", "AccessDenied")
