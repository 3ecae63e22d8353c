"""Zone rules: parsing, validation and matching. Pure logic, no database.

A rule set is a JSON object with optional lists::

    account_ids     ["123456789012", ...]
    regions         ["eu-west-1", "global", ...]
    resource_types  ["AWS::S3::Bucket", ...]
    tags            ["Environment=prod", "Team in (web, api)", "Owner"]

Each present list must match (AND); the values within a list are alternatives (OR); every tag
expression must hold. Tag expressions: ``key=value``, ``key != value``, ``key in (a, b)``, or a
bare ``key`` (the tag is present, any value).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

RULE_KEYS = ("account_ids", "regions", "resource_types", "tags")

_ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
_REGION_RE = re.compile(r"^([a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]|global)$")
_TYPE_RE = re.compile(r"^AWS::[A-Za-z0-9]*::[A-Za-z0-9]+$")
_TAG_KEY = r"[\w .:/=+\-@]+?"
_TAG_IN_RE = re.compile(rf"^\s*(?P<key>{_TAG_KEY})\s+in\s*\((?P<values>.*)\)\s*$", re.IGNORECASE)
_TAG_NE_RE = re.compile(rf"^\s*(?P<key>{_TAG_KEY})\s*!=\s*(?P<value>.*?)\s*$")
_TAG_EQ_RE = re.compile(rf"^\s*(?P<key>{_TAG_KEY})\s*=\s*(?P<value>.*?)\s*$")
_TAG_HAS_RE = re.compile(rf"^\s*(?P<key>{_TAG_KEY})\s*$")


@dataclass(frozen=True)
class TagRule:
    key: str
    op: str  # "eq", "ne", "in", "exists"
    values: tuple[str, ...] = ()

    def matches(self, tags: Mapping[str, str]) -> bool:
        if self.op == "exists":
            return self.key in tags
        if self.op == "ne":
            return tags.get(self.key) != self.values[0]
        return self.key in tags and tags[self.key] in self.values

    def __str__(self) -> str:
        if self.op == "exists":
            return self.key
        if self.op == "ne":
            return f"{self.key} != {self.values[0]}"
        if self.op == "eq":
            return f"{self.key}={self.values[0]}"
        return f"{self.key} in ({', '.join(self.values)})"


@dataclass(frozen=True)
class ZoneRules:
    account_ids: frozenset[str] = field(default_factory=frozenset)
    regions: frozenset[str] = field(default_factory=frozenset)
    resource_types: frozenset[str] = field(default_factory=frozenset)
    tags: tuple[TagRule, ...] = ()

    @property
    def matches_everything(self) -> bool:
        return not (self.account_ids or self.regions or self.resource_types or self.tags)

    def matches(
        self, *, account_id: str, region: str, resource_type: str, tags: Mapping[str, str]
    ) -> bool:
        if self.account_ids and account_id not in self.account_ids:
            return False
        if self.regions and region not in self.regions:
            return False
        if self.resource_types and resource_type not in self.resource_types:
            return False
        return all(rule.matches(tags) for rule in self.tags)


def parse_tag_rule(text: str) -> TagRule:
    """Parse one tag expression; raise ValueError naming what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a tag rule must be a non-empty text such as Environment=prod")
    if match := _TAG_IN_RE.match(text):
        values = tuple(v.strip() for v in match["values"].split(",") if v.strip())
        if not values:
            raise ValueError(f"'{text}': 'in' needs at least one value, e.g. Team in (web, api)")
        return TagRule(match["key"].strip(), "in", values)
    if " in " in text.lower() or "(" in text or ")" in text:
        raise ValueError(f"'{text}': write a list as key in (a, b)")
    if match := _TAG_NE_RE.match(text):
        return TagRule(match["key"].strip(), "ne", (match["value"],))
    if match := _TAG_EQ_RE.match(text):
        return TagRule(match["key"].strip(), "eq", (match["value"],))
    if match := _TAG_HAS_RE.match(text):
        return TagRule(match["key"].strip(), "exists")
    raise ValueError(f"'{text}' is not a tag rule (key=value, key != value, key in (a, b), key)")


def _string_list(rules: Mapping[str, Any], key: str, errors: list[str]) -> list[str]:
    value = rules.get(key, [])
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        errors.append(f"{key}: expected a list of texts")
        return []
    return [item.strip() for item in value if item.strip()]


def parse_rules(rules: Any) -> ZoneRules:
    """Validate a rule set; raise ValidationError with one message per bad part."""
    if rules in (None, ""):
        rules = {}
    if not isinstance(rules, Mapping):
        raise ValidationError({"rules": 'Zone rules must be an object such as {"regions": [...]}'})
    errors: list[str] = []
    unknown = sorted(set(rules) - set(RULE_KEYS))
    if unknown:
        errors.append(f"unknown rule {', '.join(unknown)}; use {', '.join(RULE_KEYS)}")
    accounts = _string_list(rules, "account_ids", errors)
    for account in accounts:
        if not _ACCOUNT_RE.match(account):
            errors.append(f"account_ids: '{account}' is not a 12-digit AWS account id")
    regions = _string_list(rules, "regions", errors)
    for region in regions:
        if not _REGION_RE.match(region):
            errors.append(f"regions: '{region}' is not a region such as eu-west-1 (or 'global')")
    types = _string_list(rules, "resource_types", errors)
    for resource_type in types:
        if not _TYPE_RE.match(resource_type):
            errors.append(
                f"resource_types: '{resource_type}' is not a type such as AWS::S3::Bucket"
            )
    tag_rules: list[TagRule] = []
    for text in _string_list(rules, "tags", errors):
        try:
            tag_rules.append(parse_tag_rule(text))
        except ValueError as exc:
            errors.append(f"tags: {exc}")
    if errors:
        raise ValidationError({"rules": errors})
    return ZoneRules(frozenset(accounts), frozenset(regions), frozenset(types), tuple(tag_rules))


def normalize_rules(parsed: ZoneRules) -> dict[str, list[str]]:
    """The canonical JSON form stored on the zone (sorted, only the parts in use)."""
    result: dict[str, list[str]] = {}
    if parsed.account_ids:
        result["account_ids"] = sorted(parsed.account_ids)
    if parsed.regions:
        result["regions"] = sorted(parsed.regions)
    if parsed.resource_types:
        result["resource_types"] = sorted(parsed.resource_types)
    if parsed.tags:
        result["tags"] = [str(rule) for rule in parsed.tags]
    return result
