"""Monitoring: metric filters, alarms and SNS subscribers on CloudTrail's log groups (CIS 4.1-4.15).

Scope GLOBAL: the benchmark looks for one account-wide chain (an active multi-region trail that
sends to CloudWatch Logs, a metric filter on its log group, an alarm on the filter's metric, an
SNS topic with a confirmed subscriber).

Calls:

* the trails, their status and event selectors, exactly as the ``cloudtrail`` collector reads
  them (``describe_trails`` per scanned region, then ``get_trail_status`` and
  ``get_event_selectors`` per trail in its home region; see ``findings.aws.cloudtrail``);
* per log group of a trail that is multi-region, logging and sends to CloudWatch Logs, in the log
  group's region: ``describe_metric_filters(logGroupName=...)`` (paginated;
  ``ResourceNotFoundException`` means the log group no longer exists). Log groups of trails owned
  by another account live in that account and are not read;
* per region holding such a log group: ``describe_alarms`` (paginated, metric alarms); only the
  alarms on a metric those filters publish are kept;
* per SNS topic those alarms notify, in the topic's region: ``list_subscriptions_by_topic``
  (paginated; ``NotFound`` means the topic no longer exists).

``data``::

    {
        "collected_at": "...",
        "trails": [...],                  # same entries as the cloudtrail collector's data
        "log_groups": [
            {"arn": "...", "region": "us-east-1", "name": "trail-logs", "exists": True,
             "metric_filters": [{"filterName": ..., "filterPattern": ...,
                                 "metricTransformations": [...]}]},
        ],
        "alarms": {"us-east-1": [{"AlarmName": ..., "MetricName": ..., "Namespace": ...,
                                  "ActionsEnabled": True, "AlarmActions": [...]}]},
        "topics": {"arn:aws:sns:...": {"exists": True, "subscriptions": [...]}},
    }
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from findings.aws.base import CollectContext, Collected, collector
from findings.aws.cloudtrail import account_ref, describe_trail_states, in_threads
from findings.toolbox import (
    GLOBAL,
    alarm_metrics,
    arn_account,
    arn_region,
    log_group_of,
    now_iso,
    sns_topics,
)

ALARM_KEYS = (
    "AlarmName",
    "AlarmArn",
    "MetricName",
    "Namespace",
    "Metrics",
    "Statistic",
    "Period",
    "EvaluationPeriods",
    "Threshold",
    "ComparisonOperator",
    "ActionsEnabled",
    "AlarmActions",
    "StateValue",
)
SUBSCRIPTION_KEYS = ("SubscriptionArn", "Protocol", "Endpoint", "Owner")


def _candidate(trail: Mapping[str, Any]) -> bool:
    described = trail["trail"]
    return bool(
        described.get("IsMultiRegionTrail")
        and trail["status"].get("IsLogging")
        and described.get("CloudWatchLogsLogGroupArn")
    )


def _metric_filters(ctx: CollectContext, region: str, name: str) -> dict[str, Any]:
    client = ctx.client("logs", region)
    filters: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {"logGroupName": name}
        if token:
            params["nextToken"] = token
        page = ctx.absent_on(
            client, "describe_metric_filters", ("ResourceNotFoundException",), **params
        )
        if page is None:
            return {"exists": False, "metric_filters": []}
        filters.extend(
            {
                "filterName": item.get("filterName"),
                "filterPattern": item.get("filterPattern", ""),
                "metricTransformations": [
                    {
                        "metricName": t.get("metricName"),
                        "metricNamespace": t.get("metricNamespace"),
                    }
                    for t in item.get("metricTransformations") or []
                ],
            }
            for item in page.get("metricFilters") or []
        )
        token = page.get("nextToken")
        if not token:
            return {"exists": True, "metric_filters": filters}


def _alarms(
    ctx: CollectContext, region: str, metrics: set[tuple[str, str]]
) -> list[dict[str, Any]]:
    client = ctx.client("cloudwatch", region)
    alarms = ctx.paginate(client, "describe_alarms", "MetricAlarms", AlarmTypes=["MetricAlarm"])
    return [
        {key: alarm[key] for key in ALARM_KEYS if key in alarm}
        for alarm in alarms
        if alarm_metrics(alarm) & metrics
    ]


def _subscriptions(ctx: CollectContext, topic: str) -> dict[str, Any]:
    client = ctx.client("sns", arn_region(topic))
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {"TopicArn": topic}
        if token:
            params["NextToken"] = token
        page = ctx.absent_on(client, "list_subscriptions_by_topic", ("NotFound",), **params)
        if page is None:
            return {"exists": False, "subscriptions": []}
        found.extend(
            {key: item[key] for key in SUBSCRIPTION_KEYS if key in item}
            for item in page.get("Subscriptions") or []
        )
        token = page.get("NextToken")
        if not token:
            return {"exists": True, "subscriptions": found}


def _trail_entry(trail: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: trail[key]
        for key in (
            "arn",
            "name",
            "home_region",
            "owned",
            "trail",
            "status",
            "event_selectors",
            "advanced_event_selectors",
        )
    }


def _summaries(log_groups: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "log_group": group["arn"],
            "metric_filters": [
                {"name": f["filterName"], "pattern": f["filterPattern"]}
                for f in group["metric_filters"]
            ],
        }
        for group in log_groups
    ]


@collector("monitoring", scope=GLOBAL)
def collect_monitoring(ctx: CollectContext) -> Collected:
    collected_at = now_iso()
    trails = [_trail_entry(trail) for trail in describe_trail_states(ctx)]

    wanted: dict[tuple[str, str], str] = {}
    for trail in trails:
        arn = str(trail["trail"].get("CloudWatchLogsLogGroupArn") or "")
        where = log_group_of(arn) if _candidate(trail) else None
        if where and arn_account(arn) == ctx.unit.account_id:
            wanted.setdefault(where, arn)
    keys = sorted(wanted)
    found = in_threads(lambda key: _metric_filters(ctx, *key), keys)
    log_groups = [
        {"arn": wanted[key], "region": key[0], "name": key[1], **answer}
        for key, answer in zip(keys, found, strict=True)
    ]

    metrics_by_region: dict[str, set[tuple[str, str]]] = {}
    for group in log_groups:
        for item in group["metric_filters"]:
            for transformation in item["metricTransformations"]:
                metrics_by_region.setdefault(group["region"], set()).add(
                    (
                        str(transformation.get("metricNamespace", "")),
                        str(transformation.get("metricName", "")),
                    )
                )
    regions = sorted(metrics_by_region)
    alarms = dict(
        zip(
            regions,
            in_threads(lambda region: _alarms(ctx, region, metrics_by_region[region]), regions),
            strict=True,
        )
    )
    topic_arns = sorted({t for listed in alarms.values() for a in listed for t in sns_topics(a)})
    topics = dict(
        zip(topic_arns, in_threads(lambda arn: _subscriptions(ctx, arn), topic_arns), strict=True)
    )

    account = account_ref(
        ctx.unit,
        "monitoring",
        {
            "trails_with_cloudwatch_logs": [
                trail["arn"] for trail in trails if trail["trail"].get("CloudWatchLogsLogGroupArn")
            ],
            "log_groups": _summaries(log_groups),
            "alarms": sorted(a["AlarmName"] for listed in alarms.values() for a in listed),
        },
    )
    return Collected(
        resources=[account],
        data={
            "collected_at": collected_at,
            "trails": trails,
            "log_groups": log_groups,
            "alarms": alarms,
            "topics": topics,
        },
    )
