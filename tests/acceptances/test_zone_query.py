"""The database selects exactly the resources the pure zone matcher matches, on both databases.

Preview, membership and coverage all go through the query; the pure matcher is the rule's
definition. Hypothesis draws resources with random tags (keys that look like numbers, hold ":"
or spaces, differ only in case; values empty, with commas or parentheses) and random rule sets.
"""

from __future__ import annotations

import itertools

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acceptances.services import resources_matching
from acceptances.zones import TagRule, normalize_rules, parse_rules
from findings.models import CloudAccount, Resource
from tests.acceptances.test_zone_rules import MATCH_CASES

pytestmark = pytest.mark.django_db

ACCOUNTS = ["111111111111", "222222222222"]
REGIONS = ["eu-west-1", "us-east-1", "global"]
TYPES = ["AWS::S3::Bucket", "AWS::EC2::Instance", "AWS::IAM::User"]
KEYS = ["Env", "env", "Team", "aws:cloudformation:stack-name", "Cost Center", "2024", "-1", " 1"]
KEYS += ["a=b", "é", "Log in", "x.y"]
VALUES = ["prod", "Prod", "", "web", "a, b", "x (y)", "in", " web", "1", "null", "true", 'say "hi"']
VALUES += ["back\\slash", "é", "in (prod)"]

_arn = itertools.count()


def _resource(account: CloudAccount, region: str, resource_type: str, tags: dict, gone: bool):
    now = timezone.now()
    return Resource(
        account=account,
        region=region,
        scan_unit=region,
        resource_type=resource_type,
        arn=f"arn:aws:test:::r{next(_arn)}",
        tags=tags,
        first_seen=now,
        gone_at=now if gone else None,
    )


resources_st = st.lists(
    st.tuples(
        st.sampled_from(ACCOUNTS),
        st.sampled_from(REGIONS),
        st.sampled_from(TYPES),
        st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=4),
        st.booleans(),
    ),
    max_size=12,
)

tag_rule_st = st.one_of(
    st.builds(TagRule, st.sampled_from(KEYS), st.just("exists")),
    st.builds(TagRule, st.sampled_from(KEYS), st.just("eq"), st.tuples(st.sampled_from(VALUES))),
    st.builds(TagRule, st.sampled_from(KEYS), st.just("ne"), st.tuples(st.sampled_from(VALUES))),
    st.builds(
        TagRule,
        st.sampled_from(KEYS),
        st.just("in"),
        st.lists(st.sampled_from(VALUES), min_size=1, max_size=3).map(tuple),
    ),
)

rules_st = st.fixed_dictionaries(
    {},
    optional={
        "account_ids": st.lists(st.sampled_from([*ACCOUNTS, "999999999999"]), min_size=1),
        "regions": st.lists(st.sampled_from(REGIONS), min_size=1),
        "resource_types": st.lists(st.sampled_from(TYPES), min_size=1),
        "tags": st.lists(tag_rule_st.map(str), min_size=1, max_size=3),
    },
)


@pytest.fixture
def accounts(db) -> dict[str, CloudAccount]:
    return {
        number: CloudAccount.objects.create(account_id=number, name=f"acct-{number}")
        for number in ACCOUNTS
    }


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=resources_st, rules=rules_st)
def test_the_query_selects_what_the_pure_matcher_matches(accounts, rows, rules):
    parsed = parse_rules(rules)
    with transaction.atomic():
        created = Resource.objects.bulk_create(
            [
                _resource(accounts[a], region, rtype, tags, gone)
                for a, region, rtype, tags, gone in rows
            ]
        )
        expected = {
            resource.pk
            for resource, (account_id, *_rest) in zip(created, rows, strict=True)
            if resource.gone_at is None
            and parsed.matches(
                account_id=account_id,
                region=resource.region,
                resource_type=resource.resource_type,
                tags=resource.tags,
            )
        }
        selected = set(resources_matching(rules).values_list("pk", flat=True))
        # The stored canonical form selects the same.
        again = set(resources_matching(normalize_rules(parsed)).values_list("pk", flat=True))
        transaction.set_rollback(True)
    assert selected == expected
    assert again == expected


@pytest.mark.parametrize("text,tags,expected", MATCH_CASES)
def test_each_rule_shape_means_the_same_in_the_database(accounts, text, tags, expected):
    resource = _resource(accounts[ACCOUNTS[0]], "eu-west-1", TYPES[0], tags, gone=False)
    resource.save()
    selected = resources_matching({"tags": [text]}).filter(pk=resource.pk).exists()
    assert selected is expected


def test_env_not_prod_includes_every_untagged_resource(accounts):
    account = accounts[ACCOUNTS[0]]
    Resource.objects.bulk_create(
        [_resource(account, "eu-west-1", TYPES[0], {}, gone=False) for _ in range(5)]
        + [_resource(account, "eu-west-1", TYPES[0], {"Env": "dev"}, gone=False)]
        + [_resource(account, "eu-west-1", TYPES[0], {"Env": "prod"}, gone=False)]
    )
    assert resources_matching({"tags": ["Env != prod"]}).count() == 6


def test_an_account_or_type_that_does_not_match_excludes_the_resource(accounts):
    first = _resource(accounts[ACCOUNTS[0]], "eu-west-1", TYPES[0], {}, gone=False)
    second = _resource(accounts[ACCOUNTS[1]], "eu-west-1", TYPES[1], {}, gone=False)
    Resource.objects.bulk_create([first, second])
    by_account = resources_matching({"account_ids": [ACCOUNTS[0]]})
    assert list(by_account.values_list("arn", flat=True)) == [first.arn]
    by_type = resources_matching({"resource_types": [TYPES[1]]})
    assert list(by_type.values_list("arn", flat=True)) == [second.arn]
    assert not resources_matching({"account_ids": ["999999999999"]}).exists()
