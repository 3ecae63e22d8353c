"""Pure tests of the logging checks: CloudTrail (3.1-3.4, 3.6, 3.7, 3.10, 3.11), AWS Config
(3.5) and KMS rotation (3.8). Plain data in, verdicts out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from findings.checks import REGISTRY
from findings.checks.base import GLOBAL, Result, Unit
from tests.checks.evidence import checked

ACCOUNT = "123456789012"
UNIT = Unit(ACCOUNT, GLOBAL)
REGION_UNIT = Unit(ACCOUNT, "eu-west-1")
ACCOUNT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
NOW = "2024-05-01T12:00:00+00:00"
ALL_MANAGEMENT = {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}


def run(check_id: str, data: dict[str, Any], unit: Unit = UNIT) -> list[Result]:
    return checked(REGISTRY[check_id].run(data, unit))


def only(check_id: str, data: dict[str, Any], unit: Unit = UNIT) -> Result:
    results = run(check_id, data, unit)
    assert len(results) == 1, results
    return results[0]


def trail(
    name: str = "main",
    *,
    multi_region: bool = True,
    logging: bool = True,
    selectors: list[dict[str, Any]] | None = None,
    advanced: list[dict[str, Any]] | None = None,
    owned: bool = True,
    region: str = "us-east-1",
    **described: Any,
) -> dict[str, Any]:
    account = ACCOUNT if owned else "999999999999"
    arn = f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"
    return {
        "arn": arn,
        "name": name,
        "home_region": region,
        "owned": owned,
        "trail": {
            "Name": name,
            "TrailARN": arn,
            "HomeRegion": region,
            "S3BucketName": "trail-logs",
            "IsMultiRegionTrail": multi_region,
            "IncludeGlobalServiceEvents": True,
            "LogFileValidationEnabled": False,
            **described,
        },
        "status": {"IsLogging": logging},
        "event_selectors": [ALL_MANAGEMENT]
        if selectors is None and advanced is None
        else (selectors or []),
        "advanced_event_selectors": advanced or [],
    }


def cloudtrail_data(*trails: dict[str, Any], buckets: dict[str, Any] | None = None) -> dict:
    return {
        "collected_at": NOW,
        "account_id": ACCOUNT,
        "trails": list(trails),
        "buckets": buckets if buckets is not None else {"trail-logs": bucket()},
    }


def bucket(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "exists": True,
        "acl_grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": "owner"}, "Permission": "FULL_CONTROL"}
        ],
        "policy": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AWSCloudTrailWrite",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": "arn:aws:s3:::trail-logs/AWSLogs/*",
                }
            ],
        },
        "public_access_block": None,
        "logging": None,
    }
    return {**base, **overrides}


def field(name: str, **ops: list[str]) -> dict[str, Any]:
    return {"Field": name, **ops}


# --------------------------------------------------------------------------- 3.1


def test_3_1_passes_with_a_multi_region_logging_trail() -> None:
    result = only("cloudtrail_multi_region_trail_logging", cloudtrail_data(trail()))
    assert result.status == "pass"
    assert result.resource_arn == ACCOUNT_ARN
    assert "'main'" in result.summary


def test_3_1_fails_without_trails() -> None:
    result = only("cloudtrail_multi_region_trail_logging", cloudtrail_data())
    assert result.status == "fail"
    assert "no CloudTrail trail" in result.summary


def test_3_1_fails_when_the_multi_region_trail_is_not_logging() -> None:
    data = cloudtrail_data(trail("stopped", logging=False), trail("local", multi_region=False))
    result = only("cloudtrail_multi_region_trail_logging", data)
    assert result.status == "fail"
    assert "'stopped' is not logging" in result.summary
    assert "'local' is not multi-region" in result.summary


def test_3_1_fails_when_only_read_management_events_are_recorded() -> None:
    data = cloudtrail_data(
        trail(selectors=[{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}])
    )
    result = only("cloudtrail_multi_region_trail_logging", data)
    assert result.status == "fail"
    assert "records only read management events" in result.summary


def test_3_1_read_and_write_selectors_together_record_all() -> None:
    data = cloudtrail_data(
        trail(
            selectors=[
                {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True},
                {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True},
            ]
        )
    )
    assert only("cloudtrail_multi_region_trail_logging", data).status == "pass"


def test_3_1_fails_when_management_events_are_excluded() -> None:
    data = cloudtrail_data(
        trail(selectors=[{"ReadWriteType": "All", "IncludeManagementEvents": False}])
    )
    result = only("cloudtrail_multi_region_trail_logging", data)
    assert result.status == "fail"
    assert "records no management events" in result.summary


def test_3_1_accepts_advanced_selectors_for_management_events() -> None:
    advanced = [{"Name": "mgmt", "FieldSelectors": [field("eventCategory", Equals=["Management"])]}]
    assert (
        only(
            "cloudtrail_multi_region_trail_logging", cloudtrail_data(trail(advanced=advanced))
        ).status
        == "pass"
    )


def test_3_1_advanced_selector_limited_to_writes_fails() -> None:
    advanced = [
        {
            "Name": "mgmt writes",
            "FieldSelectors": [
                field("eventCategory", Equals=["Management"]),
                field("readOnly", Equals=["false"]),
            ],
        }
    ]
    result = only(
        "cloudtrail_multi_region_trail_logging", cloudtrail_data(trail(advanced=advanced))
    )
    assert result.status == "fail"
    assert "only write" in result.summary


@pytest.mark.parametrize(
    ("read_only", "recorded"),
    [
        ({"Equals": ["false"]}, "write"),
        ({"Equals": ["true"]}, "read"),
        ({"NotEquals": ["true"]}, "write"),
        ({"NotEquals": ["false"]}, "read"),
    ],
)
def test_3_1_advanced_selector_recording_one_kind_of_management_event_fails(
    read_only: dict[str, list[str]], recorded: str
) -> None:
    # The shape the console writes for "Management events: Write only".
    advanced = [
        {
            "Name": "Management events selector",
            "FieldSelectors": [
                field("eventCategory", Equals=["Management"]),
                field("readOnly", **read_only),
            ],
        }
    ]
    result = only(
        "cloudtrail_multi_region_trail_logging", cloudtrail_data(trail(advanced=advanced))
    )
    assert result.status == "fail"
    assert f"'main' records only {recorded} management events" in result.summary
    assert result.details["trails"][0]["management_events"] == [recorded]


@pytest.mark.parametrize(
    "selectors",
    [
        # Selectors are ORed: a read-only and a write-only selector record everything.
        [
            [field("eventCategory", Equals=["Management"]), field("readOnly", Equals=["true"])],
            [field("eventCategory", Equals=["Management"]), field("readOnly", Equals=["false"])],
        ],
        [
            [
                field("eventCategory", Equals=["Management"]),
                field("readOnly", Equals=["true", "false"]),
            ]
        ],
    ],
)
def test_3_1_advanced_selectors_covering_reads_and_writes_pass(
    selectors: list[list[dict[str, Any]]],
) -> None:
    advanced = [{"FieldSelectors": fields} for fields in selectors]
    result = only(
        "cloudtrail_multi_region_trail_logging", cloudtrail_data(trail(advanced=advanced))
    )
    assert result.status == "pass"
    assert result.details["management_events"] == ["read", "write"]


def test_3_1_data_event_selectors_alone_record_no_management_events() -> None:
    advanced = [
        {
            "FieldSelectors": [
                field("eventCategory", Equals=["Data"]),
                field("resources.type", Equals=["AWS::S3::Object"]),
            ]
        }
    ]
    result = only(
        "cloudtrail_multi_region_trail_logging", cloudtrail_data(trail(advanced=advanced))
    )
    assert result.status == "fail"
    assert "'main' records no management events" in result.summary


def test_3_1_a_trail_leaving_out_global_service_events_fails() -> None:
    data = cloudtrail_data(trail(IncludeGlobalServiceEvents=False))
    result = only("cloudtrail_multi_region_trail_logging", data)
    assert result.status == "fail"
    assert "'main' does not include global service events" in result.summary


def test_3_1_counts_an_organization_trail_owned_elsewhere() -> None:
    data = cloudtrail_data(trail("org", owned=False, IsOrganizationTrail=True))
    assert only("cloudtrail_multi_region_trail_logging", data).status == "pass"


# --------------------------------------------------------------------------- per-trail checks


def test_3_2_log_file_validation() -> None:
    data = cloudtrail_data(trail("on", LogFileValidationEnabled=True), trail("off"))
    results = {
        r.resource_arn.rsplit("/", 1)[-1]: r
        for r in run("cloudtrail_log_file_validation_enabled", data)
    }
    assert results["on"].status == "pass"
    assert results["off"].status == "fail"
    assert "disabled" in results["off"].summary


def test_per_trail_checks_skip_trails_owned_by_another_account() -> None:
    data = cloudtrail_data(trail("org", owned=False))
    for check_id in (
        "cloudtrail_log_file_validation_enabled",
        "cloudtrail_bucket_not_public",
        "cloudtrail_cloudwatch_logs_delivering",
        "cloudtrail_bucket_access_logging_enabled",
        "cloudtrail_kms_encryption_enabled",
    ):
        assert run(check_id, data) == []


def test_3_3_private_bucket_passes() -> None:
    result = only("cloudtrail_bucket_not_public", cloudtrail_data(trail()))
    assert result.status == "pass"
    assert result.resource_arn.endswith(":trail/main")


def test_3_3_public_acl_fails() -> None:
    grants = [
        {
            "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
            "Permission": "READ",
        }
    ]
    data = cloudtrail_data(trail(), buckets={"trail-logs": bucket(acl_grants=grants)})
    result = only("cloudtrail_bucket_not_public", data)
    assert result.status == "fail"
    assert "AllUsers" in result.summary
    assert result.details["public_acl_grants"] == grants


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["*"]}])
def test_3_3_policy_allowing_everyone_fails(principal: Any) -> None:
    policy = {
        "Statement": [
            {
                "Sid": "Open",
                "Effect": "Allow",
                "Principal": principal,
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::trail-logs/*",
            }
        ]
    }
    data = cloudtrail_data(trail(), buckets={"trail-logs": bucket(policy=policy)})
    result = only("cloudtrail_bucket_not_public", data)
    assert result.status == "fail"
    assert "statement 'Open'" in result.summary


def test_3_3_principal_star_pinned_by_a_condition_is_not_public() -> None:
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::trail-logs/*",
                "Condition": {"StringEquals": {"aws:SourceArn": "arn:aws:cloudtrail:x"}},
            }
        ]
    }
    data = cloudtrail_data(trail(), buckets={"trail-logs": bucket(policy=policy)})
    assert only("cloudtrail_bucket_not_public", data).status == "pass"


def test_3_3_wildcard_condition_does_not_restrict() -> None:
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::trail-logs/*",
                "Condition": {"StringLike": {"aws:PrincipalOrgID": "*"}},
            }
        ]
    }
    data = cloudtrail_data(trail(), buckets={"trail-logs": bucket(policy=policy)})
    assert only("cloudtrail_bucket_not_public", data).status == "fail"


TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main"


def open_to_all(condition: dict[str, Any]) -> dict[str, Any]:
    return {
        "Sid": "OpenToAll",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::trail-logs/AWSLogs/*",
        "Condition": condition,
    }


def policy_verdict(*statements: dict[str, Any]) -> Result:
    policy = {"Version": "2012-10-17", "Statement": list(statements)}
    data = cloudtrail_data(trail(), buckets={"trail-logs": bucket(policy=policy)})
    return only("cloudtrail_bucket_not_public", data)


@pytest.mark.parametrize(
    "condition",
    [
        # IfExists also matches a request without the key: an anonymous caller has none.
        {"StringEqualsIfExists": {"aws:SourceArn": TRAIL_ARN}},
        {"ArnEqualsIfExists": {"aws:SourceArn": TRAIL_ARN}},
        {"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}},
        # Every address there is.
        {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}},
        {"IpAddress": {"aws:SourceIp": "::/0"}},
        {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "0.0.0.0/0"]}},
        # A wildcard among the values lets anyone through.
        {"StringLike": {"aws:SourceArn": [TRAIL_ARN, "*"]}},
        {"StringLike": {"aws:SourceAccount": [ACCOUNT, "1234567890?2"]}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:*"}},
        # Negations name who is kept out, not who is let in.
        {"StringNotEquals": {"aws:SourceAccount": ACCOUNT}},
        {"ArnNotEquals": {"aws:SourceArn": TRAIL_ARN}},
        {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
        # A key that says nothing about the caller.
        {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
        {"StringEquals": {"aws:SourceArn": []}},
    ],
)
def test_3_3_a_condition_that_restricts_nothing_leaves_the_bucket_public(
    condition: dict[str, Any],
) -> None:
    statement = open_to_all(condition)
    result = policy_verdict(statement)
    assert result.status == "fail"
    assert "statement 'OpenToAll'" in result.summary
    assert result.details["public_policy_statements"] == [statement]


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:SourceOrgID": "o-a1b2c3d4e5"}},
        {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
        {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        {"StringEquals": {"AWS:SourceAccount": [ACCOUNT, "210987654321"]}},
        {"ArnEquals": {"aws:SourceArn": TRAIL_ARN}},
        {"StringEquals": {"aws:SourceArn": TRAIL_ARN}},
        {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
        {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
        # One restricting key is enough; the IfExists one beside it adds nothing.
        {
            "StringEqualsIfExists": {"aws:SourceArn": TRAIL_ARN},
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
        },
        {
            "StringEquals": {
                "s3:x-amz-acl": "bucket-owner-full-control",
                "aws:SourceAccount": ACCOUNT,
            }
        },
    ],
)
def test_3_3_a_condition_pinning_the_caller_keeps_the_bucket_private(
    condition: dict[str, Any],
) -> None:
    result = policy_verdict(open_to_all(condition))
    assert result.status == "pass"
    assert result.details["public_policy_statements"] == []


def test_3_3_only_allow_statements_open_a_bucket() -> None:
    deny = {**open_to_all({}), "Effect": "Deny"}
    del deny["Condition"]
    assert policy_verdict(deny).status == "pass"


def test_3_3_names_every_public_grant_and_statement() -> None:
    grants = [
        {
            "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
            "Permission": "READ",
        },
        {
            "Grantee": {
                "Type": "Group",
                "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
            },
            "Permission": "WRITE",
        },
        {"Grantee": {"Type": "CanonicalUser", "ID": "owner"}, "Permission": "FULL_CONTROL"},
    ]
    anonymous = {**open_to_all({}), "Sid": ""}
    del anonymous["Condition"]
    policy = {"Statement": [open_to_all({"IpAddress": {"aws:SourceIp": "::/0"}}), anonymous]}
    data = cloudtrail_data(
        trail(), buckets={"trail-logs": bucket(acl_grants=grants, policy=policy)}
    )
    result = only("cloudtrail_bucket_not_public", data)
    assert result.status == "fail"
    assert "its ACL grants access to AllUsers and AuthenticatedUsers" in result.summary
    assert "in statement 'OpenToAll', a statement" in result.summary
    assert result.details["public_acl_grants"] == grants[:2]
    assert result.details["acl_blocked"] is False
    assert result.details["policy_blocked"] is False


@pytest.mark.parametrize(
    ("block", "still_public"),
    [
        ({"IgnorePublicAcls": True}, "its policy allows everyone"),
        ({"RestrictPublicBuckets": True}, "its ACL grants access to AllUsers"),
    ],
)
def test_3_3_block_public_access_neutralises_only_what_it_covers(
    block: dict[str, bool], still_public: str
) -> None:
    grants = [
        {
            "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
            "Permission": "READ",
        }
    ]
    statement = {"Sid": "Open", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*"}
    data = cloudtrail_data(
        trail(),
        buckets={
            "trail-logs": bucket(
                acl_grants=grants, policy={"Statement": statement}, public_access_block=block
            )
        },
    )
    result = only("cloudtrail_bucket_not_public", data)
    assert result.status == "fail"
    assert still_public in result.summary
    assert result.details["public_access_block"] == block


def test_3_3_block_public_access_neutralises_public_grants() -> None:
    grants = [
        {
            "Grantee": {
                "Type": "Group",
                "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
            },
            "Permission": "READ",
        }
    ]
    policy = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*"}]}
    block = {"IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    data = cloudtrail_data(
        trail(),
        buckets={"trail-logs": bucket(acl_grants=grants, policy=policy, public_access_block=block)},
    )
    result = only("cloudtrail_bucket_not_public", data)
    assert result.status == "pass"
    assert "neutralise" in result.summary


def test_3_3_and_3_6_fail_when_the_bucket_is_gone() -> None:
    data = cloudtrail_data(trail(), buckets={"trail-logs": {"exists": False}})
    assert only("cloudtrail_bucket_not_public", data).status == "fail"
    result = only("cloudtrail_bucket_access_logging_enabled", data)
    assert result.status == "fail"
    assert "does not exist" in result.summary


def test_3_4_recent_delivery_passes() -> None:
    data = cloudtrail_data(
        trail(CloudWatchLogsLogGroupArn="arn:aws:logs:us-east-1:1:log-group:trail:*")
    )
    data["trails"][0]["status"]["LatestCloudWatchLogsDeliveryTime"] = "2024-05-01T09:00:00+00:00"
    result = only("cloudtrail_cloudwatch_logs_delivering", data)
    assert result.status == "pass"
    assert "3 hours" in result.summary


def test_3_4_stale_delivery_fails() -> None:
    data = cloudtrail_data(
        trail(CloudWatchLogsLogGroupArn="arn:aws:logs:us-east-1:1:log-group:trail:*")
    )
    data["trails"][0]["status"]["LatestCloudWatchLogsDeliveryTime"] = "2024-04-28T12:00:00+00:00"
    result = only("cloudtrail_cloudwatch_logs_delivering", data)
    assert result.status == "fail"
    assert "3 days" in result.summary


@pytest.mark.parametrize(
    ("delivered", "status", "said"),
    [
        ("2024-04-30T13:00:00+00:00", "pass", "23 hours before the scan."),
        ("2024-04-30T12:00:00+00:00", "pass", "24 hours before the scan."),
        ("2024-04-30T11:00:00+00:00", "fail", "25 hours before the scan, more than a day ago."),
        ("2024-04-30T00:00:00+00:00", "fail", "36 hours before the scan, more than a day ago."),
        # Another offset, and a time without one (read as UTC), mean the same instants.
        ("2024-04-30T15:00:00+02:00", "pass", "23 hours"),
        ("2024-04-30T11:00:00", "fail", "25 hours"),
    ],
)
def test_3_4_a_delivery_counts_for_one_day(delivered: str, status: str, said: str) -> None:
    group = "arn:aws:logs:us-east-1:123456789012:log-group:aws-cloudtrail-logs:*"
    data = cloudtrail_data(trail(CloudWatchLogsLogGroupArn=group))
    data["trails"][0]["status"]["LatestCloudWatchLogsDeliveryTime"] = delivered
    result = only("cloudtrail_cloudwatch_logs_delivering", data)
    assert result.status == status
    assert said in result.summary
    assert result.details["LatestCloudWatchLogsDeliveryTime"] == delivered
    assert result.details["CloudWatchLogsLogGroupArn"] == group


def test_3_4_without_log_group_or_delivery_fails() -> None:
    data = cloudtrail_data(
        trail("none"),
        trail("never", CloudWatchLogsLogGroupArn="arn:aws:logs:us-east-1:1:log-group:t:*"),
    )
    data["trails"][1]["status"]["LatestCloudWatchLogsDeliveryError"] = "AccessDenied"
    results = {
        r.resource_arn.rsplit("/", 1)[-1]: r
        for r in run("cloudtrail_cloudwatch_logs_delivering", data)
    }
    assert results["none"].status == "fail"
    assert "does not send" in results["none"].summary
    assert results["never"].status == "fail"
    assert "never delivered" in results["never"].summary
    assert "AccessDenied" in results["never"].summary


def test_3_6_access_logging() -> None:
    logged = bucket(logging={"TargetBucket": "access-logs", "TargetPrefix": "trail/"})
    assert (
        only(
            "cloudtrail_bucket_access_logging_enabled",
            cloudtrail_data(trail(), buckets={"trail-logs": logged}),
        ).status
        == "pass"
    )
    result = only("cloudtrail_bucket_access_logging_enabled", cloudtrail_data(trail()))
    assert result.status == "fail"
    assert "server access logging disabled" in result.summary


def test_3_7_kms_encryption() -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/abc"
    data = cloudtrail_data(trail("enc", KmsKeyId=key), trail("plain"))
    results = {
        r.resource_arn.rsplit("/", 1)[-1]: r for r in run("cloudtrail_kms_encryption_enabled", data)
    }
    assert results["enc"].status == "pass"
    assert key in results["enc"].summary
    assert results["plain"].status == "fail"


# --------------------------------------------------------------------------- 3.10 / 3.11

WRITE, READ = "cloudtrail_s3_write_data_events_logged", "cloudtrail_s3_read_data_events_logged"


def s3_selector(rw: str, values: list[str]) -> dict[str, Any]:
    return {
        "ReadWriteType": rw,
        "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": values}],
    }


@pytest.mark.parametrize("value", ["arn:aws:s3", "arn:aws:s3:::"])
def test_3_10_and_3_11_pass_with_all_buckets_selector(value: str) -> None:
    data = cloudtrail_data(trail(selectors=[s3_selector("All", [value])]))
    assert only(WRITE, data).status == "pass"
    assert only(READ, data).status == "pass"


def test_write_only_selector_passes_3_10_and_fails_3_11() -> None:
    data = cloudtrail_data(trail(selectors=[s3_selector("WriteOnly", ["arn:aws:s3"])]))
    assert only(WRITE, data).status == "pass"
    result = only(READ, data)
    assert result.status == "fail"
    assert result.resource_arn == ACCOUNT_ARN


def test_selector_for_some_buckets_does_not_count() -> None:
    data = cloudtrail_data(trail(selectors=[s3_selector("All", ["arn:aws:s3:::images/"])]))
    result = only(WRITE, data)
    assert result.status == "fail"
    assert "only for some buckets" in result.summary
    assert result.details["trails"][0]["partial_selectors"]


def test_data_events_on_a_stopped_or_single_region_trail_do_not_count() -> None:
    data = cloudtrail_data(
        trail("stopped", logging=False, selectors=[s3_selector("All", ["arn:aws:s3"])]),
        trail("local", multi_region=False, selectors=[s3_selector("All", ["arn:aws:s3"])]),
    )
    result = only(WRITE, data)
    assert result.status == "fail"
    assert "'stopped' is not logging" in result.summary
    assert "'local' is not multi-region" in result.summary


def test_advanced_selectors_for_s3_objects() -> None:
    advanced = [
        {"Name": "mgmt", "FieldSelectors": [field("eventCategory", Equals=["Management"])]},
        {
            "Name": "s3 reads",
            "FieldSelectors": [
                field("eventCategory", Equals=["Data"]),
                field("resources.type", Equals=["AWS::S3::Object"]),
                field("readOnly", Equals=["true"]),
            ],
        },
    ]
    data = cloudtrail_data(trail(advanced=advanced))
    assert only(READ, data).status == "pass"
    assert only(WRITE, data).status == "fail"
    assert only("cloudtrail_multi_region_trail_logging", data).status == "pass"


def test_advanced_selector_with_all_buckets_prefix_counts_but_bucket_prefix_does_not() -> None:
    def selector(prefix: str) -> dict[str, Any]:
        return {
            "FieldSelectors": [
                field("eventCategory", Equals=["Data"]),
                field("resources.type", Equals=["AWS::S3::Object"]),
                field("resources.ARN", StartsWith=[prefix]),
            ]
        }

    assert only(WRITE, cloudtrail_data(trail(advanced=[selector("arn:aws:s3:::")]))).status == (
        "pass"
    )
    result = only(WRITE, cloudtrail_data(trail(advanced=[selector("arn:aws:s3:::images/")])))
    assert result.status == "fail"
    assert "resources.ARN" in json.dumps(result.details)


def test_no_trails_fails_object_logging() -> None:
    assert only(WRITE, cloudtrail_data()).status == "fail"


# --------------------------------------------------------------------------- 3.5 AWS Config

CONFIG = "config_recorder_recording_all_resources"
SETTINGS_ARN = "arn:aws:config:eu-west-1:123456789012:regional-settings"


def config_data(
    *, all_supported: bool = True, recording: bool = True, last: str = "SUCCESS", globals_=True
) -> dict[str, Any]:
    return {
        "region": "eu-west-1",
        "recorders": [
            {
                "name": "default",
                "recordingGroup": {
                    "allSupported": all_supported,
                    "includeGlobalResourceTypes": globals_,
                    "resourceTypes": [] if all_supported else ["AWS::EC2::Instance"],
                },
            }
        ],
        "statuses": [{"name": "default", "recording": recording, "lastStatus": last}],
        "delivery_channels": [{"name": "default", "s3BucketName": "config"}],
    }


def test_3_5_recording_everything_passes() -> None:
    result = only(CONFIG, config_data(), REGION_UNIT)
    assert result.status == "pass"
    assert result.resource_arn == SETTINGS_ARN
    assert "including global resource types" in result.summary


def test_3_5_global_types_are_not_required_in_every_region() -> None:
    result = only(CONFIG, config_data(globals_=False), REGION_UNIT)
    assert result.status == "pass"
    assert result.details["recordingGroup"]["includeGlobalResourceTypes"] is False


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"all_supported": False}, "does not record all supported resource types"),
        ({"recording": False}, "is not recording"),
        ({"last": "FAILURE"}, "last status is FAILURE"),
        ({"last": "PENDING"}, "last status is PENDING"),
    ],
)
def test_3_5_failures(overrides: dict[str, Any], expected: str) -> None:
    result = only(CONFIG, config_data(**overrides), REGION_UNIT)
    assert result.status == "fail"
    assert expected in result.summary


def test_3_5_no_recorder_fails() -> None:
    data = {"region": "eu-west-1", "recorders": [], "statuses": [], "delivery_channels": []}
    result = only(CONFIG, data, REGION_UNIT)
    assert result.status == "fail"
    assert "no configuration recorder in eu-west-1" in result.summary


# --------------------------------------------------------------------------- 3.8 KMS

KMS = "kms_key_rotation_enabled"


def key(key_id: str, *, rotation: bool | None, **metadata: Any) -> dict[str, Any]:
    meta = {
        "KeyId": key_id,
        "KeyManager": "CUSTOMER",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "KeyState": "Enabled",
        "Origin": "AWS_KMS",
        **metadata,
    }
    eligible = (
        meta["KeyManager"] == "CUSTOMER"
        and meta["KeySpec"] == "SYMMETRIC_DEFAULT"
        and meta["KeyState"] == "Enabled"
        and meta["Origin"] == "AWS_KMS"
    )
    return {
        "arn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{key_id}",
        "metadata": meta,
        "aliases": [f"alias/{key_id}"],
        "eligible": eligible,
        "rotation": {"KeyRotationEnabled": rotation} if rotation is not None else None,
    }


def test_3_8_rotation() -> None:
    data = {
        "keys": [
            key("rotating", rotation=True),
            key("static", rotation=False),
        ]
    }
    results = {r.resource_arn.rsplit("/", 1)[-1]: r for r in run(KMS, data, REGION_UNIT)}
    assert results["rotating"].status == "pass"
    assert results["static"].status == "fail"
    assert "alias/static" in results["static"].summary


@pytest.mark.parametrize(
    "metadata",
    [
        {"KeyManager": "AWS"},
        {"KeySpec": "RSA_2048"},
        {"KeySpec": "HMAC_256"},
        {"KeyState": "Disabled"},
        {"KeyState": "PendingDeletion"},
        {"Origin": "EXTERNAL"},
    ],
)
def test_3_8_skips_keys_rotation_does_not_apply_to(metadata: dict[str, Any]) -> None:
    assert run(KMS, {"keys": [key("other", rotation=None, **metadata)]}, REGION_UNIT) == []


def test_3_1_reports_excluded_management_event_sources() -> None:
    selector = {
        "ReadWriteType": "All",
        "IncludeManagementEvents": True,
        "ExcludeManagementEventSources": ["kms.amazonaws.com"],
    }
    result = only(
        "cloudtrail_multi_region_trail_logging", cloudtrail_data(trail(selectors=[selector]))
    )
    assert result.status == "pass"
    assert "except those of kms.amazonaws.com" in result.summary
    assert result.details["excluded_event_sources"] == ["kms.amazonaws.com"]


def test_3_8_evidence_names_the_key_and_its_rotation() -> None:
    rotating = key("orders", rotation=True)
    rotating["rotation"]["RotationPeriodInDays"] = 180
    unnamed = key("6f1c2d3e", rotation=False)
    unnamed["aliases"] = []
    described_by_arn = key("by-arn", rotation=None)
    del described_by_arn["metadata"]["KeyId"]
    described_by_arn["aliases"] = []
    results = {
        r.resource_arn.rsplit("/", 1)[-1]: r
        for r in run(KMS, {"keys": [rotating, unnamed, described_by_arn]}, REGION_UNIT)
    }
    assert results["orders"].status == "pass"
    assert results["orders"].summary == (
        "Key orders (alias/orders) rotates automatically every 180 days."
    )
    assert results["orders"].details == {
        "KeySpec": "SYMMETRIC_DEFAULT",
        "KeyManager": "CUSTOMER",
        "KeyState": "Enabled",
        "Origin": "AWS_KMS",
        "KeyRotationEnabled": True,
        "RotationPeriodInDays": 180,
    }
    assert results["6f1c2d3e"].status == "fail"
    assert results["6f1c2d3e"].summary == (
        "Key 6f1c2d3e is a customer managed symmetric key without automatic rotation."
    )
    assert results["6f1c2d3e"].details["KeyRotationEnabled"] is False
    # A key whose rotation status could not be read has no rotation.
    assert results["by-arn"].status == "fail"
    assert results["by-arn"].summary.startswith(
        f"Key arn:aws:kms:eu-west-1:{ACCOUNT}:key/by-arn is a customer managed"
    )


def test_3_8_a_key_not_marked_eligible_is_skipped() -> None:
    # The collector marks eligibility from the key's metadata; the check trusts it.
    ineligible = key("imported", rotation=False)
    ineligible["eligible"] = False
    assert run(KMS, {"keys": [ineligible]}, REGION_UNIT) == []
    assert run(KMS, {}, REGION_UNIT) == []


# --------------------------------------------------------------------------- evidence, edges


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("aws:SourceArn", "arn:aws:cloudtrail:us-east-1:123456789012:trail/main"),
        ("aws:SourceAccount", ACCOUNT),
        ("aws:SourceOwner", ACCOUNT),
        ("aws:SourceOrgID", "o-a1b2c3d4e5"),
        ("aws:SourceOrgPaths", "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"),
        ("aws:SourceVpc", "vpc-1a2b3c4d"),
        ("aws:SourceVpce", "vpce-1a2b3c4d"),
        ("aws:SourceIp", "203.0.113.0/24"),
        ("aws:PrincipalOrgID", "o-a1b2c3d4e5"),
        ("aws:PrincipalOrgPaths", "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"),
        ("aws:PrincipalAccount", ACCOUNT),
        ("aws:PrincipalArn", f"arn:aws:iam::{ACCOUNT}:role/log-reader"),
        ("aws:userid", "AROAEXAMPLEID:session"),
        ("aws:username", "auditor"),
        ("s3:DataAccessPointArn", f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/logs"),
        ("s3:DataAccessPointAccount", ACCOUNT),
    ],
)
def test_3_3_each_key_that_names_the_caller_restricts_a_star_principal(
    key: str, value: str
) -> None:
    operator = "IpAddress" if key == "aws:SourceIp" else "StringEquals"
    result = policy_verdict(open_to_all({operator: {key: value}}))
    assert result.status == "pass"


def test_3_3_a_malformed_condition_restricts_nothing() -> None:
    statement = open_to_all({"StringEquals": ["aws:SourceAccount", ACCOUNT]})
    assert policy_verdict(statement).status == "fail"
    statement = open_to_all({})
    statement["Condition"] = "aws:SourceAccount"
    assert policy_verdict(statement).status == "fail"


def test_3_3_and_3_6_evidence_when_the_bucket_is_gone() -> None:
    data = cloudtrail_data(trail(), buckets={})
    for check_id in ("cloudtrail_bucket_not_public", "cloudtrail_bucket_access_logging_enabled"):
        result = only(check_id, data)
        assert result.status == "fail"
        assert "bucket 'trail-logs', which does not exist" in result.summary
        assert result.details == {"bucket": "trail-logs", "exists": False}


def test_3_3_private_bucket_evidence() -> None:
    result = only("cloudtrail_bucket_not_public", cloudtrail_data(trail()))
    assert result.details["bucket"] == "trail-logs"
    assert result.details["public_acl_grants"] == []
    assert result.details["public_policy_statements"] == []
    assert result.details["public_access_block"] is None
    assert "whose ACL grants nothing to AllUsers" in result.summary


def test_3_2_evidence() -> None:
    data = cloudtrail_data(trail("on", LogFileValidationEnabled=True), trail("off"))
    results = {
        r.resource_arn.rsplit("/", 1)[-1]: r
        for r in run("cloudtrail_log_file_validation_enabled", data)
    }
    assert results["on"].details == {"LogFileValidationEnabled": True}
    assert results["off"].details == {"LogFileValidationEnabled": False}
    assert results["off"].summary == "Trail 'off' (us-east-1) has log file validation disabled."


def test_3_6_evidence() -> None:
    logging = {"TargetBucket": "access-logs", "TargetPrefix": "trail/"}
    data = cloudtrail_data(
        trail(), buckets={"trail-logs": bucket(logging={"TargetBucket": "access-logs"})}
    )
    result = only("cloudtrail_bucket_access_logging_enabled", data)
    assert result.summary.endswith("which logs access to access-logs/.")
    data = cloudtrail_data(trail(), buckets={"trail-logs": bucket(logging=logging)})
    result = only("cloudtrail_bucket_access_logging_enabled", data)
    assert result.summary.endswith("which logs access to access-logs/trail/.")
    assert result.details == {"bucket": "trail-logs", "LoggingEnabled": logging}
    result = only("cloudtrail_bucket_access_logging_enabled", cloudtrail_data(trail()))
    assert result.details == {"bucket": "trail-logs", "LoggingEnabled": None}


def test_3_7_evidence() -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/abc"
    data = cloudtrail_data(trail("enc", KmsKeyId=key), trail("plain"))
    results = {
        r.resource_arn.rsplit("/", 1)[-1]: r for r in run("cloudtrail_kms_encryption_enabled", data)
    }
    assert results["enc"].details == {"KmsKeyId": key}
    assert results["plain"].details == {"KmsKeyId": None}


def test_3_1_evidence_of_a_pass_shows_the_selectors() -> None:
    advanced = [{"Name": "mgmt", "FieldSelectors": [field("eventCategory", Equals=["Management"])]}]
    result = only(
        "cloudtrail_multi_region_trail_logging", cloudtrail_data(trail(advanced=advanced))
    )
    assert result.details["trail"] == f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main"
    assert result.details["name"] == "main"
    assert result.details["multi_region"] is True
    assert result.details["logging"] is True
    assert result.details["advanced_event_selectors"] == advanced
    assert result.details["event_selectors"] == []


def test_3_1_evidence_of_a_fail_lists_every_trail() -> None:
    data = cloudtrail_data(trail("stopped", logging=False), trail("local", multi_region=False))
    result = only("cloudtrail_multi_region_trail_logging", data)
    assert [
        (t["name"], t["trail"], t["multi_region"], t["logging"], t["problem"])
        for t in result.details["trails"]
    ] == [
        ("stopped", f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/stopped", True, False,
         "is not logging"),
        ("local", f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/local", False, True,
         "is not multi-region"),
    ]  # fmt: skip


def test_3_1_a_trail_description_without_global_events_flag_includes_them() -> None:
    # IncludeGlobalServiceEvents defaults to true in CloudTrail.
    described = trail()
    del described["trail"]["IncludeGlobalServiceEvents"]
    result = only("cloudtrail_multi_region_trail_logging", cloudtrail_data(described))
    assert result.status == "pass"


def test_object_logging_evidence_names_partial_selectors_and_trails() -> None:
    selector = s3_selector("All", ["arn:aws:s3:::images/"])
    data = cloudtrail_data(trail(selectors=[selector]))
    result = only(WRITE, data)
    (entry,) = result.details["trails"]
    assert entry["trail"] == f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main"
    assert entry["name"] == "main"
    assert (entry["multi_region"], entry["logging"]) == (True, True)
    assert entry["s3_object_events_all_buckets"] == []
    assert entry["partial_selectors"] == [
        {"selector": selector, "reason": "names only some buckets"}
    ]
    assert entry["problem"] == "logs write events only for some buckets"


def test_3_5_evidence_of_a_pass() -> None:
    result = only(CONFIG, config_data(), REGION_UNIT)
    assert result.summary == (
        "Recorder 'default' in eu-west-1 records all supported resource types (including "
        "global resource types) and its last status is SUCCESS."
    )
    assert result.details == {
        "recorder": "default",
        "recordingGroup": {
            "allSupported": True,
            "includeGlobalResourceTypes": True,
            "resourceTypes": [],
        },
        "recording": True,
        "lastStatus": "SUCCESS",
        "lastErrorCode": None,
        "delivery_channels": ["default"],
    }


def test_3_5_evidence_of_a_failure_names_each_recorder_and_problem() -> None:
    data = config_data(all_supported=False, recording=False)
    data["statuses"][0]["lastErrorCode"] = "AccessDenied"
    result = only(CONFIG, data, REGION_UNIT)
    assert result.summary == (
        "No configuration recorder in eu-west-1 records all resource types successfully: "
        "'default' does not record all supported resource types and is not recording."
    )
    (entry,) = result.details["recorders"]
    assert entry["recorder"] == "default"
    assert entry["recording"] is False
    assert entry["lastErrorCode"] == "AccessDenied"
    assert entry["delivery_channels"] == ["default"]
    assert entry["problem"] == ("does not record all supported resource types and is not recording")


def test_3_5_a_recorder_without_status_is_not_recording() -> None:
    data = config_data()
    data["statuses"] = []
    result = only(CONFIG, data, REGION_UNIT)
    assert result.status == "fail"
    assert "'default' is not recording" in result.summary


def test_3_5_a_recording_recorder_without_last_status_fails() -> None:
    data = config_data()
    del data["statuses"][0]["lastStatus"]
    result = only(CONFIG, data, REGION_UNIT)
    assert result.status == "fail"
    assert "'default' last status is unknown, not SUCCESS" in result.summary


def test_3_5_the_region_comes_from_the_unit_when_the_data_omits_it() -> None:
    data = {"recorders": [], "statuses": [], "delivery_channels": [{"name": "main"}]}
    result = only(CONFIG, data, REGION_UNIT)
    assert result.summary == "AWS Config has no configuration recorder in eu-west-1."
    assert result.details == {"recorders": [], "delivery_channels": ["main"]}


def test_3_5_one_good_recorder_among_broken_ones_passes() -> None:
    data = config_data()
    data["recorders"].insert(
        0, {"name": "old", "recordingGroup": {"allSupported": False, "resourceTypes": []}}
    )
    data["statuses"].insert(0, {"name": "old", "recording": False, "lastStatus": "FAILURE"})
    result = only(CONFIG, data, REGION_UNIT)
    assert result.status == "pass"
    assert result.summary.startswith("Recorder 'default' in eu-west-1")


def test_3_1_advanced_selectors_report_excluded_event_sources() -> None:
    advanced = [
        {
            "Name": "Management events without KMS",
            "FieldSelectors": [
                field("eventCategory", Equals=["Management"]),
                field("eventSource", NotEquals=["kms.amazonaws.com", "rdsdata.amazonaws.com"]),
            ],
        }
    ]
    result = only(
        "cloudtrail_multi_region_trail_logging", cloudtrail_data(trail(advanced=advanced))
    )
    assert result.status == "pass"
    assert result.summary.endswith(", except those of kms.amazonaws.com, rdsdata.amazonaws.com.")
    assert result.details["excluded_event_sources"] == [
        "kms.amazonaws.com",
        "rdsdata.amazonaws.com",
    ]


def test_object_logging_evidence_names_a_narrowing_advanced_selector() -> None:
    selector = {
        "Name": "some buckets",
        "FieldSelectors": [
            field("eventCategory", Equals=["Data"]),
            field("resources.type", Equals=["AWS::S3::Object"]),
            field("resources.ARN", StartsWith=["arn:aws:s3:::images/"]),
            field("eventName", Equals=["PutObject"]),
        ],
    }
    result = only(WRITE, cloudtrail_data(trail(advanced=[selector])))
    assert result.status == "fail"
    assert result.details["trails"][0]["partial_selectors"] == [
        {"selector": selector, "reason": "limits events by eventName, resources.ARN"}
    ]
