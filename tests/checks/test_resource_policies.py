"""Pure tests of the "not public" checks that judge one resource policy each: EventBridge
buses, Glacier vaults, KMS keys, Secrets Manager secrets, SNS topics and SQS queues.

Each gets the AWS-shaped data its collector gathers: the policy AWS writes by default (or
none), one open to everyone, one open to everyone but pinned by a condition.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from findings.checks import REGISTRY
from findings.checks.base import Result, Unit
from tests.checks.evidence import checked

ACCOUNT = "123456789012"
UNIT = Unit(ACCOUNT, "us-east-1")
BUS = "arn:aws:events:us-east-1:123456789012:event-bus/default"
VAULT = "arn:aws:glacier:us-east-1:123456789012:vaults/archive"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:orders"


def statement(principal: Any, action: str, resource: str, **extra: Any) -> dict[str, Any]:
    return {
        "Sid": "Open",
        "Effect": "Allow",
        "Principal": principal,
        "Action": action,
        "Resource": resource,
        **extra,
    }


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def bus_data(policy: Any) -> dict[str, Any]:
    return {"buses": [{"arn": BUS, "name": "default", "policy": policy}]}


def vault_data(policy: Any) -> dict[str, Any]:
    return {"vaults": [{"arn": VAULT, "name": "archive", "policy": policy}]}


def key_data(policy: Any, manager: str = "CUSTOMER") -> dict[str, Any]:
    metadata = {"KeyId": KEY.rsplit("/", 1)[1], "KeyManager": manager, "KeyState": "Enabled"}
    return {
        "keys": [{"arn": KEY, "metadata": metadata, "aliases": ["alias/app"], "policy": policy}]
    }


def secret_data(policy: Any) -> dict[str, Any]:
    return {"secrets": [{"arn": SECRET, "name": "db", "policy": policy}]}


def topic_data(policy: Any) -> dict[str, Any]:
    return {"topics": [{"arn": TOPIC, "name": "alerts", "policy": policy}]}


def queue_data(policy: Any) -> dict[str, Any]:
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/orders"
    return {"queues": [{"arn": QUEUE, "name": "orders", "url": url, "policy": policy}]}


# check id, collector, resource type, data builder, ARN, subject, an action, default policy
CASES = [
    (
        "eventbridge_bus_not_public",
        "events",
        "AWS::Events::EventBus",
        bus_data,
        BUS,
        "Event bus 'default'",
        "events:PutEvents",
        None,
    ),
    (
        "glacier_vault_policy_not_public",
        "glacier",
        "AWS::Glacier::Vault",
        vault_data,
        VAULT,
        "Vault 'archive'",
        "glacier:InitiateJob",
        None,
    ),
    (
        "kms_key_not_public",
        "kms_policy",
        "AWS::KMS::Key",
        key_data,
        KEY,
        "Key 1234abcd-12ab-34cd-56ef-1234567890ab (alias/app)",
        "kms:Decrypt",
        # The default key policy: the account itself, through IAM.
        doc(statement({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "kms:*", "*")),
    ),
    (
        "secretsmanager_secret_not_public",
        "secretsmanager",
        "AWS::SecretsManager::Secret",
        secret_data,
        SECRET,
        "Secret 'db'",
        "secretsmanager:GetSecretValue",
        None,
    ),
    (
        "sns_topic_not_public",
        "sns",
        "AWS::SNS::Topic",
        topic_data,
        TOPIC,
        "Topic 'alerts'",
        "SNS:Publish",
        # The default topic policy: everyone, but only the owner account (AWS:SourceOwner).
        {
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [
                {
                    "Sid": "__default_statement_ID",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": ["SNS:Publish", "SNS:Subscribe", "SNS:GetTopicAttributes"],
                    "Resource": TOPIC,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": ACCOUNT}},
                }
            ],
        },
    ),
    (
        "sqs_queue_not_public",
        "sqs",
        "AWS::SQS::Queue",
        queue_data,
        QUEUE,
        "Queue 'orders'",
        "sqs:SendMessage",
        None,
    ),
]
IDS = [case[0] for case in CASES]


def one(check_id: str, data: dict[str, Any]) -> Result:
    results = checked(REGISTRY[check_id].run(data, UNIT))
    assert len(results) == 1
    return results[0]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_registered_unmapped_for_their_collector(case: tuple[Any, ...]) -> None:
    check_id, service, resource_type = case[:3]
    spec = REGISTRY[check_id]
    assert (spec.controls, spec.service, spec.resource_type) == ((), service, resource_type)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_default_policy_passes(case: tuple[Any, ...]) -> None:
    check_id, _, _, data, arn, subject, _, default = case
    result = one(check_id, data(default))
    assert (result.resource_arn, result.status) == (arn, "pass")
    assert result.summary.startswith(f"{subject} is not public: ")


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["*"]}])
def test_open_to_everyone_fails_naming_the_statement(case: tuple[Any, ...], principal: Any) -> None:
    check_id, _, _, data, arn, subject, action, _ = case
    result = one(check_id, data(doc(statement(principal, action, arn))))
    assert result.status == "fail"
    assert result.summary.startswith(
        f"{subject} is public: statement 'Open' allows {action} to everyone"
    )
    assert result.details["public_statements"][0]["statement"]["Principal"] == principal


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_open_to_everyone_as_a_json_string_fails(case: tuple[Any, ...]) -> None:
    check_id, _, _, data, arn, _, action, _ = case
    assert one(check_id, data(json.dumps(doc(statement("*", action, arn))))).status == "fail"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_open_to_the_organisation_only_passes(case: tuple[Any, ...]) -> None:
    check_id, _, _, data, arn, _, action, _ = case
    condition = {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
    result = one(check_id, data(doc(statement("*", action, arn, Condition=condition))))
    assert result.status == "pass"
    assert "aws:PrincipalOrgID = o-a1b2c3d4e5" in result.summary
    assert result.details["pinned_statements"] == [
        {
            "label": "statement 'Open'",
            "condition": "StringEquals aws:PrincipalOrgID = o-a1b2c3d4e5",
        }
    ]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_wildcard_condition_value_does_not_pin(case: tuple[Any, ...]) -> None:
    check_id, _, _, data, arn, _, action, _ = case
    condition = {"StringLike": {"aws:PrincipalOrgID": "*"}}
    assert one(check_id, data(doc(statement("*", action, arn, Condition=condition)))).status == (
        "fail"
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_deny_to_everyone_is_not_public(case: tuple[Any, ...]) -> None:
    check_id, _, _, data, arn, _, action, _ = case
    deny = {**statement("*", action, arn), "Effect": "Deny"}
    assert one(check_id, data(doc(deny))).status == "pass"


def test_event_bus_put_permission_to_everyone_fails() -> None:
    # `aws events put-permission --principal "*"` stores the wildcard account form.
    policy = doc(
        {
            "Sid": "all-accounts",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::*:root"},
            "Action": "events:PutEvents",
            "Resource": BUS,
        }
    )
    result = one("eventbridge_bus_not_public", bus_data(policy))
    assert result.status == "fail"
    assert "arn:aws:iam::*:root names every AWS account" in result.summary


def test_kms_key_pinned_by_caller_account_with_via_service_passes() -> None:
    condition = {
        "StringEquals": {
            "kms:CallerAccount": ACCOUNT,
            "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com",
        }
    }
    policy = doc(statement({"AWS": "*"}, "kms:Decrypt", "*", Condition=condition))
    result = one("kms_key_not_public", key_data(policy))
    assert result.status == "pass"
    assert "kms:CallerAccount = 123456789012" in result.summary


def test_kms_via_service_alone_is_public() -> None:
    condition = {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}
    policy = doc(statement({"AWS": "*"}, "kms:Decrypt", "*", Condition=condition))
    assert one("kms_key_not_public", key_data(policy)).status == "fail"


def test_aws_managed_keys_are_not_judged() -> None:
    policy = doc(statement("*", "kms:Decrypt", "*"))
    assert checked(REGISTRY["kms_key_not_public"].run(key_data(policy, "AWS"), UNIT)) == []


def test_sqs_not_principal_allow_fails() -> None:
    allow_all_but = {
        "Sid": "AllButOne",
        "Effect": "Allow",
        "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "sqs:*",
        "Resource": QUEUE,
    }
    result = one("sqs_queue_not_public", queue_data(doc(allow_all_but)))
    assert result.status == "fail"
    assert "statement 'AllButOne'" in result.summary
    assert "NotPrincipal" in result.summary


def test_sns_publish_open_to_everyone_beside_the_default_fails() -> None:
    default = CASES[4][7]
    policy = {
        **default,
        "Statement": [*default["Statement"], statement("*", "SNS:Publish", TOPIC, Sid="Anyone")],
    }
    result = one("sns_topic_not_public", topic_data(policy))
    assert result.status == "fail"
    assert [s["label"] for s in result.details["public_statements"]] == ["statement 'Anyone'"]
    assert result.details["pinned_statements"][0]["label"] == "statement '__default_statement_ID'"


def test_no_resources_no_results() -> None:
    for check_id, *_ in CASES:
        assert REGISTRY[check_id].run({}, UNIT) == []
