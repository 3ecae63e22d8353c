"""The kms_policy collector against the moto server, then "KMS key policy is not public"."""

from __future__ import annotations

import json

from findings.aws import COLLECTORS
from findings.scanner import scanned_services
from simulation.account import client
from tests.aws.collect import collect

CHECK = "kms_key_not_public"


def test_customer_keys_with_default_and_public_policies(aws: str) -> None:
    kms = client(aws, "kms", "us-east-1")
    default = kms.create_key(Description="default policy")["KeyMetadata"]
    kms.create_alias(AliasName="alias/app", TargetKeyId=default["KeyId"])
    opened = kms.create_key(Description="open")["KeyMetadata"]
    kms.put_key_policy(
        KeyId=opened["KeyId"],
        PolicyName="default",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "EveryoneDecrypts",
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": ["kms:Decrypt", "kms:DescribeKey"],
                        "Resource": "*",
                    }
                ],
            }
        ),
    )

    collected, results, ctx = collect(aws, "kms_policy")

    # ListKeys, ListAliases, then DescribeKey and GetKeyPolicy per customer managed key.
    assert ctx.api_calls == 2 + 2 * 2
    keys = {key["metadata"]["KeyId"]: key for key in collected.data["keys"]}
    assert keys[default["KeyId"]]["aliases"] == ["alias/app"]
    passed = results[(CHECK, default["Arn"])]
    assert passed.status == "pass"
    assert passed.summary.startswith(f"Key {default['KeyId']} (alias/app) is not public")
    failed = results[(CHECK, opened["Arn"])]
    assert failed.status == "fail"
    assert "statement 'EveryoneDecrypts' allows kms:Decrypt, kms:DescribeKey" in failed.summary


def test_not_collected_by_a_scan_until_a_control_maps_it() -> None:
    # The rotation collector keeps running for CIS v2.0.0 3.8; the policy one waits.
    assert "kms_policy" in COLLECTORS
    assert "kms" in scanned_services()
    assert not {"kms_policy", "lambda", "events", "glacier", "secretsmanager", "sns", "sqs"} & (
        scanned_services()
    )
