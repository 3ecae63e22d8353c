"""The cloudtrail, config and kms collectors against the moto server, checks run end to end.

Where moto 5.2.5 differs from AWS the harness makes it behave like AWS (comments tagged
``moto differs from AWS``):

* a new trail has no event selectors in moto; AWS gives it one selector logging all management
  events (read and write), so seeding puts that selector explicitly;
* moto's GetTrailStatus never reports ``LatestCloudWatchLogsDeliveryTime``; AWS does once the
  trail has delivered to its log group, so a botocore hook adds the delivery time the test
  declares for a trail;
* moto leaves a started recorder's ``lastStatus`` at PENDING forever; AWS moves it to SUCCESS
  once the first delivery succeeds, so a hook does that for recording recorders.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from findings.aws import COLLECTORS, CollectContext, CollectionError
from findings.checks.base import GLOBAL, Result, Unit, checks_for
from simulation.account import client

ACCOUNT = "123456789012"
ACCOUNT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
REGIONS = ["us-east-1", "eu-west-1"]
ALL_MANAGEMENT = [{"ReadWriteType": "All", "IncludeManagementEvents": True}]


def _session(
    deliveries: Mapping[str, dt.datetime] | None = None, config_success: bool = False
) -> boto3.Session:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    if deliveries:

        def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            context["trail"] = str(params.get("Name", "")).rsplit("/", 1)[-1]

        def add_delivery(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            # moto differs from AWS: it never reports LatestCloudWatchLogsDeliveryTime.
            when = deliveries.get(context.get("trail", ""))
            if when is not None and parsed.get("IsLogging"):
                parsed["LatestCloudWatchLogsDeliveryTime"] = when

        session.events.register("before-parameter-build.cloudtrail.GetTrailStatus", remember)
        session.events.register("after-call.cloudtrail.GetTrailStatus", add_delivery)
    if config_success:

        def succeed(parsed: dict[str, Any], **_: Any) -> None:
            # moto differs from AWS: lastStatus stays PENDING after the recorder starts.
            for status in parsed.get("ConfigurationRecordersStatus", []):
                if status.get("recording") and status.get("lastStatus") == "PENDING":
                    status["lastStatus"] = "SUCCESS"

        session.events.register("after-call.config.DescribeConfigurationRecorderStatus", succeed)
    return session


def collect(
    endpoint: str, service: str, region: str = GLOBAL, session: boto3.Session | None = None
) -> tuple[Any, dict[str, list[Result]], CollectContext]:
    unit = Unit(ACCOUNT, region)
    ctx = CollectContext(
        session=session or _session(), unit=unit, regions=REGIONS, endpoint_url=endpoint
    )
    collected = COLLECTORS[service].function(ctx)
    json.dumps(collected.data)
    arns = {ref.arn for ref in collected.resources}
    results: dict[str, list[Result]] = {}
    for spec in checks_for(service):
        found = spec.run(collected.data, unit)
        assert {r.resource_arn for r in found} <= arns, spec.check_id
        results[spec.check_id] = found
    return collected, results, ctx


def by_name(results: list[Result]) -> dict[str, str]:
    return {r.resource_arn.rsplit("/", 1)[-1]: r.status for r in results}


def _bucket(endpoint: str, name: str) -> None:
    client(endpoint, "s3").create_bucket(Bucket=name)


def _trail(endpoint: str, region: str, name: str, bucket: str, **params: Any) -> str:
    cloudtrail = client(endpoint, "cloudtrail", region)
    arn = cloudtrail.create_trail(Name=name, S3BucketName=bucket, **params)["TrailARN"]
    # moto differs from AWS: a new trail has no event selectors; AWS logs all management events.
    cloudtrail.put_event_selectors(TrailName=name, EventSelectors=ALL_MANAGEMENT)
    return str(arn)


# --------------------------------------------------------------------------- cloudtrail


def test_cloudtrail_well_configured_account_passes_everything(aws: str) -> None:
    for name in ("trail-logs", "access-logs"):
        _bucket(aws, name)
    s3 = client(aws, "s3")
    s3.put_bucket_acl(Bucket="access-logs", ACL="log-delivery-write")
    s3.put_bucket_logging(
        Bucket="trail-logs",
        BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "access-logs", "TargetPrefix": "trail/"}
        },
    )
    s3.put_public_access_block(
        Bucket="trail-logs",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    key = client(aws, "kms").create_key()["KeyMetadata"]["Arn"]
    client(aws, "logs").create_log_group(logGroupName="trail-logs")
    group = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:trail-logs:*"
    _trail(
        aws,
        "us-east-1",
        "main",
        "trail-logs",
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        CloudWatchLogsLogGroupArn=group,
        CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT}:role/trail-to-logs",
        KmsKeyId=key,
        TagsList=[{"Key": "Team", "Value": "security"}],
    )
    cloudtrail = client(aws, "cloudtrail")
    cloudtrail.put_event_selectors(
        TrailName="main",
        EventSelectors=[
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
            }
        ],
    )
    cloudtrail.start_logging(Name="main")
    session = _session({"main": dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)})

    collected, results, ctx = collect(aws, "cloudtrail", session=session)

    assert {name: [r.status for r in found] for name, found in results.items()} == {
        "cloudtrail_multi_region_trail_logging": ["pass"],
        "cloudtrail_log_file_validation_enabled": ["pass"],
        "cloudtrail_bucket_not_public": ["pass"],
        "cloudtrail_cloudwatch_logs_delivering": ["pass"],
        "cloudtrail_bucket_access_logging_enabled": ["pass"],
        "cloudtrail_kms_encryption_enabled": ["pass"],
        "cloudtrail_s3_write_data_events_logged": ["pass"],
        "cloudtrail_s3_read_data_events_logged": ["pass"],
    }
    trail_ref = next(r for r in collected.resources if r.resource_type == "AWS::CloudTrail::Trail")
    assert trail_ref.region == "us-east-1"
    assert trail_ref.tags == {"Team": "security"}
    assert trail_ref.configuration["s3_bucket"]["access_logging"]["TargetBucket"] == "access-logs"
    # The multi-region trail shows up in both regions: it is listed once.
    assert [t["name"] for t in collected.data["trails"]] == ["main"]
    account = next(r for r in collected.resources if r.arn == ACCOUNT_ARN)
    assert set(account.configuration) == {"cloudtrail"}
    # 2 describe_trails + status + selectors + list_tags + 4 bucket calls
    assert ctx.api_calls == 9


def test_cloudtrail_weak_trails_fail(aws: str) -> None:
    _bucket(aws, "open-logs")
    client(aws, "s3").put_bucket_acl(Bucket="open-logs", ACL="public-read")
    group = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:trail-logs:*"
    _trail(aws, "us-east-1", "stopped", "open-logs", IsMultiRegionTrail=True)
    _trail(aws, "eu-west-1", "regional", "open-logs")
    _trail(
        aws,
        "us-east-1",
        "reads",
        "open-logs",
        IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=group,
    )
    client(aws, "cloudtrail").put_event_selectors(
        TrailName="reads",
        AdvancedEventSelectors=[
            {
                "Name": "Read management events",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Management"]},
                    {"Field": "readOnly", "Equals": ["true"]},
                ],
            },
            {
                "Name": "Read S3 objects",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                    {"Field": "readOnly", "Equals": ["true"]},
                ],
            },
        ],
    )
    client(aws, "cloudtrail").start_logging(Name="reads")
    client(aws, "cloudtrail", "eu-west-1").start_logging(Name="regional")
    session = _session({"reads": dt.datetime.now(dt.UTC) - dt.timedelta(days=3)})

    collected, results, _ = collect(aws, "cloudtrail", session=session)

    # The single-region trail of eu-west-1 is found by asking that region.
    homes = {t["name"]: t["home_region"] for t in collected.data["trails"]}
    assert homes == {"reads": "us-east-1", "regional": "eu-west-1", "stopped": "us-east-1"}
    overall = results["cloudtrail_multi_region_trail_logging"][0]
    assert overall.status == "fail"
    assert "'stopped' is not logging" in overall.summary
    assert "'regional' is not multi-region" in overall.summary
    assert "'reads' records only read management events" in overall.summary
    assert by_name(results["cloudtrail_log_file_validation_enabled"]) == {
        "reads": "fail",
        "regional": "fail",
        "stopped": "fail",
    }
    assert set(by_name(results["cloudtrail_bucket_not_public"]).values()) == {"fail"}
    assert "AllUsers" in results["cloudtrail_bucket_not_public"][0].summary
    assert by_name(results["cloudtrail_cloudwatch_logs_delivering"]) == {
        "reads": "fail",
        "regional": "fail",
        "stopped": "fail",
    }
    stale = next(
        r
        for r in results["cloudtrail_cloudwatch_logs_delivering"]
        if r.resource_arn.endswith("reads")
    )
    assert "more than a day ago" in stale.summary
    assert set(by_name(results["cloudtrail_bucket_access_logging_enabled"]).values()) == {"fail"}
    assert set(by_name(results["cloudtrail_kms_encryption_enabled"]).values()) == {"fail"}
    assert results["cloudtrail_s3_write_data_events_logged"][0].status == "fail"
    assert results["cloudtrail_s3_read_data_events_logged"][0].status == "pass"
    regional = next(r for r in collected.resources if r.name == "regional")
    assert regional.region == "eu-west-1"


def test_cloudtrail_without_trails_fails_the_account_checks(aws: str) -> None:
    collected, results, _ = collect(aws, "cloudtrail")
    assert [r.arn for r in collected.resources] == [ACCOUNT_ARN]
    assert results["cloudtrail_multi_region_trail_logging"][0].status == "fail"
    assert results["cloudtrail_s3_write_data_events_logged"][0].status == "fail"
    assert results["cloudtrail_log_file_validation_enabled"] == []


# --------------------------------------------------------------------------- config


def _recorder(endpoint: str, region: str, group: dict[str, Any], start: bool = True) -> None:
    config = client(endpoint, "config", region)
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config",
            "recordingGroup": group,
        }
    )
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "config"})
    if start:
        config.start_configuration_recorder(ConfigurationRecorderName="default")


def test_config_regions(aws: str) -> None:
    _recorder(aws, "us-east-1", {"allSupported": True, "includeGlobalResourceTypes": True})
    _recorder(
        aws,
        "eu-west-1",
        {
            "allSupported": False,
            "includeGlobalResourceTypes": False,
            "resourceTypes": ["AWS::EC2::Instance"],
        },
    )
    _recorder(aws, "eu-central-1", {"allSupported": True}, start=False)
    session = _session(config_success=True)

    verdicts = {}
    for region in ("us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"):
        collected, results, ctx = collect(aws, "config", region, session)
        (result,) = results["config_recorder_recording_all_resources"]
        assert result.resource_arn == f"arn:aws:config:{region}:{ACCOUNT}:regional-settings"
        assert [r.resource_type for r in collected.resources] == ["AWS::Config::RegionalSettings"]
        assert ctx.api_calls == 3
        verdicts[region] = (result.status, result.summary)

    assert verdicts["us-east-1"][0] == "pass"
    assert verdicts["eu-west-1"] == (
        "fail",
        "No configuration recorder in eu-west-1 records all resource types successfully: "
        "'default' does not record all supported resource types.",
    )
    assert verdicts["eu-central-1"][0] == "fail"
    assert "is not recording" in verdicts["eu-central-1"][1]
    assert verdicts["ap-southeast-2"] == (
        "fail",
        "AWS Config has no configuration recorder in ap-southeast-2.",
    )


# --------------------------------------------------------------------------- kms


def test_kms_rotation(aws: str) -> None:
    kms = client(aws, "kms", "eu-west-1")
    rotating = kms.create_key(Description="rotating")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=rotating)
    kms.create_alias(AliasName="alias/rotating", TargetKeyId=rotating)
    static = kms.create_key(Description="static")["KeyMetadata"]["KeyId"]
    asymmetric = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    disabled = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=disabled)

    collected, results, ctx = collect(aws, "kms", "eu-west-1")

    assert by_name(results["kms_key_rotation_enabled"]) == {rotating: "pass", static: "fail"}
    assert {r.name for r in collected.resources} >= {"alias/rotating", static, asymmetric}
    assert len(collected.resources) == 4
    # list_keys + list_aliases + 4 describe_key + 2 get_key_rotation_status
    assert ctx.api_calls == 8


def test_cloudtrail_bucket_deleted_after_the_trail(aws: str) -> None:
    _bucket(aws, "gone-logs")
    _trail(aws, "us-east-1", "main", "gone-logs", IsMultiRegionTrail=True)
    client(aws, "s3").delete_bucket(Bucket="gone-logs")
    collected, results, ctx = collect(aws, "cloudtrail")
    assert collected.data["buckets"] == {"gone-logs": {"exists": False}}
    assert results["cloudtrail_bucket_not_public"][0].status == "fail"
    assert "does not exist" in results["cloudtrail_bucket_access_logging_enabled"][0].summary
    # The NoSuchBucket answer to the first bucket call ends the bucket's calls.
    assert ctx.api_calls == 6


def test_cloudtrail_denied_bucket_call_fails_the_unit(aws: str) -> None:
    _bucket(aws, "trail-logs")
    _trail(aws, "us-east-1", "main", "trail-logs", IsMultiRegionTrail=True)
    session = _session()

    def denied(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}
        return AWSResponse("https://denied.invalid", 403, {}, None), error

    session.events.register("before-call.s3.GetBucketAcl", denied)
    with pytest.raises(CollectionError) as raised:
        collect(aws, "cloudtrail", session=session)
    assert (raised.value.operation, raised.value.code) == ("get_bucket_acl", "AccessDenied")
