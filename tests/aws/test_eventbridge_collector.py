"""The events collector against the moto server, then "EventBridge event bus is not open to
everyone" on its data."""

from __future__ import annotations

from simulation.account import client
from tests.aws.collect import collect

CHECK = "eventbridge_bus_not_public"
DEFAULT = "arn:aws:events:us-east-1:123456789012:event-bus/default"
CUSTOM = "arn:aws:events:us-east-1:123456789012:event-bus/orders"


def test_buses_opened_to_every_account_or_to_the_organisation(aws: str) -> None:
    events = client(aws, "events", "us-east-1")
    events.create_event_bus(Name="orders")

    collected, results, ctx = collect(aws, "events")
    assert {bus["name"] for bus in collected.data["buses"]} == {"default", "orders"}
    assert ctx.api_calls == 1 + 2  # ListEventBuses, then DescribeEventBus per bus
    assert results[(CHECK, DEFAULT)].summary == (
        "Event bus 'default' is not public: it has no resource policy."
    )

    # What `aws events put-permission --principal "*"` does: every account may put events.
    events.put_permission(Action="events:PutEvents", Principal="*", StatementId="everyone")
    events.put_permission(
        EventBusName="orders",
        Action="events:PutEvents",
        Principal="*",
        StatementId="org",
        Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-a1b2c3d4e5"},
    )
    collected, results, _ = collect(aws, "events")
    failed = results[(CHECK, DEFAULT)]
    assert failed.status == "fail"
    assert "statement 'everyone' allows events:PutEvents to everyone" in failed.summary
    org = results[(CHECK, CUSTOM)]
    assert org.status == "pass"
    assert "aws:PrincipalOrgID = o-a1b2c3d4e5" in org.summary
