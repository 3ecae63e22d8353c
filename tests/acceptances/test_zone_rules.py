"""Zone rule parsing and matching: pure logic, no database."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from acceptances.zones import normalize_rules, parse_rules, parse_tag_rule

RES = {"account_id": "123456789012", "region": "eu-west-1", "resource_type": "AWS::S3::Bucket"}


@pytest.mark.parametrize(
    "text,tags,expected",
    [
        ("Environment=prod", {"Environment": "prod"}, True),
        ("Environment=prod", {"Environment": "dev"}, False),
        ("Environment = prod", {"Environment": "prod"}, True),
        ("Team in (web, api)", {"Team": "api"}, True),
        ("Team IN (web,api)", {"Team": "db"}, False),
        ("Team in (web, api)", {}, False),
        ("Owner", {"Owner": ""}, True),
        ("Owner", {}, False),
        ("Environment != prod", {}, True),
        ("Environment != prod", {"Environment": "prod"}, False),
        ("aws:cloudformation:stack-name=web", {"aws:cloudformation:stack-name": "web"}, True),
    ],
)
def test_tag_rules(text, tags, expected):
    assert parse_tag_rule(text).matches(tags) is expected


@pytest.mark.parametrize("text", ["", "   ", "Team in ()", "Team in web, api", "(Team)"])
def test_malformed_tag_rules_are_refused(text):
    with pytest.raises(ValueError):
        parse_tag_rule(text)


def test_every_criterion_must_hold_and_values_are_alternatives():
    rules = parse_rules(
        {
            "regions": ["eu-west-1", "us-east-1"],
            "resource_types": ["AWS::S3::Bucket"],
            "tags": ["Environment=prod"],
        }
    )
    assert rules.matches(**RES, tags={"Environment": "prod"})
    assert not rules.matches(**RES, tags={"Environment": "dev"})
    assert not rules.matches(**{**RES, "region": "ap-south-1"}, tags={"Environment": "prod"})


def test_empty_rules_match_everything():
    rules = parse_rules({})
    assert rules.matches_everything and rules.matches(**RES, tags={})


def test_comma_separated_text_is_accepted_for_lists():
    rules = parse_rules({"regions": "eu-west-1, us-east-1"})
    assert rules.regions == {"eu-west-1", "us-east-1"}


def test_normalized_form_is_canonical():
    rules = parse_rules({"regions": ["us-east-1", "eu-west-1"], "tags": ["Team in (web,api)"]})
    assert normalize_rules(rules) == {
        "regions": ["eu-west-1", "us-east-1"],
        "tags": ["Team in (web, api)"],
    }


def test_a_non_object_is_refused():
    with pytest.raises(ValidationError):
        parse_rules(["regions"])
