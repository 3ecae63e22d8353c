"""Pure tests of the monitoring checks (CIS 4.1-4.15) and Security Hub (4.16)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from findings.checks import REGISTRY
from findings.checks.base import GLOBAL, Result, Unit
from findings.checks.monitoring import CONTROLS, PatternError, parse_pattern, pattern_matches
from tests.checks.evidence import checked

ACCOUNT = "123456789012"
UNIT = Unit(ACCOUNT, GLOBAL)
ACCOUNT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
GROUP_ARN = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:trail-logs:*"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:security-alarms"
BY_REF = {control.ref: control for control in CONTROLS}


def run(check_id: str, data: dict[str, Any]) -> Result:
    results = checked(REGISTRY[check_id].run(data, UNIT))
    assert len(results) == 1
    assert results[0].resource_arn == ACCOUNT_ARN
    return results[0]


def trail(**overrides: Any) -> dict[str, Any]:
    base = {
        "arn": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main",
        "name": "main",
        "home_region": "us-east-1",
        "owned": True,
        "trail": {
            "IsMultiRegionTrail": True,
            "IncludeGlobalServiceEvents": True,
            "CloudWatchLogsLogGroupArn": GROUP_ARN,
        },
        "status": {"IsLogging": True},
        "event_selectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}],
        "advanced_event_selectors": [],
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def metric_filter(name: str, pattern: str, metric: str | None = None) -> dict[str, Any]:
    return {
        "filterName": name,
        "filterPattern": pattern,
        "metricTransformations": [
            {"metricName": metric or name, "metricNamespace": "CISBenchmark"}
        ],
    }


def alarm(metric: str, **overrides: Any) -> dict[str, Any]:
    return {
        "AlarmName": f"{metric}-alarm",
        "MetricName": metric,
        "Namespace": "CISBenchmark",
        "ActionsEnabled": True,
        "AlarmActions": [TOPIC],
        **overrides,
    }


CONFIRMED = {"SubscriptionArn": f"{TOPIC}:1111", "Protocol": "email", "Endpoint": "sec@x.test"}
PENDING = {"SubscriptionArn": "PendingConfirmation", "Protocol": "email", "Endpoint": "new@x.test"}


def data(
    filters: list[dict[str, Any]],
    alarms: list[dict[str, Any]] | None = None,
    subscriptions: list[dict[str, Any]] | None = None,
    trails: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    if alarms is None:
        alarms = [alarm(m["metricTransformations"][0]["metricName"]) for m in filters]
    return {
        "collected_at": "2024-05-01T12:00:00+00:00",
        "trails": trails if trails is not None else [trail()],
        "log_groups": [
            {
                "arn": GROUP_ARN,
                "region": "us-east-1",
                "name": "trail-logs",
                "exists": True,
                "metric_filters": filters,
            }
        ],
        "alarms": {"us-east-1": alarms},
        "topics": {
            TOPIC: {
                "exists": True,
                "subscriptions": [CONFIRMED] if subscriptions is None else subscriptions,
            }
        },
    }


# --------------------------------------------------------------------------- patterns


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: c.ref)
def test_every_benchmark_pattern_parses_and_matches_itself(control: Any) -> None:
    for pattern in control.patterns:
        parse_pattern(pattern)
        assert pattern_matches(pattern, control.patterns)


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: c.ref)
def test_every_control_passes_with_its_pattern_end_to_end(control: Any) -> None:
    result = run(control.check_id, data([metric_filter("cis", control.patterns[0])]))
    assert result.status == "pass"
    assert "'cis'" in result.summary


def test_whitespace_quotes_and_order_do_not_matter() -> None:
    control = BY_REF["4.5"]
    pattern = (
        '{($.eventName="StopLogging")||($.eventName = StartLogging)   ||\n'
        "  ($.eventName=DeleteTrail) || ( $.eventName = UpdateTrail ) || "
        "(($.eventName = CreateTrail))}"
    )
    assert pattern_matches(pattern, control.patterns)


def test_reordered_and_terms_with_grouping_match() -> None:
    control = BY_REF["4.7"]
    pattern = (
        "{ (($.eventName = ScheduleKeyDeletion) || ($.eventName = DisableKey)) && "
        '($.eventSource = "kms.amazonaws.com") }'
    )
    assert pattern_matches(pattern, control.patterns)


def test_extra_alternatives_still_match() -> None:
    control = BY_REF["4.10"]
    pattern = control.patterns[0].replace(" }", " || ($.eventName = ModifySecurityGroupRules) }")
    assert pattern_matches(pattern, control.patterns)


def test_a_missing_event_name_does_not_match() -> None:
    control = BY_REF["4.10"]
    pattern = control.patterns[0].replace("|| ($.eventName = DeleteSecurityGroup) ", "")
    assert "DeleteSecurityGroup" not in pattern
    assert not pattern_matches(pattern, control.patterns)


def test_an_extra_condition_narrows_and_does_not_match() -> None:
    control = BY_REF["4.6"]
    pattern = (
        '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") && '
        '($.userIdentity.type = "IAMUser") }'
    )
    assert not pattern_matches(pattern, control.patterns)


def test_4_1_accepts_the_literal_and_the_corrected_pattern_and_the_plain_error_codes() -> None:
    control = BY_REF["4.1"]
    for pattern in control.patterns:
        assert pattern_matches(pattern, control.patterns)
    plain = '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
    assert pattern_matches(plain, control.patterns)
    assert not pattern_matches('{ $.errorCode = "AccessDenied*" }', control.patterns)


def test_4_2_accepts_the_sso_variant() -> None:
    control = BY_REF["4.2"]
    sso = (
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
        '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }'
    )
    assert pattern_matches(sso, control.patterns)


def test_4_13_accepts_the_event_source_variant() -> None:
    control = BY_REF["4.13"]
    assert pattern_matches(control.patterns[1], control.patterns)
    assert "ec2.amazonaws.com" in control.patterns[1]


def test_4_3_without_parentheses() -> None:
    pattern = (
        '{$.userIdentity.type="Root" && $.eventType!="AwsServiceEvent" && '
        "$.userIdentity.invokedBy NOT EXISTS}"
    )
    assert pattern_matches(pattern, BY_REF["4.3"].patterns)


@pytest.mark.parametrize(
    "text",
    ["", "ERROR", "{ $.eventName = }", "{ ($.eventName = A }", "{ $.a = b } extra", '"x"'],
)
def test_unparseable_patterns_do_not_match(text: str) -> None:
    with pytest.raises(PatternError):
        parse_pattern(text)
    assert not pattern_matches(text, BY_REF["4.5"].patterns)


# --------------------------------------------------------------------------- the chain

CHECK = BY_REF["4.4"].check_id
IAM_PATTERN = BY_REF["4.4"].patterns[0]


def test_no_qualifying_trail_fails() -> None:
    stopped = trail(status={"IsLogging": False})
    local = trail(trail={"IsMultiRegionTrail": False})
    no_logs = trail(trail={"CloudWatchLogsLogGroupArn": None})
    reads = trail(event_selectors=[{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}])
    for bad in (stopped, local, no_logs, reads):
        result = run(CHECK, data([metric_filter("iam", IAM_PATTERN)], trails=[bad]))
        assert result.status == "fail"
        assert "No trail is multi-region" in result.summary


def test_no_matching_filter_fails_and_lists_filters() -> None:
    result = run(CHECK, data([metric_filter("other", BY_REF["4.5"].patterns[0])]))
    assert result.status == "fail"
    assert "none matching the pattern for IAM policy changes" in result.summary
    assert result.details["metric_filters"][0]["name"] == "other"


def test_filter_without_alarm_fails() -> None:
    result = run(CHECK, data([metric_filter("iam", IAM_PATTERN)], alarms=[]))
    assert result.status == "fail"
    assert "no alarm watches its metric CISBenchmark/iam" in result.summary


def test_alarm_with_actions_disabled_fails() -> None:
    result = run(
        CHECK,
        data([metric_filter("iam", IAM_PATTERN)], alarms=[alarm("iam", ActionsEnabled=False)]),
    )
    assert result.status == "fail"
    assert "actions are disabled" in result.summary


def test_alarm_without_sns_action_fails() -> None:
    result = run(
        CHECK, data([metric_filter("iam", IAM_PATTERN)], alarms=[alarm("iam", AlarmActions=[])])
    )
    assert result.status == "fail"
    assert "notifies no SNS topic" in result.summary


def test_alarm_without_subscribers_fails() -> None:
    result = run(CHECK, data([metric_filter("iam", IAM_PATTERN)], subscriptions=[]))
    assert result.status == "fail"
    assert "no confirmed subscriber." in result.summary


def test_pending_subscription_fails() -> None:
    result = run(CHECK, data([metric_filter("iam", IAM_PATTERN)], subscriptions=[PENDING]))
    assert result.status == "fail"
    assert "(1 pending confirmation)" in result.summary


def test_one_confirmed_subscriber_among_pending_passes() -> None:
    result = run(
        CHECK, data([metric_filter("iam", IAM_PATTERN)], subscriptions=[PENDING, CONFIRMED])
    )
    assert result.status == "pass"
    assert "1 confirmed subscriber" in result.summary
    assert result.details["alarm"] == "iam-alarm"
    assert result.details["topic"] == TOPIC


def test_deleted_topic_fails() -> None:
    payload = data([metric_filter("iam", IAM_PATTERN)])
    payload["topics"][TOPIC] = {"exists": False, "subscriptions": []}
    result = run(CHECK, payload)
    assert result.status == "fail"
    assert "does not exist" in result.summary


def test_alarm_on_another_namespace_does_not_count() -> None:
    result = run(
        CHECK,
        data([metric_filter("iam", IAM_PATTERN)], alarms=[alarm("iam", Namespace="Other")]),
    )
    assert result.status == "fail"


def test_metric_math_alarm_counts() -> None:
    math = {
        "AlarmName": "math",
        "ActionsEnabled": True,
        "AlarmActions": [TOPIC],
        "Metrics": [
            {
                "Id": "m1",
                "MetricStat": {"Metric": {"Namespace": "CISBenchmark", "MetricName": "iam"}},
            }
        ],
    }
    assert run(CHECK, data([metric_filter("iam", IAM_PATTERN)], alarms=[math])).status == "pass"


def test_deleted_log_group_fails() -> None:
    payload = data([])
    payload["log_groups"][0]["exists"] = False
    result = run(CHECK, payload)
    assert result.status == "fail"
    assert "does not exist" in result.summary


def test_evidence_reports_the_furthest_step() -> None:
    # Two filters match: one without alarm, one whose alarm's topic has only pending subscribers.
    payload = data(
        [metric_filter("a", IAM_PATTERN), metric_filter("b", IAM_PATTERN)],
        alarms=[alarm("b")],
        subscriptions=[PENDING],
    )
    result = run(CHECK, payload)
    assert result.status == "fail"
    assert result.details["metric_filter"] == "b"
    assert "pending confirmation" in result.summary


# --------------------------------------------------------------------------- 4.16

HUB = "securityhub_hub_enabled"
REGION = Unit(ACCOUNT, "eu-west-1")


def test_4_16_enabled_and_not() -> None:
    enabled = REGISTRY[HUB].run(
        {
            "region": "eu-west-1",
            "hub": {"HubArn": "arn:aws:securityhub:eu-west-1:1:hub/default", "SubscribedAt": "x"},
        },
        REGION,
    )
    assert [r.status for r in enabled] == ["pass"]
    assert enabled[0].resource_arn == f"arn:aws:securityhub:eu-west-1:{ACCOUNT}:regional-settings"
    disabled = REGISTRY[HUB].run({"region": "eu-west-1", "hub": None}, REGION)
    assert [r.status for r in disabled] == ["fail"]
    assert "not enabled in eu-west-1" in disabled[0].summary


def test_4_16_evidence() -> None:
    hub = {
        "HubArn": f"arn:aws:securityhub:eu-west-1:{ACCOUNT}:hub/default",
        "SubscribedAt": "2024-01-15T08:30:00.000Z",
        "AutoEnableControls": True,
    }
    (enabled,) = checked(REGISTRY[HUB].run({"hub": hub}, REGION))
    assert (
        enabled.summary == "Security Hub is enabled in eu-west-1 (since 2024-01-15T08:30:00.000Z)."
    )
    assert enabled.details == {"hub": hub}
    (recent,) = checked(REGISTRY[HUB].run({"hub": {"HubArn": hub["HubArn"]}}, REGION))
    assert recent.summary == "Security Hub is enabled in eu-west-1."
    (disabled,) = checked(REGISTRY[HUB].run({}, REGION))
    assert disabled.status == "fail"
    assert disabled.summary == (
        "Security Hub is not enabled in eu-west-1: DescribeHub reports no subscription."
    )
    assert disabled.details == {"hub": None}


# --------------------------------------------------------------------------- parsing, evidence


def test_the_parser_reads_every_comparison_and_test() -> None:
    assert parse_pattern('{ $.a = "x \\"y\\"" }') == ("term", "$.a", "=", 'x "y"')
    for op in ("=", "!=", "<", ">", "<=", ">="):
        assert parse_pattern(f"{{ $.n {op} 5 }}") == ("term", "$.n", op, "5")
    assert parse_pattern("{ $.a NOT EXISTS }") == ("term", "$.a", "NOT EXISTS", None)
    assert parse_pattern("{ $.a not exists }") == ("term", "$.a", "NOT EXISTS", None)
    assert parse_pattern("{ $.a EXISTS }") == ("term", "$.a", "EXISTS", None)
    assert parse_pattern("{ $.a IS NULL }") == ("term", "$.a", "IS NULL", None)
    assert parse_pattern("{ $.a IS true }") == ("term", "$.a", "IS TRUE", None)
    assert parse_pattern("{ ($.a = 1) && ($.b = 2) && ($.a = 1) }") == (
        "and",
        frozenset({("term", "$.a", "=", "1"), ("term", "$.b", "=", "2")}),
    )
    assert parse_pattern("{ (($.a = 1)) || $.b = 2 }") == (
        "or",
        frozenset({("term", "$.a", "=", "1"), ("term", "$.b", "=", "2")}),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{ $.a = 1 ", "ends too early"),
        ("{ $.a = 1 ) }", "expected '}'"),
        ("$.a = 1", "expected '{'"),
        ("{ a = 1 }", "expected a selector"),
        ("{ $.a NOT THERE }", "expected EXISTS"),
        ("{ $.a LIKE 1 }", "expected an operator after $.a"),
        ("{ $.a = ( }", "expected a value after $.a ="),
        ("{ $.a = 1 } }", "text after the closing brace"),
        ('{ $.a = "open }', "unexpected text at"),
    ],
)
def test_the_parser_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(PatternError, match=re.escape(message)):
        parse_pattern(text)


def test_a_narrower_filter_does_not_imply_a_broader_one() -> None:
    broad = "{ ($.eventName = A) || ($.eventName = B) }"
    assert pattern_matches("{ ($.eventName = A) || ($.eventName = B) || ($.x = 1) }", [broad])
    assert not pattern_matches("{ ($.eventName = A) && ($.x = 1) }", [broad])
    assert not pattern_matches("{ $.eventName = A }", [broad])
    assert pattern_matches("{ ($.eventName = A) || ($.eventName = B) }", ["{ $.eventName = A }"])
    assert not pattern_matches("{ $.eventName != A }", ["{ $.eventName = A }"])


def test_the_log_group_is_read_from_the_trails_arn() -> None:
    from findings.checks.monitoring import log_group_of

    assert log_group_of(f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:a:b:*") == ("eu-west-1", "a:b")
    assert log_group_of(f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:trail") == (
        "eu-west-1",
        "trail",
    )
    assert log_group_of(f"arn:aws:s3:eu-west-1:{ACCOUNT}:log-group:trail:*") is None
    assert log_group_of(f"arn:aws:logs:eu-west-1:{ACCOUNT}:destination:trail") is None
    assert log_group_of("arn:aws:logs:eu-west-1") is None


def test_only_sns_actions_notify_people() -> None:
    actions = [
        "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1:autoScalingGroupName/a",
        "arn:aws:ssm:us-east-1:123456789012:opsitem:3",
    ]
    result = run(
        CHECK,
        data([metric_filter("iam", IAM_PATTERN)], alarms=[alarm("iam", AlarmActions=actions)]),
    )
    assert result.status == "fail"
    assert (
        result.summary == "Alarm 'iam-alarm' watches CISBenchmark/iam, but notifies no SNS topic."
    )
    assert result.details["AlarmActions"] == actions


def test_a_deleted_subscription_is_not_confirmed() -> None:
    deleted = {"SubscriptionArn": "Deleted", "Protocol": "email", "Endpoint": "old@x.test"}
    result = run(CHECK, data([metric_filter("iam", IAM_PATTERN)], subscriptions=[deleted]))
    assert result.status == "fail"
    assert result.summary == (
        f"Alarm 'iam-alarm' on CISBenchmark/iam notifies topic {TOPIC}, which has no confirmed "
        "subscriber (1 pending confirmation)."
    )
    assert result.details["subscriptions"] == [deleted]


def test_an_alarm_in_another_region_does_not_watch_the_filter() -> None:
    payload = data([metric_filter("iam", IAM_PATTERN)], alarms=[])
    payload["alarms"]["eu-west-1"] = [alarm("iam")]
    result = run(CHECK, payload)
    assert result.status == "fail"
    assert "no alarm watches its metric CISBenchmark/iam" in result.summary
    assert result.details["metrics"] == [("CISBenchmark", "iam")]


def test_evidence_of_a_pass_names_the_whole_chain() -> None:
    result = run(CHECK, data([metric_filter("iam", IAM_PATTERN)]))
    assert result.status == "pass"
    assert result.summary == (
        "Metric filter 'iam' on log group 'trail-logs' (trail 'main') matches IAM policy "
        f"changes; alarm 'iam-alarm' notifies topic {TOPIC}, which has 1 confirmed subscriber."
    )
    assert result.details == {
        "trail": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main",
        "log_group": GROUP_ARN,
        "metric_filter": "iam",
        "filter_pattern": IAM_PATTERN,
        "alarm": "iam-alarm",
        "metrics": [("CISBenchmark", "iam")],
        "topic": TOPIC,
        "subscriptions": [CONFIRMED],
    }


def test_evidence_of_a_missing_filter_lists_the_filters_and_the_pattern() -> None:
    other = metric_filter("other", "{ $.eventName = ConsoleLogin }")
    result = run(CHECK, data([other]))
    assert result.summary == (
        "Log group 'trail-logs' of trail 'main' has 1 metric filter, none matching the pattern "
        "for IAM policy changes."
    )
    assert result.details["required_pattern"] == IAM_PATTERN
    assert result.details["log_group"] == GROUP_ARN
    assert result.details["trail"] == f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main"
    assert result.details["metric_filters"] == [
        {"name": "other", "pattern": "{ $.eventName = ConsoleLogin }"}
    ]
    assert result.details["trails"] == [
        {
            "trail": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main",
            "qualifies": True,
            "problem": None,
        }
    ]
    two = run(CHECK, data([other, metric_filter("x", "{ $.a = 1 }")]))
    assert "has 2 metric filters, none matching" in two.summary


def test_evidence_when_no_trail_qualifies_lists_each_trails_problem() -> None:
    no_logs = trail(trail={"CloudWatchLogsLogGroupArn": None})
    stopped = trail(
        arn=f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/stopped", status={"IsLogging": False}
    )
    result = run(CHECK, data([metric_filter("iam", IAM_PATTERN)], trails=[no_logs, stopped]))
    assert result.summary == (
        "No trail is multi-region, logging, recording all management events and sending to "
        "CloudWatch Logs, so nothing can alarm on IAM policy changes."
    )
    assert result.details == {
        "trails": [
            {
                "trail": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main",
                "qualifies": False,
                "problem": "does not send to CloudWatch Logs",
            },
            {
                "trail": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/stopped",
                "qualifies": False,
                "problem": "is not logging",
            },
        ]
    }


def test_a_log_group_in_another_account_was_not_read() -> None:
    elsewhere = "arn:aws:logs:us-east-1:999999999999:log-group:org-trail:*"
    result = run(
        CHECK,
        data(
            [metric_filter("iam", IAM_PATTERN)],
            trails=[trail(trail={"CloudWatchLogsLogGroupArn": elsewhere})],
        ),
    )
    assert result.status == "fail"
    assert result.summary == (
        f"The log group {elsewhere} of trail 'main' was not read (it is in another account)."
    )
    assert result.details["log_group"] == elsewhere


def test_a_metric_math_alarm_without_the_metric_does_not_count() -> None:
    math = {
        "AlarmName": "math",
        "ActionsEnabled": True,
        "AlarmActions": [TOPIC],
        "Metrics": [
            {"Id": "e1", "Expression": "m1 * 2"},
            {
                "Id": "m1",
                "MetricStat": {"Metric": {"Namespace": "CISBenchmark", "MetricName": "other"}},
            },
        ],
    }
    result = run(CHECK, data([metric_filter("iam", IAM_PATTERN)], alarms=[math]))
    assert result.status == "fail"
    assert "no alarm watches its metric CISBenchmark/iam" in result.summary


def test_nested_groups_of_the_same_kind_flatten() -> None:
    a, b, c = (("term", f"$.{n}", "=", "1") for n in "abc")
    assert parse_pattern("{ (($.a = 1) || ($.b = 2)) || $.c = 1 }") == (
        "or",
        frozenset({a, ("term", "$.b", "=", "2"), c}),
    )
    assert parse_pattern("{ $.a = 1 && (($.b = 1) && ($.c = 1)) }") == ("and", frozenset({a, b, c}))
    # So a benchmark pattern regrouped still matches it.
    pattern = (
        "{ (($.eventName = CreateTrail) || ($.eventName = UpdateTrail)) || "
        "(($.eventName = DeleteTrail) || ($.eventName = StartLogging) || "
        "($.eventName = StopLogging)) }"
    )
    assert pattern_matches(pattern, BY_REF["4.5"].patterns)


def test_an_unreadable_pattern_is_quoted_in_the_error() -> None:
    with pytest.raises(PatternError) as raised:
        parse_pattern('{ $.a = "' + "x" * 30 + " }")
    assert str(raised.value) == "unexpected text at 8: '\"xxxxxxxxxxxxxxxxxxx'"


def test_evidence_keeps_the_first_filter_among_equals() -> None:
    payload = data([metric_filter("a", IAM_PATTERN), metric_filter("b", IAM_PATTERN)], alarms=[])
    result = run(CHECK, payload)
    assert result.status == "fail"
    assert result.details["metric_filter"] == "a"
    assert result.summary.startswith("Metric filter 'a' on log group 'trail-logs'")


def test_an_alarm_notifying_a_topic_that_was_not_found_fails() -> None:
    gone = f"arn:aws:sns:us-east-1:{ACCOUNT}:deleted-topic"
    result = run(
        CHECK,
        data([metric_filter("iam", IAM_PATTERN)], alarms=[alarm("iam", AlarmActions=[gone])]),
    )
    assert result.status == "fail"
    assert result.summary == (
        f"Alarm 'iam-alarm' on CISBenchmark/iam notifies topic {gone}, which does not exist."
    )
    assert result.details["topic"] == gone
    assert result.details["subscriptions"] == []
