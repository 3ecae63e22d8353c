"""The sqs collector against the moto server, then "SQS queue is not public" on its data."""

from __future__ import annotations

from findings.aws import COLLECTORS
from findings.aws.base import REGIONAL
from simulation.account import client
from tests.aws.collect import ORG_ONLY, collect, public_policy

CHECK = "sqs_queue_not_public"


def test_queues_with_and_without_public_policies(aws: str) -> None:
    assert COLLECTORS["sqs"].scope == REGIONAL
    sqs = client(aws, "sqs", "us-east-1")
    arn = "arn:aws:sqs:us-east-1:123456789012:{}"
    sqs.create_queue(QueueName="private")
    sqs.create_queue(
        QueueName="open", Attributes={"Policy": public_policy(arn.format("open"), "sqs:*")}
    )
    sqs.create_queue(
        QueueName="org",
        Attributes={
            "Policy": public_policy(arn.format("org"), "sqs:SendMessage", Condition=ORG_ONLY)
        },
    )
    client(aws, "sqs", "eu-west-1").create_queue(QueueName="elsewhere")

    collected, results, ctx = collect(aws, "sqs")

    queues = {queue["name"]: queue for queue in collected.data["queues"]}
    assert set(queues) == {"private", "open", "org"}  # the region's own queues only
    assert ctx.api_calls == 1 + 3  # ListQueues, then GetQueueAttributes per queue
    assert queues["private"]["policy"] is None
    assert queues["open"]["policy"]["Statement"][0]["Sid"] == "Anyone"
    assert {ref.resource_type for ref in collected.resources} == {"AWS::SQS::Queue"}

    assert results[(CHECK, arn.format("private"))].status == "pass"
    opened = results[(CHECK, arn.format("open"))]
    assert opened.status == "fail"
    assert opened.summary.startswith("Queue 'open' is public: statement 'Anyone' allows sqs:*")
    org = results[(CHECK, arn.format("org"))]
    assert org.status == "pass"
    assert "aws:PrincipalOrgID = o-a1b2c3d4e5" in org.summary
