"""Zone rules: parsing, validation and matching. Pure logic, no database.

A rule set is a JSON object with optional lists::

    account_ids     ["123456789012", ...]
    regions         ["eu-west-1", "global", ...]
    resource_types  ["AWS::S3::Bucket", ...]
    tags            ["Environment=prod", "Team in (web, api)", "Owner", "Name = \"a (b)\""]

Each present list must match (AND); the values within a list are alternatives (OR); every tag
expression must hold. Tag expressions, with what each matches:

    Key=value          resources whose tag Key is exactly value
    Key != value       resources whose tag Key is anything else, and resources without the tag
    Key in (a, b)      resources whose tag Key is a or b
    Key                resources that have the tag Key, whatever its value

Keys and values are compared exactly, case included, as AWS does. A key or value may be written
in double quotes (``\\"`` and ``\\\\`` escape a quote and a backslash inside them); quotes are
needed for a key with ``"``, ``=``, ``!``, ``(``, ``)``, a comma or the word ``in``, for a value
with ``(`` or ``)`` (or a comma or quote inside a list), and for spaces at either end or an empty
value. The canonical text (``str(rule)``, stored on the zone) quotes only where needed and reads
back as the same rule.

``ZoneRules.matches`` is the meaning; ``acceptances.zone_query`` says the same in SQL, and a
property test holds the two together.

Parsing is one left-to-right pass over the text (no backtracking regular expression sees a rule),
so its cost is linear in the rule's length; the limits below bound that length anyway, since any
viewer may ask for a preview.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

RULE_KEYS = ("account_ids", "regions", "resource_types", "tags")

# Limits on what one zone may say. They are far above any real zone and keep a preview (which
# any viewer may ask for) cheap: the parse is linear, the SQL has at most this many terms.
MAX_TAG_RULES = 50
MAX_TAG_RULE_LENGTH = 1000
MAX_IN_VALUES = 100
MAX_LIST_VALUES = 500  # account ids, regions or resource types in one zone
# AWS's own limits on a tag (in Unicode characters): a longer key or value matches nothing.
MAX_TAG_KEY_LENGTH = 128
MAX_TAG_VALUE_LENGTH = 256

_ACCOUNT_RE = re.compile(r"[0-9]{12}")
_REGION_RE = re.compile(r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]|global")
_TYPE_RE = re.compile(r"AWS::[A-Za-z0-9]*::[A-Za-z0-9]+")
# Control characters cannot be typed in a tag and PostgreSQL refuses NUL; lone surrogates
# cannot be stored at all.
_UNTYPABLE_RE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")

# Characters that end an unquoted key: operators, list punctuation and quotes.
_KEY_STOPS = frozenset('=!(),"')
# Characters that end an unquoted value inside a list.
_ITEM_STOPS = frozenset('(),"')
# Characters an unquoted value after = or != may not hold (so `Team = (a, b)` is not silently
# taken as a literal value when `in` was meant). A quote inside is taken as it is, as rules
# stored before quoting existed held them; the canonical text quotes such a value.
_VALUE_REFUSED = frozenset("()")
_VALUE_QUOTED = frozenset('()"')


def _shown(text: str, limit: int = 60) -> str:
    """A piece of user input for an error message, cut so a huge input gives a short message."""
    return text if len(text) <= limit else f"{text[:limit]}…"


def _has_word_in(text: str) -> bool:
    return any(word.lower() == "in" for word in text.split())


def _quote(text: str, specials: frozenset[str], *, key: bool = False) -> str:
    """``text`` as it must be written in a rule: bare when it reads back the same, else quoted."""
    bare = (
        text != ""
        and text == text.strip()
        and not any(ch in specials for ch in text)
        and not (key and _has_word_in(text))
    )
    if bare:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class TagRule:
    key: str
    op: str  # "eq", "ne", "in", "exists"
    values: tuple[str, ...] = ()

    def matches(self, tags: Mapping[str, str]) -> bool:
        if self.op == "exists":
            return self.key in tags
        if self.op == "ne":
            # A resource without the tag is "not equal" too: `Env != prod` covers untagged ones.
            return self.key not in tags or tags[self.key] != self.values[0]
        return self.key in tags and tags[self.key] in self.values

    def __str__(self) -> str:
        key = _quote(self.key, _KEY_STOPS, key=True)
        if self.op == "exists":
            return key
        if self.op == "ne":
            return f"{key} != {_quote(self.values[0], _VALUE_QUOTED)}"
        if self.op == "eq":
            return f"{key}={_quote(self.values[0], _VALUE_QUOTED)}"
        listed = ", ".join(_quote(value, _ITEM_STOPS) for value in self.values)
        return f"{key} in ({listed})"


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


class _Scanner:
    """One left-to-right pass over a tag rule; each method consumes what it reads."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def bare(self, stops: frozenset[str]) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in stops:
            self.pos += 1
        return self.text[start : self.pos]

    def quoted(self) -> str:
        """A double-quoted text (the scanner is on its opening quote), unescaped."""
        self.pos += 1
        parts: list[str] = []
        start = self.pos
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"':
                parts.append(self.text[start : self.pos])
                self.pos += 1
                return "".join(parts)
            if char == "\\":
                escaped = self.text[self.pos + 1 : self.pos + 2]
                if escaped not in ('"', "\\"):
                    raise ValueError('inside quotes, only \\" and \\\\ are escapes')
                parts.append(self.text[start : self.pos])
                parts.append(escaped)
                self.pos += 2
                start = self.pos
                continue
            self.pos += 1
        raise ValueError("a quote is not closed")

    def at_end(self) -> bool:
        self.skip_spaces()
        return self.pos == len(self.text)


def _value(scanner: _Scanner) -> str:
    """The value after = or !=: a quoted text, or the rest of the rule."""
    scanner.skip_spaces()
    if scanner.peek() == '"':
        value = scanner.quoted()
        if not scanner.at_end():
            raise ValueError("nothing may follow the quoted value")
        return value
    value = scanner.bare(frozenset()).strip()
    if any(ch in _VALUE_REFUSED for ch in value):
        raise ValueError('quote a value that holds ( or ), e.g. Name = "a (b)"')
    return value


def _list(scanner: _Scanner) -> tuple[str, ...]:
    """The values of ``in (a, "b, c")`` (the scanner is on the opening parenthesis)."""
    scanner.pos += 1
    values: list[str] = []
    while True:
        scanner.skip_spaces()
        if scanner.peek() == '"':
            values.append(scanner.quoted())
            scanner.skip_spaces()
        else:
            item = scanner.bare(_ITEM_STOPS).strip()
            if item:  # "(a, , b)" is (a, b): an empty value is written ""
                values.append(item)
        char = scanner.peek()
        scanner.pos += 1
        if char == ")":
            break
        if char == "":
            raise ValueError("the list is not closed with )")
        if char != ",":
            raise ValueError(f"unexpected {char} in the list: quote a value that holds it")
    if not scanner.at_end():
        raise ValueError("nothing may follow the list's )")
    if not values:
        raise ValueError("'in' needs at least one value, e.g. Team in (web, api)")
    if len(values) > MAX_IN_VALUES:
        raise ValueError(f"at most {MAX_IN_VALUES} values in one list")
    return tuple(values)


def _key(scanner: _Scanner) -> tuple[str, bool]:
    """The key, and whether ``in`` followed it (the scanner then is on the list's "(")."""
    scanner.skip_spaces()
    if scanner.peek() == '"':
        key = scanner.quoted()
        scanner.skip_spaces()
        rest = scanner.text[scanner.pos : scanner.pos + 3]
        if rest[:2].lower() != "in" or not (rest[2:] == "(" or rest[2:].isspace()):
            return key, False
        scanner.pos += 2
        scanner.skip_spaces()
        if scanner.peek() != "(":
            raise ValueError("write a list as key in (a, b)")
        return key, True
    key = scanner.bare(_KEY_STOPS).strip()
    is_list = False
    if scanner.peek() == "(":
        # "Team in (": the unquoted text before the parenthesis ends with the word "in".
        if key[-2:].lower() != "in" or (len(key) > 2 and not key[-3].isspace()):
            raise ValueError("'(' opens a list: write key in (a, b), or quote the value")
        key, is_list = key[:-2].rstrip(), True
    if _has_word_in(key):
        raise ValueError("write a list as key in (a, b); quote a key that holds the word in")
    return key, is_list


def parse_tag_rule(text: str) -> TagRule:
    """Parse one tag expression; raise ValueError naming what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a tag rule must be a non-empty text such as Environment=prod")
    if len(text) > MAX_TAG_RULE_LENGTH:
        raise ValueError(
            f"'{_shown(text)}': a tag rule is at most {MAX_TAG_RULE_LENGTH} characters "
            f"(this one has {len(text)})"
        )
    if _UNTYPABLE_RE.search(text):
        raise ValueError(f"'{_shown(text)}' holds a control character")
    try:
        rule = _parse(_Scanner(text))
    except ValueError as exc:
        raise ValueError(f"'{_shown(text)}': {exc}") from None
    if len(rule.key) > MAX_TAG_KEY_LENGTH:
        raise ValueError(
            f"'{_shown(text)}': a tag key is at most {MAX_TAG_KEY_LENGTH} characters in AWS"
        )
    if any(len(value) > MAX_TAG_VALUE_LENGTH for value in rule.values):
        raise ValueError(
            f"'{_shown(text)}': a tag value is at most {MAX_TAG_VALUE_LENGTH} characters in AWS"
        )
    return rule


def _parse(scanner: _Scanner) -> TagRule:
    key, is_list = _key(scanner)
    if not key:
        raise ValueError("a tag rule needs a key, e.g. Environment=prod")
    if is_list:
        return TagRule(key, "in", _list(scanner))
    if scanner.at_end():
        return TagRule(key, "exists")
    char = scanner.peek()
    if char == "=":
        scanner.pos += 1
        return TagRule(key, "eq", (_value(scanner),))
    if scanner.text.startswith("!=", scanner.pos):
        scanner.pos += 2
        return TagRule(key, "ne", (_value(scanner),))
    raise ValueError(
        f"unexpected {char} after the key: write key=value, key != value, key in (a, b) or key"
    )


def _string_list(
    rules: Mapping[str, Any], key: str, errors: list[str], *, limit: int, separator: str = ","
) -> list[str]:
    value = rules.get(key, [])
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [part.strip() for part in value.split(separator) if part.strip()]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        errors.append(f"{key}: expected a list of texts")
        return []
    if len(value) > limit:
        errors.append(f"{key}: at most {limit} per zone (got {len(value)})")
        return []
    return [item.strip() for item in value if item.strip()]


def parse_rules(rules: Any) -> ZoneRules:
    """Validate a rule set; raise ValidationError with one message per bad part."""
    if rules in (None, ""):
        rules = {}
    if not isinstance(rules, Mapping):
        raise ValidationError({"rules": 'Zone rules must be an object such as {"regions": [...]}'})
    errors: list[str] = []
    unknown = sorted(str(key) for key in set(rules) - set(RULE_KEYS))
    if unknown:
        errors.append(f"unknown rule {_shown(', '.join(unknown))}; use {', '.join(RULE_KEYS)}")
    accounts = _string_list(rules, "account_ids", errors, limit=MAX_LIST_VALUES)
    for account in accounts:
        if not _ACCOUNT_RE.fullmatch(account):
            errors.append(f"account_ids: '{_shown(account)}' is not a 12-digit AWS account id")
    regions = _string_list(rules, "regions", errors, limit=MAX_LIST_VALUES)
    for region in regions:
        if not _REGION_RE.fullmatch(region):
            errors.append(
                f"regions: '{_shown(region)}' is not a region such as eu-west-1 (or 'global')"
            )
    types = _string_list(rules, "resource_types", errors, limit=MAX_LIST_VALUES)
    for resource_type in types:
        if not _TYPE_RE.fullmatch(resource_type):
            errors.append(
                f"resource_types: '{_shown(resource_type)}' is not a type such as AWS::S3::Bucket"
            )
    tag_rules: list[TagRule] = []
    # Tag rules hold commas ("Team in (a, b)"): as one text, they are one per line.
    for text in _string_list(rules, "tags", errors, limit=MAX_TAG_RULES, separator="\n"):
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
