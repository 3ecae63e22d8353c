"""The filter patterns of CIS AWS Foundations v2.0.0 section 4, as the benchmark prints them.

The expected patterns are written here from the benchmark's text (its remediation steps give
each filter pattern literally), never taken from ``findings.checks.monitoring``: a test that
compares the module's patterns with themselves passes whatever the module says. Each literal
pattern must be recognised by its check, end to end; the same pattern with any one event name
left out, or misspelled, must not (an alarm that misses a route-table deletion is no alarm for
route-table changes).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from findings.checks import REGISTRY
from findings.checks.base import GLOBAL, Result, Unit
from tests.checks.evidence import checked

ACCOUNT = "123456789012"
UNIT = Unit(ACCOUNT, GLOBAL)
GROUP_ARN = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:aws-cloudtrail-logs:*"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:cis-alarms"

# ref -> (check, the benchmark's pattern). Spacing and quoting as printed in the benchmark.
BENCHMARK: dict[str, tuple[str, str]] = {
    "4.1": (
        "monitoring_unauthorized_api_calls_alarmed",
        '{($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") || '
        '($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }',
    ),
    "4.2": (
        "monitoring_console_signin_without_mfa_alarmed",
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
    ),
    "4.3": (
        "monitoring_root_usage_alarmed",
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
        '$.eventType != "AwsServiceEvent" }',
    ),
    "4.4": (
        "monitoring_iam_policy_changes_alarmed",
        "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||"
        "($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||"
        "($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||"
        "($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||"
        "($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||"
        "($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||"
        "($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||"
        "($.eventName=DetachGroupPolicy)}",
    ),
    "4.5": (
        "monitoring_cloudtrail_changes_alarmed",
        "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || "
        "($.eventName = DeleteTrail) || ($.eventName = StartLogging) || "
        "($.eventName = StopLogging) }",
    ),
    "4.6": (
        "monitoring_console_auth_failures_alarmed",
        '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
    ),
    "4.7": (
        "monitoring_cmk_disable_or_deletion_alarmed",
        "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||"
        "($.eventName=ScheduleKeyDeletion)) }",
    ),
    "4.8": (
        "monitoring_s3_bucket_policy_changes_alarmed",
        "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || "
        "($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || "
        "($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || "
        "($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || "
        "($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
    ),
    "4.9": (
        "monitoring_config_changes_alarmed",
        "{ ($.eventSource = config.amazonaws.com) && "
        "(($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||"
        "($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }",
    ),
    "4.10": (
        "monitoring_security_group_changes_alarmed",
        "{ ($.eventName = AuthorizeSecurityGroupIngress) || "
        "($.eventName = AuthorizeSecurityGroupEgress) || "
        "($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) "
        "|| ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
    ),
    "4.11": (
        "monitoring_nacl_changes_alarmed",
        "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || "
        "($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || "
        "($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
    ),
    "4.12": (
        "monitoring_network_gateway_changes_alarmed",
        "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || "
        "($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || "
        "($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
    ),
    "4.13": (
        "monitoring_route_table_changes_alarmed",
        "{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || "
        "($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || "
        "($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || "
        "($.eventName = DisassociateRouteTable) }",
    ),
    "4.14": (
        "monitoring_vpc_changes_alarmed",
        "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || "
        "($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || "
        "($.eventName = CreateVpcPeeringConnection) || "
        "($.eventName = DeleteVpcPeeringConnection) || "
        "($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || "
        "($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || "
        "($.eventName = EnableVpcClassicLink) }",
    ),
    "4.15": (
        "monitoring_organizations_changes_alarmed",
        '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") '
        '|| ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || '
        '($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || '
        '($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || '
        '($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || '
        '($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || '
        '($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || '
        '($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || '
        '($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || '
        '($.eventName = "UpdateOrganizationalUnit")) }',
    ),
}
# Version 3.0.0 of the benchmark gives 4.13 with the event source; both are accepted.
ROUTE_TABLES_WITH_SOURCE = (
    "{($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || "
    "($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || "
    "($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || "
    "($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }"
)
# Later editions group 4.1's error codes and AND the exclusions (what v2.0.0 meant).
UNAUTHORIZED_CORRECTED = (
    '{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && '
    '($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }'
)
# The alternatives each filter must keep: its event names, and 4.1's two error codes.
_TERM = re.compile(r'\(\$\.(?:eventName|errorCode) ?= ?"?([A-Za-z*]+)"?\)')


def verdict(check_id: str, pattern: str) -> Result:
    metric = {"metricName": "CISAlarm", "metricNamespace": "CISBenchmark"}
    data: dict[str, Any] = {
        "collected_at": "2024-05-01T12:00:00+00:00",
        "trails": [
            {
                "arn": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/management-events",
                "name": "management-events",
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
        ],
        "log_groups": [
            {
                "arn": GROUP_ARN,
                "region": "us-east-1",
                "name": "aws-cloudtrail-logs",
                "exists": True,
                "metric_filters": [
                    {
                        "filterName": "cis-filter",
                        "filterPattern": pattern,
                        "metricTransformations": [metric],
                    }
                ],
            }
        ],
        "alarms": {
            "us-east-1": [
                {
                    "AlarmName": "cis-alarm",
                    "MetricName": "CISAlarm",
                    "Namespace": "CISBenchmark",
                    "ActionsEnabled": True,
                    "AlarmActions": [TOPIC],
                }
            ]
        },
        "topics": {
            TOPIC: {
                "exists": True,
                "subscriptions": [
                    {
                        "SubscriptionArn": f"{TOPIC}:0b1c",
                        "Protocol": "email",
                        "Endpoint": "security@example.com",
                    }
                ],
            }
        },
    }
    results = checked(REGISTRY[check_id].run(data, UNIT))
    assert len(results) == 1
    return results[0]


def without(pattern: str, name: str) -> str:
    """``pattern`` with the alternative naming ``name`` taken out, with its ``||``."""
    term = rf'\(\$\.(?:eventName|errorCode) ?= ?"?{re.escape(name)}"?\)'
    shorter, count = re.subn(rf"\s*\|\|\s*{term}|{term}\s*\|\|\s*", "", pattern)
    assert count == 1, (name, pattern)
    return shorter


def alternatives() -> list[tuple[str, str, str]]:
    """(ref, pattern, name) for every alternative of every pattern that ORs alternatives.

    4.1 is left out: v2.0.0 prints it with the exclusions ORed in, so it fires on nearly every
    event and leaving out one error code loses nothing; the corrected form stands in for it.
    """
    cases = [(ref, pattern, name) for ref, (_, pattern) in BENCHMARK.items()
             for name in _TERM.findall(pattern) if "||" in pattern and ref != "4.1"]  # fmt: skip
    for ref, pattern in (("4.1", UNAUTHORIZED_CORRECTED), ("4.13", ROUTE_TABLES_WITH_SOURCE)):
        cases += [(ref, pattern, name) for name in _TERM.findall(pattern)]
    return cases


def test_the_table_covers_section_4() -> None:
    assert sorted(BENCHMARK, key=lambda ref: int(ref.split(".")[1])) == [
        f"4.{n}" for n in range(1, 16)
    ]
    assert {ref for ref, _, _ in alternatives()} == {
        "4.1", "4.4", "4.5", "4.7", "4.8", "4.9", "4.10", "4.11", "4.12", "4.13", "4.14", "4.15"
    }  # fmt: skip


@pytest.mark.parametrize("ref", list(BENCHMARK))
def test_the_benchmark_pattern_passes_its_check(ref: str) -> None:
    check_id, pattern = BENCHMARK[ref]
    result = verdict(check_id, pattern)
    assert result.status == "pass", result.summary
    assert REGISTRY[check_id].controls == (ref,)
    assert result.details["metric_filter"] == "cis-filter"
    assert result.details["filter_pattern"] == pattern


@pytest.mark.parametrize(
    ("ref", "pattern"), [("4.1", UNAUTHORIZED_CORRECTED), ("4.13", ROUTE_TABLES_WITH_SOURCE)]
)
def test_the_later_editions_patterns_pass(ref: str, pattern: str) -> None:
    result = verdict(BENCHMARK[ref][0], pattern)
    assert result.status == "pass", result.summary


@pytest.mark.parametrize(
    ("ref", "pattern", "name"),
    alternatives(),
    ids=[f"{ref}-{name}" for ref, _, name in alternatives()],
)
def test_the_pattern_missing_one_event_fails(ref: str, pattern: str, name: str) -> None:
    check_id = BENCHMARK[ref][0]
    shorter = without(pattern, name)
    result = verdict(check_id, shorter)
    assert result.status == "fail"
    assert "none matching the pattern for" in result.summary
    assert result.details["metric_filters"] == [{"name": "cis-filter", "pattern": shorter}]


@pytest.mark.parametrize(
    ("ref", "pattern", "name"),
    alternatives(),
    ids=[f"{ref}-{name}" for ref, _, name in alternatives()],
)
def test_the_pattern_with_one_event_misspelled_fails(ref: str, pattern: str, name: str) -> None:
    # What a dropped letter in a hand-written filter looks like: CreateRouteTabe.
    typo = name[:-2] + name[-1]
    misspelled = pattern.replace(f"{name})", f"{typo})", 1).replace(f'{name}")', f'{typo}")', 1)
    assert misspelled != pattern
    assert verdict(BENCHMARK[ref][0], misspelled).status == "fail"


@pytest.mark.parametrize(
    ("ref", "original", "changed"),
    [
        ("4.2", '"ConsoleLogin"', '"ConsoleLogout"'),
        ("4.2", '!= "Yes"', '= "Yes"'),
        ("4.3", '"Root"', '"IAMUser"'),
        ("4.3", "NOT EXISTS", "EXISTS"),
        ("4.3", '!= "AwsServiceEvent"', '= "AwsServiceEvent"'),
        ("4.6", "= ConsoleLogin", "= ConsoleLogout"),
        ("4.6", '"Failed authentication"', '"Success"'),
        ("4.7", "kms.amazonaws.com", "ec2.amazonaws.com"),
        ("4.8", "s3.amazonaws.com", "s3-outposts.amazonaws.com"),
        ("4.9", "config.amazonaws.com", "cloudtrail.amazonaws.com"),
        ("4.15", "organizations.amazonaws.com", "account.amazonaws.com"),
    ],
)
def test_a_pattern_on_other_events_fails(ref: str, original: str, changed: str) -> None:
    check_id, pattern = BENCHMARK[ref]
    assert original in pattern
    assert verdict(check_id, pattern.replace(original, changed, 1)).status == "fail"


@pytest.mark.parametrize(
    ("ref", "extra"),
    [
        ("4.2", '($.userIdentity.type = "Root")'),
        ("4.3", "($.awsRegion = us-east-1)"),
        ("4.6", '($.userIdentity.type = "IAMUser")'),
        ("4.13", "($.awsRegion = us-east-1)"),
    ],
)
def test_a_pattern_narrowed_by_another_condition_fails(ref: str, extra: str) -> None:
    check_id, pattern = BENCHMARK[ref]
    narrowed = pattern.rstrip().removesuffix("}") + f" && {extra} }}"
    if "||" in pattern:  # && binds tighter: keep the alternatives together
        narrowed = "{ (" + pattern.strip()[1:-1] + f") && {extra} }}"
    assert verdict(check_id, narrowed).status == "fail"
