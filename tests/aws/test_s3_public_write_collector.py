"""The s3 collector's bucket policies against the moto server, judged by "S3 bucket policy
grants no public write access" (the check reads the policy the s3 collector already reads)."""

from __future__ import annotations

import json

from simulation.account import client
from tests.aws.test_s3_collector import scan

CHECK = "s3_bucket_policy_no_public_write"


def _policy(bucket: str, sid: str, action: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": sid,
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": action,
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                }
            ],
        }
    )


def test_public_write_and_public_read_buckets(aws: str) -> None:
    s3 = client(aws, "s3", "us-east-1")
    for name in ("dropbox", "website", "plain"):
        s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(Bucket="dropbox", Policy=_policy("dropbox", "Drop", "s3:PutObject"))
    s3.put_bucket_policy(Bucket="website", Policy=_policy("website", "Site", "s3:GetObject"))

    _, _, results = scan(aws)

    dropbox = results[(CHECK, "arn:aws:s3:::dropbox")]
    assert dropbox.status == "fail"
    assert "statement 'Drop' allows s3:PutObject to everyone" in dropbox.summary
    website = results[(CHECK, "arn:aws:s3:::website")]
    assert website.status == "pass"
    assert "read only" in website.summary
    assert results[(CHECK, "arn:aws:s3:::plain")].status == "pass"

    s3.put_public_access_block(
        Bucket="dropbox",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": False,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        },
    )
    _, _, results = scan(aws)
    restricted = results[(CHECK, "arn:aws:s3:::dropbox")]
    assert restricted.status == "pass"
    assert "RestrictPublicBuckets is on for the bucket" in restricted.summary
