"""CIS AWS Foundations v2.0.0 checks 4.1-4.15: metric filters and alarms on CloudTrail's logs.

Read from the ``monitoring`` collector (see ``findings.aws.monitoring``). Each control passes
when the account has the whole chain of the benchmark's audit:

1. a trail that is multi-region, logging, records all management events (read and write) and
   sends to a CloudWatch Logs log group (the same test as 3.1, plus the log group);
2. a metric filter on that log group whose pattern matches the control's pattern;
3. a metric alarm on the filter's metric (namespace and name; metric-math alarms count when one
   of their inputs is that metric) whose actions are enabled;
4. an SNS topic among the alarm's actions with at least one confirmed subscription
   (``SubscriptionArn`` is an ARN, not ``PendingConfirmation``).

The result is attached to the account; the evidence names the trail, log group, filter, alarm
and topic that passed, or the furthest step reached and what is missing.

**Matching filter patterns.** Patterns are parsed (CloudWatch Logs JSON filter syntax:
``{ ... }`` with ``&&``, ``||``, parentheses, ``$.field = value``, ``!=``, ``NOT EXISTS``,
``IS NULL``), so whitespace, quoting (``"ConsoleLogin"`` = ``ConsoleLogin``), redundant
parentheses and the order of terms do not matter. A filter matches when it fires on every event
the benchmark's pattern fires on: the same terms, or more alternatives ORed in (a filter on 20
IAM API calls that include the 16 of 4.4 matches). A filter that adds a condition narrows it
and does not match, except where the benchmark or its later edition gives that narrower pattern
as an alternative:

* 4.1: the v2.0.0 pattern ORs the exclusions (``|| $.sourceIPAddress != ...``), a known
  mistake; the corrected form (``(A || B) && exclusions``, used by later editions and by our
  remediation) is accepted too;
* 4.2: the benchmark's SSO variant (``... && $.userIdentity.type = "IAMUser" &&
  $.responseElements.ConsoleLogin = "Success"``);
* 4.13: ``$.eventSource = ec2.amazonaws.com && (...)`` (v3.0.0's pattern; those calls all come
  from EC2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from findings.checks.base import CheckSpec, Result, Unit, check
from findings.checks.cloudtrail import qualifies_for_3_1
from findings.checks.filter_patterns import (  # noqa: F401 - tests read the parser here too
    PatternError,
    parse_pattern,
    pattern_matches,
)
from findings.toolbox import alarm_metrics, log_group_of, sns_topics

# --------------------------------------------------------------------------- the controls


def _names(*names: str) -> str:
    return "{ " + " || ".join(f"($.eventName = {name})" for name in names) + " }"


def _source_names(source: str, *names: str) -> str:
    inner = " || ".join(f"($.eventName = {name})" for name in names)
    return f"{{ ($.eventSource = {source}) && ({inner}) }}"


@dataclass(frozen=True)
class Control:
    ref: str
    check_id: str
    subject: str  # "unauthorized API calls": used in titles and evidence
    patterns: tuple[str, ...]  # the benchmark's pattern first, then accepted alternatives


_ROUTES = (
    "CreateRoute",
    "CreateRouteTable",
    "ReplaceRoute",
    "ReplaceRouteTableAssociation",
    "DeleteRouteTable",
    "DeleteRoute",
    "DisassociateRouteTable",
)

CONTROLS: tuple[Control, ...] = (
    Control(
        "4.1",
        "monitoring_unauthorized_api_calls_alarmed",
        "unauthorized API calls",
        (
            '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || '
            '($.sourceIPAddress != "delivery.logs.amazonaws.com") || '
            '($.eventName != "HeadBucket") }',
            '{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && '
            '($.sourceIPAddress != "delivery.logs.amazonaws.com") && '
            '($.eventName != "HeadBucket") }',
        ),
    ),
    Control(
        "4.2",
        "monitoring_console_signin_without_mfa_alarmed",
        "console sign-in without MFA",
        (
            '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
            '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
            '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
        ),
    ),
    Control(
        "4.3",
        "monitoring_root_usage_alarmed",
        "usage of the root user",
        (
            '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
            '$.eventType != "AwsServiceEvent" }',
        ),
    ),
    Control(
        "4.4",
        "monitoring_iam_policy_changes_alarmed",
        "IAM policy changes",
        (
            _names(
                "DeleteGroupPolicy",
                "DeleteRolePolicy",
                "DeleteUserPolicy",
                "PutGroupPolicy",
                "PutRolePolicy",
                "PutUserPolicy",
                "CreatePolicy",
                "DeletePolicy",
                "CreatePolicyVersion",
                "DeletePolicyVersion",
                "AttachRolePolicy",
                "DetachRolePolicy",
                "AttachUserPolicy",
                "DetachUserPolicy",
                "AttachGroupPolicy",
                "DetachGroupPolicy",
            ),
        ),
    ),
    Control(
        "4.5",
        "monitoring_cloudtrail_changes_alarmed",
        "CloudTrail configuration changes",
        (_names("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"),),
    ),
    Control(
        "4.6",
        "monitoring_console_auth_failures_alarmed",
        "console authentication failures",
        ('{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',),
    ),
    Control(
        "4.7",
        "monitoring_cmk_disable_or_deletion_alarmed",
        "disabling or scheduled deletion of customer managed keys",
        (_source_names("kms.amazonaws.com", "DisableKey", "ScheduleKeyDeletion"),),
    ),
    Control(
        "4.8",
        "monitoring_s3_bucket_policy_changes_alarmed",
        "S3 bucket policy changes",
        (
            _source_names(
                "s3.amazonaws.com",
                "PutBucketAcl",
                "PutBucketPolicy",
                "PutBucketCors",
                "PutBucketLifecycle",
                "PutBucketReplication",
                "DeleteBucketPolicy",
                "DeleteBucketCors",
                "DeleteBucketLifecycle",
                "DeleteBucketReplication",
            ),
        ),
    ),
    Control(
        "4.9",
        "monitoring_config_changes_alarmed",
        "AWS Config configuration changes",
        (
            _source_names(
                "config.amazonaws.com",
                "StopConfigurationRecorder",
                "DeleteDeliveryChannel",
                "PutDeliveryChannel",
                "PutConfigurationRecorder",
            ),
        ),
    ),
    Control(
        "4.10",
        "monitoring_security_group_changes_alarmed",
        "security group changes",
        (
            _names(
                "AuthorizeSecurityGroupIngress",
                "AuthorizeSecurityGroupEgress",
                "RevokeSecurityGroupIngress",
                "RevokeSecurityGroupEgress",
                "CreateSecurityGroup",
                "DeleteSecurityGroup",
            ),
        ),
    ),
    Control(
        "4.11",
        "monitoring_nacl_changes_alarmed",
        "network ACL changes",
        (
            _names(
                "CreateNetworkAcl",
                "CreateNetworkAclEntry",
                "DeleteNetworkAcl",
                "DeleteNetworkAclEntry",
                "ReplaceNetworkAclEntry",
                "ReplaceNetworkAclAssociation",
            ),
        ),
    ),
    Control(
        "4.12",
        "monitoring_network_gateway_changes_alarmed",
        "network gateway changes",
        (
            _names(
                "CreateCustomerGateway",
                "DeleteCustomerGateway",
                "AttachInternetGateway",
                "CreateInternetGateway",
                "DeleteInternetGateway",
                "DetachInternetGateway",
            ),
        ),
    ),
    Control(
        "4.13",
        "monitoring_route_table_changes_alarmed",
        "route table changes",
        (_names(*_ROUTES), _source_names("ec2.amazonaws.com", *_ROUTES)),
    ),
    Control(
        "4.14",
        "monitoring_vpc_changes_alarmed",
        "VPC changes",
        (
            _names(
                "CreateVpc",
                "DeleteVpc",
                "ModifyVpcAttribute",
                "AcceptVpcPeeringConnection",
                "CreateVpcPeeringConnection",
                "DeleteVpcPeeringConnection",
                "RejectVpcPeeringConnection",
                "AttachClassicLinkVpc",
                "DetachClassicLinkVpc",
                "DisableVpcClassicLink",
                "EnableVpcClassicLink",
            ),
        ),
    ),
    Control(
        "4.15",
        "monitoring_organizations_changes_alarmed",
        "AWS Organizations changes",
        (
            _source_names(
                "organizations.amazonaws.com",
                "AcceptHandshake",
                "AttachPolicy",
                "CreateAccount",
                "CreateOrganizationalUnit",
                "CreatePolicy",
                "DeclineHandshake",
                "DeleteOrganization",
                "DeleteOrganizationalUnit",
                "DeletePolicy",
                "DetachPolicy",
                "DisablePolicyType",
                "EnablePolicyType",
                "InviteAccountToOrganization",
                "LeaveOrganization",
                "MoveAccount",
                "RemoveAccountFromOrganization",
                "UpdatePolicy",
                "UpdateOrganizationalUnit",
            ),
        ),
    ),
)

# --------------------------------------------------------------------------- the chain


def confirmed(subscription: Mapping[str, Any]) -> bool:
    return str(subscription.get("SubscriptionArn", "")).startswith("arn:")


@dataclass
class _Progress:
    """The furthest step reached so far, for the failure's evidence."""

    stage: int = 0
    summary: str = ""
    details: dict[str, Any] | None = None

    def reach(self, stage: int, summary: str, details: dict[str, Any]) -> None:
        if stage > self.stage:
            self.stage, self.summary, self.details = stage, summary, details


def _metric(transformation: Mapping[str, Any]) -> tuple[str, str]:
    return (
        str(transformation.get("metricNamespace", "")),
        str(transformation.get("metricName", "")),
    )


def evaluate(data: Mapping[str, Any], control: Control) -> tuple[bool, str, dict[str, Any]]:
    """Whether the account has the control's whole chain; the summary and details why."""
    groups = {(g["region"], g["name"]): g for g in data.get("log_groups", [])}
    alarms = data.get("alarms", {})
    topics = data.get("topics", {})
    trails_seen: list[dict[str, Any]] = []
    progress = _Progress()
    for trail in data.get("trails", []):
        ok, why = qualifies_for_3_1(trail)
        group_arn = str(trail.get("trail", {}).get("CloudWatchLogsLogGroupArn") or "")
        if ok and not group_arn:
            ok, why = False, "does not send to CloudWatch Logs"
        trails_seen.append({"trail": trail.get("arn"), "qualifies": ok, "problem": why or None})
        where = log_group_of(group_arn) if ok else None
        group = groups.get(where) if where else None
        label = f"trail '{trail.get('name')}'"
        if group is None or not group.get("exists", True):
            if ok:
                progress.reach(
                    1,
                    f"The log group {group_arn} of {label} "
                    + ("does not exist." if group else "was not read (it is in another account)."),
                    {"trail": trail.get("arn"), "log_group": group_arn},
                )
            continue
        filters = group.get("metric_filters", [])
        matching = [
            f for f in filters if pattern_matches(f.get("filterPattern", ""), control.patterns)
        ]
        if not matching:
            progress.reach(
                1,
                f"Log group '{group['name']}' of {label} has {len(filters)} metric filter"
                f"{'' if len(filters) == 1 else 's'}, none matching the pattern for "
                f"{control.subject}.",
                {
                    "trail": trail.get("arn"),
                    "log_group": group_arn,
                    "required_pattern": control.patterns[0],
                    "metric_filters": [
                        {"name": f.get("filterName"), "pattern": f.get("filterPattern")}
                        for f in filters
                    ],
                },
            )
            continue
        for metric_filter in matching:
            base = {
                "trail": trail.get("arn"),
                "log_group": group_arn,
                "metric_filter": metric_filter.get("filterName"),
                "filter_pattern": metric_filter.get("filterPattern"),
            }
            metrics = {_metric(t) for t in metric_filter.get("metricTransformations", [])}
            watching = [a for a in alarms.get(group["region"], []) if alarm_metrics(a) & metrics]
            shown = ", ".join(f"{ns}/{name}" for ns, name in sorted(metrics))
            if not watching:
                progress.reach(
                    2,
                    f"Metric filter '{metric_filter.get('filterName')}' on log group "
                    f"'{group['name']}' matches {control.subject}, but no alarm watches its "
                    f"metric {shown}.",
                    {**base, "metrics": sorted(metrics)},
                )
                continue
            for alarm in watching:
                alarm_base = {**base, "alarm": alarm.get("AlarmName"), "metrics": sorted(metrics)}
                if alarm.get("ActionsEnabled") is False:
                    progress.reach(
                        3,
                        f"Alarm '{alarm.get('AlarmName')}' watches {shown}, but its actions are "
                        "disabled.",
                        alarm_base,
                    )
                    continue
                alarm_topics = sns_topics(alarm)
                if not alarm_topics:
                    progress.reach(
                        3,
                        f"Alarm '{alarm.get('AlarmName')}' watches {shown}, but notifies no SNS "
                        "topic.",
                        {**alarm_base, "AlarmActions": alarm.get("AlarmActions") or []},
                    )
                    continue
                for topic_arn in alarm_topics:
                    topic = topics.get(topic_arn) or {"exists": False, "subscriptions": []}
                    subscriptions = topic.get("subscriptions", [])
                    good = [s for s in subscriptions if confirmed(s)]
                    topic_details = {
                        **alarm_base,
                        "topic": topic_arn,
                        "subscriptions": subscriptions,
                    }
                    if good:
                        return (
                            True,
                            f"Metric filter '{metric_filter.get('filterName')}' on log group "
                            f"'{group['name']}' ({label}) matches {control.subject}; alarm "
                            f"'{alarm.get('AlarmName')}' notifies topic {topic_arn}, which has "
                            f"{len(good)} confirmed subscriber{'' if len(good) == 1 else 's'}.",
                            topic_details,
                        )
                    pending = len(subscriptions)
                    progress.reach(
                        4,
                        f"Alarm '{alarm.get('AlarmName')}' on {shown} notifies topic {topic_arn}, "
                        + (
                            "which does not exist."
                            if not topic.get("exists", True)
                            else "which has no confirmed subscriber"
                            + (f" ({pending} pending confirmation)." if pending else ".")
                        ),
                        topic_details,
                    )
    if progress.stage == 0:
        summary = (
            "No trail is multi-region, logging, recording all management events and sending to "
            f"CloudWatch Logs, so nothing can alarm on {control.subject}."
        )
        return False, summary, {"trails": trails_seen}
    return False, progress.summary, {**(progress.details or {}), "trails": trails_seen}


def _register(control: Control) -> CheckSpec:
    def run(data: Mapping[str, Any], unit: Unit, spec: CheckSpec) -> Iterable[Result]:
        passed, summary, details = evaluate(data, control)
        yield spec.result(unit.account_arn, passed, summary, details)

    run.__name__ = control.check_id
    return check(
        control.check_id,
        controls=[control.ref],
        service="monitoring",
        resource_type="AWS::::Account",
        title=f"A metric filter and alarm with a subscriber exist for {control.subject}",
    )(run)


SPECS: dict[str, CheckSpec] = {control.ref: _register(control) for control in CONTROLS}
