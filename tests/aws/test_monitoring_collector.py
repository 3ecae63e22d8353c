"""The monitoring (4.1-4.15) and securityhub (4.16) collectors against the moto server.

Where moto 5.2.5 differs from AWS the harness makes it behave like AWS (comments tagged
``moto differs from AWS``):

* a new trail has no event selectors in moto; AWS logs all management events by default, so
  seeding puts that selector explicitly;
* moto confirms every SNS subscription at once; AWS leaves an e-mail subscription
  "PendingConfirmation" until the recipient confirms it, so a hook reports the endpoints the
  test marks as unconfirmed that way.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from findings.aws import COLLECTORS, CollectContext, CollectionError
from findings.checks.base import GLOBAL, Result, Unit, checks_for
from findings.checks.monitoring import CONTROLS
from simulation.account import client

ACCOUNT = "123456789012"
ACCOUNT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
REGIONS = ["us-east-1", "eu-west-1"]
UNCONFIRMED = "new-hire@example.com"
BY_REF = {control.ref: control for control in CONTROLS}


def _session() -> boto3.Session:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")

    def pending(parsed: dict[str, Any], **_: Any) -> None:
        # moto differs from AWS: an e-mail subscription is pending until its owner confirms it.
        for subscription in parsed.get("Subscriptions", []):
            if subscription.get("Endpoint") == UNCONFIRMED:
                subscription["SubscriptionArn"] = "PendingConfirmation"

    session.events.register("after-call.sns.ListSubscriptionsByTopic", pending)
    return session


def collect(endpoint: str, service: str, region: str = GLOBAL) -> tuple[Any, dict[str, Result]]:
    unit = Unit(ACCOUNT, region)
    ctx = CollectContext(session=_session(), unit=unit, regions=REGIONS, endpoint_url=endpoint)
    collected = COLLECTORS[service].function(ctx)
    json.dumps(collected.data)
    arns = {ref.arn for ref in collected.resources}
    results: dict[str, Result] = {}
    for spec in checks_for(service):
        (result,) = spec.run(collected.data, unit)
        assert result.resource_arn in arns
        results[spec.controls[0]] = result
    return collected, results


def _trail(endpoint: str, group: str | None, *, multi_region: bool = True) -> None:
    client(endpoint, "s3").create_bucket(Bucket="trail-logs")
    cloudtrail = client(endpoint, "cloudtrail")
    params: dict[str, Any] = {"IsMultiRegionTrail": multi_region}
    if group:
        client(endpoint, "logs").create_log_group(logGroupName=group)
        params["CloudWatchLogsLogGroupArn"] = (
            f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}:*"
        )
        params["CloudWatchLogsRoleArn"] = f"arn:aws:iam::{ACCOUNT}:role/trail-to-logs"
    cloudtrail.create_trail(Name="main", S3BucketName="trail-logs", **params)
    # moto differs from AWS: a new trail has no event selectors; AWS logs all management events.
    cloudtrail.put_event_selectors(
        TrailName="main", EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    )
    cloudtrail.start_logging(Name="main")


def _topic(endpoint: str, name: str, *emails: str) -> str:
    sns = client(endpoint, "sns")
    arn = str(sns.create_topic(Name=name)["TopicArn"])
    for email in emails:
        sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=email)
    return arn


def _filter_and_alarm(
    endpoint: str, ref: str, pattern: str | None = None, topic: str | None = None
) -> None:
    metric = f"cis-{ref.replace('.', '-')}"
    client(endpoint, "logs").put_metric_filter(
        logGroupName="trail-logs",
        filterName=metric,
        filterPattern=pattern or BY_REF[ref].patterns[0],
        metricTransformations=[
            {"metricName": metric, "metricNamespace": "CISBenchmark", "metricValue": "1"}
        ],
    )
    if topic is None:
        return
    client(endpoint, "cloudwatch").put_metric_alarm(
        AlarmName=metric,
        MetricName=metric,
        Namespace="CISBenchmark",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[topic],
    )


def test_monitoring_chain_end_to_end(aws: str) -> None:
    _trail(aws, "trail-logs")
    confirmed = _topic(aws, "security-alarms", "soc@example.com", UNCONFIRMED)
    pending = _topic(aws, "pending-alarms", UNCONFIRMED)
    empty = _topic(aws, "empty-alarms")

    for ref in ("4.1", "4.2", "4.3", "4.5", "4.6", "4.7", "4.8", "4.9", "4.12", "4.14", "4.15"):
        _filter_and_alarm(aws, ref, topic=confirmed)
    # 4.4 with the benchmark's terms reordered and spaced out differently.
    iam_terms = BY_REF["4.4"].patterns[0].strip("{} ").split(" || ")
    _filter_and_alarm(aws, "4.4", "{" + "||".join(reversed(iam_terms)) + "}", topic=confirmed)
    # 4.10: the filter exists but no alarm watches it.
    _filter_and_alarm(aws, "4.10")
    # 4.11: the alarm's topic has only an unconfirmed subscription.
    _filter_and_alarm(aws, "4.11", topic=pending)
    # 4.13: the alarm's topic has no subscription at all.
    _filter_and_alarm(aws, "4.13", topic=empty)

    collected, results = collect(aws, "monitoring")

    verdicts = {ref: result.status for ref, result in results.items()}
    failing = {"4.10", "4.11", "4.13"}
    assert verdicts == {c.ref: ("fail" if c.ref in failing else "pass") for c in CONTROLS}
    assert "no alarm watches its metric CISBenchmark/cis-4-10" in results["4.10"].summary
    assert "(1 pending confirmation)" in results["4.11"].summary
    assert "no confirmed subscriber." in results["4.13"].summary
    assert results["4.4"].details["metric_filter"] == "cis-4-4"
    assert results["4.1"].details["topic"] == confirmed
    assert [r.arn for r in collected.resources] == [ACCOUNT_ARN]
    assert set(collected.resources[0].configuration) == {"monitoring"}
    # Only the three topics the relevant alarms notify were listed.
    assert set(collected.data["topics"]) == {confirmed, pending, empty}


def test_monitoring_without_cloudwatch_logs_fails_every_control(aws: str) -> None:
    _trail(aws, None)
    collected, results = collect(aws, "monitoring")
    assert {result.status for result in results.values()} == {"fail"}
    assert "No trail is multi-region" in results["4.1"].summary
    assert collected.data["log_groups"] == []


def test_monitoring_single_region_trail_does_not_count(aws: str) -> None:
    _trail(aws, "trail-logs", multi_region=False)
    topic = _topic(aws, "security-alarms", "soc@example.com")
    _filter_and_alarm(aws, "4.3", topic=topic)
    collected, results = collect(aws, "monitoring")
    assert results["4.3"].status == "fail"
    assert results["4.3"].details["trails"][0]["problem"] == "is not multi-region"
    assert collected.data["log_groups"] == []


# --------------------------------------------------------------------------- securityhub


def test_securityhub_per_region(aws: str) -> None:
    client(aws, "securityhub", "us-east-1").enable_security_hub(EnableDefaultStandards=False)
    _, enabled = collect(aws, "securityhub", "us-east-1")
    _, disabled = collect(aws, "securityhub", "eu-west-1")
    assert enabled["4.16"].status == "pass"
    assert enabled["4.16"].details["hub"]["HubArn"].endswith(":hub/default")
    assert disabled["4.16"].status == "fail"
    assert disabled["4.16"].resource_arn == (
        f"arn:aws:securityhub:eu-west-1:{ACCOUNT}:regional-settings"
    )


def test_alarm_on_a_deleted_topic(aws: str) -> None:
    _trail(aws, "trail-logs")
    topic = _topic(aws, "gone", "soc@example.com")
    _filter_and_alarm(aws, "4.3", topic=topic)
    client(aws, "sns").delete_topic(TopicArn=topic)
    collected, results = collect(aws, "monitoring")
    assert collected.data["topics"][topic] == {"exists": False, "subscriptions": []}
    assert results["4.3"].status == "fail"
    assert "which does not exist" in results["4.3"].summary


def _denied(code: str) -> Any:
    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Error": {"Code": code, "Message": "not authorized"}, "ResponseMetadata": {}}
        return AWSResponse("https://denied.invalid", 400, {}, None), error

    return answer


def test_denied_describe_hub_fails_the_unit(aws: str) -> None:
    session = _session()
    session.events.register("before-call.securityhub.DescribeHub", _denied("AccessDeniedException"))
    ctx = CollectContext(
        session=session, unit=Unit(ACCOUNT, "eu-west-1"), regions=REGIONS, endpoint_url=aws
    )
    with pytest.raises(CollectionError) as raised:
        COLLECTORS["securityhub"].function(ctx)
    assert raised.value.code == "AccessDeniedException"


def test_denied_metric_filters_fail_the_unit(aws: str) -> None:
    _trail(aws, "trail-logs")
    session = _session()
    session.events.register(
        "before-call.cloudwatch-logs.DescribeMetricFilters", _denied("AccessDeniedException")
    )
    ctx = CollectContext(
        session=session, unit=Unit(ACCOUNT, GLOBAL), regions=REGIONS, endpoint_url=aws
    )
    with pytest.raises(CollectionError) as raised:
        COLLECTORS["monitoring"].function(ctx)
    assert raised.value.operation == "describe_metric_filters"
