"""The sns collector against the moto server, then "SNS topic is not public" on its data."""

from __future__ import annotations

from simulation.account import client
from tests.aws.collect import collect, public_policy

CHECK = "sns_topic_not_public"


def test_default_topic_policy_passes_and_an_open_one_fails(aws: str) -> None:
    sns = client(aws, "sns", "us-east-1")
    default = sns.create_topic(Name="alerts")["TopicArn"]
    opened = sns.create_topic(Name="open")["TopicArn"]
    sns.set_topic_attributes(
        TopicArn=opened, AttributeName="Policy", AttributeValue=public_policy(opened, "SNS:Publish")
    )

    collected, results, ctx = collect(aws, "sns")

    assert ctx.api_calls == 1 + 2  # ListTopics, then GetTopicAttributes per topic
    topics = {topic["name"]: topic for topic in collected.data["topics"]}
    # The default policy AWS (and moto) write: everyone, pinned by AWS:SourceOwner.
    statement = topics["alerts"]["policy"]["Statement"][0]
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceOwner": "123456789012"}}
    passed = results[(CHECK, default)]
    assert passed.status == "pass"
    assert "AWS:SourceOwner = 123456789012" in passed.summary
    failed = results[(CHECK, opened)]
    assert failed.status == "fail"
    assert "statement 'Anyone' allows SNS:Publish to everyone" in failed.summary
