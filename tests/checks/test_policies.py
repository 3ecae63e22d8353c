"""Pure tests of the resource-policy analyzer: who a policy opens a resource to, and for what."""

from __future__ import annotations

import json
from typing import Any

import pytest

from findings.checks.policies import analyze, glob_match, summary, write_actions

ARN = "arn:aws:sqs:us-east-1:123456789012:orders"


def allow(**overrides: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": "Open",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "sqs:SendMessage",
        "Resource": ARN,
    }
    statement.update(overrides)
    return {key: value for key, value in statement.items() if value is not None}


def policy(*statements: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# --------------------------------------------------------------------------- principals


@pytest.mark.parametrize(
    ("principal", "why"),
    [
        ("*", 'its Principal is "*"'),
        ({"AWS": "*"}, 'its Principal is {"AWS": "*"}'),
        ({"AWS": ["arn:aws:iam::111122223333:root", "*"]}, 'its Principal is {"AWS": "*"}'),
        (["*"], 'its Principal list holds "*"'),
        ({"AWS": "arn:aws:iam::*:root"}, "arn:aws:iam::*:root names every AWS account"),
        ({"AWS": "arn:aws:iam::*:role/deploy"}, "names every AWS account"),
        ({"AWS": "1111*"}, "names every AWS account"),
    ],
)
def test_everyone_principals_make_it_public(principal: Any, why: str) -> None:
    result = analyze(policy(allow(Principal=principal)))
    assert result.is_public
    assert why in result.public[0].why
    assert result.public[0].label == "statement 'Open'"


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": "arn:aws:iam::111122223333:root"},
        {"AWS": ["111122223333", "arn:aws:iam::444455556666:role/app"]},
        {"Service": "sns.amazonaws.com"},
        {"Service": "*"},
        "arn:aws:iam::111122223333:root",
        {},
        None,
    ],
)
def test_named_principals_are_private(principal: Any) -> None:
    result = analyze(policy(allow(Principal=principal)))
    assert not result.is_public
    assert result.reason() == "no Allow statement of its policy grants access to everyone"


def test_not_principal_in_an_allow_is_public() -> None:
    statement = allow(Principal=None, NotPrincipal={"AWS": "arn:aws:iam::111122223333:root"})
    result = analyze(policy(statement))
    assert result.is_public
    assert "NotPrincipal" in result.public[0].why


def test_deny_statements_are_ignored() -> None:
    assert not analyze(policy(allow(Effect="Deny"))).is_public
    deny_not_principal = allow(
        Effect="Deny", Principal=None, NotPrincipal={"AWS": "arn:aws:iam::1:root"}
    )
    assert not analyze(policy(deny_not_principal)).is_public


def test_a_public_statement_is_found_among_private_ones() -> None:
    private = allow(Sid="Owner", Principal={"AWS": "arn:aws:iam::123456789012:root"})
    anonymous = allow(Sid=None)
    result = analyze(policy(private, anonymous))
    assert [s.label for s in result.public] == ["statement #2"]


def test_single_statement_object_and_json_string_are_read() -> None:
    document = {"Version": "2012-10-17", "Statement": allow()}
    assert analyze(document).is_public
    assert analyze(json.dumps(document)).is_public


# --------------------------------------------------------------------------- conditions


@pytest.mark.parametrize(
    ("condition", "shown"),
    [
        ({"StringEquals": {"aws:SourceAccount": "123456789012"}}, "aws:SourceAccount"),
        ({"StringEquals": {"AWS:SourceOwner": "123456789012"}}, "AWS:SourceOwner"),
        ({"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:t"}}, "SourceArn"),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::my-logs"}}, "aws:SourceArn"),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:events:*:123456789012:rule/*"}}, "SourceArn"),
        ({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}, "aws:PrincipalOrgID"),
        ({"StringEquals": {"aws:PrincipalAccount": ["111122223333", "4444"]}}, "Account"),
        ({"StringEquals": {"aws:SourceVpc": "vpc-1234"}}, "aws:SourceVpc"),
        ({"StringEquals": {"aws:SourceVpce": "vpce-1234"}}, "aws:SourceVpce"),
        ({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::1111:role/x"}}, "PrincipalArn"),
        ({"StringEquals": {"kms:CallerAccount": "123456789012"}}, "kms:CallerAccount"),
        ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, "aws:SourceIp"),
        ({"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": "o-abc"}}, "PrincipalOrgID"),
        ({"StringLike": {"aws:PrincipalOrgPaths": "o-a/r-b/ou-c/"}}, "PrincipalOrgPaths"),
        ({"StringLike": {"aws:PrincipalOrgPaths": "o-a1b2/r-ab12/ou-ab12-1/*"}}, "OrgPaths"),
        ({"StringLike": {"aws:SourceOrgPaths": "o-a1b2/*"}}, "aws:SourceOrgPaths"),
    ],
)
def test_a_condition_that_pins_the_caller_makes_it_private(
    condition: dict[str, Any], shown: str
) -> None:
    result = analyze(policy(allow(Condition=condition)))
    assert not result.is_public
    assert result.pinned[0][0] == "statement 'Open'"
    assert shown in result.pinned[0][1]
    assert "pin the caller" in result.reason()


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:SourceAccount": "*"}},
        {"StringLike": {"aws:PrincipalOrgPaths": "o-*/*"}},
        {"StringLike": {"aws:PrincipalOrgPaths": "*"}},
        {"StringLike": {"aws:SourceAccount": "1234*"}},
        {"StringEquals": {"aws:SourceAccount": ["123456789012", "*"]}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:*:topic"}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}},
        {"ArnLike": {"aws:SourceArn": "*"}},
        {"StringNotEquals": {"aws:SourceAccount": "123456789012"}},
        {"StringEqualsIfExists": {"aws:SourceAccount": "123456789012"}},
        {"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
        {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}},
        {"IpAddress": {"aws:SourceIp": "10.0.0.0/7"}},
        {"IpAddress": {"aws:SourceIp": "::/0"}},
        {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
        {"Bool": {"aws:SecureTransport": "true"}},
        {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
        {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
        {"Null": {"aws:SourceAccount": "false"}},
        {"StringEquals": {"aws:SourceAccount": []}},
        {"StringEquals": "aws:SourceAccount"},
        "not a condition",
    ],
)
def test_conditions_that_do_not_pin_leave_it_public(condition: Any) -> None:
    assert analyze(policy(allow(Condition=condition))).is_public


def test_via_service_with_a_caller_account_is_pinned_by_the_account() -> None:
    condition = {
        "StringEquals": {
            "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com",
            "kms:CallerAccount": "123456789012",
        }
    }
    result = analyze(policy(allow(Action="kms:Decrypt", Condition=condition)))
    assert not result.is_public
    assert result.pinned == (("statement 'Open'", "StringEquals kms:CallerAccount = 123456789012"),)


def test_one_pinning_key_among_other_conditions_is_enough() -> None:
    condition = {
        "Bool": {"aws:SecureTransport": "true"},
        "StringEquals": {"aws:SourceAccount": "123456789012"},
    }
    assert not analyze(policy(allow(Condition=condition))).is_public


# --------------------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    ("document", "note"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "a JSON list, not an object"),
        (42, "a JSON int, not an object"),
        ({"Version": "2012-10-17"}, "the policy has no Statement"),
    ],
)
def test_malformed_policies_are_not_public_with_a_note(document: Any, note: str) -> None:
    result = analyze(document)
    assert not result.is_public
    assert result.present
    assert note in result.note
    assert note in summary("Queue 'orders'", result)
    assert result.details()["note"] == result.note


def test_statements_that_are_not_objects_are_noted_and_the_rest_read() -> None:
    result = analyze({"Statement": ["junk", allow()]})
    assert result.is_public
    assert result.note == "statement(s) #1 are not JSON objects and were not read"
    private = analyze({"Statement": ["junk", allow(Principal={"AWS": "111122223333"})]})
    sentence = summary("Queue 'orders'", private)
    assert sentence.startswith("Queue 'orders' is not public: no Allow statement")
    assert "#1 are not JSON objects" in sentence


@pytest.mark.parametrize("document", [None, "", {}])
def test_no_policy_is_private(document: Any) -> None:
    result = analyze(document)
    assert (result.present, result.is_public, result.note) == (False, False, "")
    assert summary("Secret 'db'", result) == "Secret 'db' is not public: it has no resource policy."


# --------------------------------------------------------------------------- actions


@pytest.mark.parametrize(
    "action",
    [
        "s3:PutObject",
        "s3:DeleteObject",
        "S3:putobjectacl",
        "s3:*",
        "*",
        "s3:Put*",
        "s3:P*",
        "s3:*Object",
        "s3:Delete*",
        "s3:RestoreObject",
        "s3:?utObject",
        "sqs:SendMessage",
        "sns:Publish",
        "events:PutEvents",
    ],
)
def test_write_actions(action: str) -> None:
    assert write_actions(allow(Action=["s3:GetObject", action])) == [action]


@pytest.mark.parametrize(
    "action",
    ["s3:GetObject", "s3:Get*", "s3:List*", "s3:GetObjectVersion", "sqs:ReceiveMessage"],
)
def test_read_actions(action: str) -> None:
    assert write_actions(allow(Action=action)) == []


def test_not_action_in_an_allow_counts_as_write() -> None:
    statement = allow(Action=None, NotAction="s3:DeleteObject")
    assert write_actions(statement) == ["NotAction s3:DeleteObject"]
    result = analyze(policy(statement))
    assert "every action but s3:DeleteObject" in result.reason()


def test_public_writes_split_from_public_reads() -> None:
    read = allow(Sid="Read", Action="s3:GetObject")
    write = allow(Sid="Write", Action=["s3:GetObject", "s3:PutObject"])
    result = analyze(policy(read, write))
    assert [s.label for s in result.public] == ["statement 'Read'", "statement 'Write'"]
    assert [s.label for s in result.public_writes] == ["statement 'Write'"]
    assert result.public_writes[0].writes == ("s3:PutObject",)
    assert result.details()["public_statements"][1]["write_actions"] == ["s3:PutObject"]


def test_summary_names_the_statement_and_why() -> None:
    result = analyze(policy(allow(Sid="Anyone")))
    assert summary("Queue 'orders'", result) == (
        "Queue 'orders' is public: statement 'Anyone' allows sqs:SendMessage to everyone "
        '(its Principal is "*") with no condition that pins the caller to known accounts, '
        "organisations or networks."
    )
    json.dumps(result.details())


def test_glob_stays_linear_on_hostile_patterns() -> None:
    assert not glob_match("a*" * 30 + "b", "a" * 5000)
    assert glob_match("s3:*Object", "s3:PutObject")
