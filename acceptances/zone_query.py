"""Zone rules as a database filter: the same meaning as ``ZoneRules.matches``, in SQL.

Preview, membership and coverage all select resources through ``filter_resources``; a property
test (tests/acceptances/test_zone_query.py) asserts it selects exactly what the pure matcher
does, on PostgreSQL and on SQLite.

Tags are tested with a boolean expression of our own rather than Django's JSON key lookups:
those build a JSON path from the key, and a key that reads as an integer ("2024", " 1", "-1",
"1_0") becomes an array index on both databases, so it never matched; and ``.exclude()`` on a
key transform drops every resource that lacks the key, which made ``Env != prod`` leave out
untagged resources.
"""

from __future__ import annotations

from typing import Any

from django.db.models import BooleanField, Expression, F, Q, QuerySet

from acceptances.zones import TagRule, ZoneRules
from findings.models import Resource

# The meaning of zone rules in this module. Raise it when a rule comes to select other resources
# than before, so that stored zones are re-evaluated (acceptances.zone_upgrade) after migrate.
# 2: `Key != value` includes resources without the tag; keys that read as numbers match.
RULES_VERSION = 2


class TagHas(Expression):
    """True when the resource's tags hold ``key`` (with the text ``value``, if one is given)."""

    output_field = BooleanField()

    def __init__(self, key: str, value: str | None = None, tags: Any = None) -> None:
        super().__init__(output_field=BooleanField())
        self.key = key
        self.value = value
        self.tags = tags if tags is not None else F("tags")

    def get_source_expressions(self) -> list[Any]:
        return [self.tags]

    def set_source_expressions(self, exprs: list[Any]) -> None:
        (self.tags,) = exprs

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        # SQLite: json_each lists the object's members by their real key, whatever it looks
        # like; a member's value must be a text equal to ours (AWS tag values are texts).
        tags_sql, params = compiler.compile(self.tags)
        # The column comes from the compiler; key and value are parameters.
        sql = f"EXISTS (SELECT 1 FROM json_each({tags_sql}) AS tag WHERE tag.key = %s"  # noqa: S608
        params = [*params, self.key]
        if self.value is not None:
            sql += " AND tag.type = 'text' AND tag.value = %s"
            params.append(self.value)
        return f"{sql})", params

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        # jsonb's ? and @> compare keys and texts exactly (case included); a missing key is
        # simply false, never NULL, so NOT of this is true for an untagged resource.
        tags_sql, params = compiler.compile(self.tags)
        if self.value is None:
            return f"({tags_sql} ? %s)", [*params, self.key]
        return (
            f"({tags_sql} @> jsonb_build_object(%s::text, %s::text))",
            [*params, self.key, self.value],
        )


def _tag_q(rule: TagRule) -> Q:
    if rule.op == "exists":
        return Q(TagHas(rule.key))
    if rule.op == "ne":
        return ~Q(TagHas(rule.key, rule.values[0]))
    # eq is "in" with one value.
    either = Q()
    for value in rule.values:
        either |= Q(TagHas(rule.key, value))
    return either


def rules_q(rules: ZoneRules) -> Q:
    """The condition on ``Resource`` rows that ``rules`` stand for (gone ones aside)."""
    condition = Q()
    if rules.account_ids:
        condition &= Q(account__account_id__in=sorted(rules.account_ids))
    if rules.regions:
        condition &= Q(region__in=sorted(rules.regions))
    if rules.resource_types:
        condition &= Q(resource_type__in=sorted(rules.resource_types))
    for rule in rules.tags:
        condition &= _tag_q(rule)
    return condition


def filter_resources(rules: ZoneRules, resources: QuerySet[Resource] | None = None) -> QuerySet:
    """The current (not gone) resources of ``resources`` (default: all) that ``rules`` match."""
    if resources is None:
        resources = Resource.objects.all()
    return resources.filter(rules_q(rules), gone_at__isnull=True)
