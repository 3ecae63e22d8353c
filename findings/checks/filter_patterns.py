"""CloudWatch Logs metric-filter patterns: parsing, and whether one pattern fires on every event
another fires on (the matching rule is described in ``findings.checks.monitoring``).

Pure text handling, apart from the checks that use it, so that the parser can be read and
changed on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

Node = tuple[Any, ...]  # ("term", field, op, value) | ("and", frozenset) | ("or", frozenset)

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*")
      | (?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\)|\{|\})
      | (?P<sel>\$[^\s=!<>()&|{}]*)
      | (?P<word>[^\s=!<>()&|{}"]+)
    )""",
    re.VERBOSE,
)
_COMPARISONS = {"=", "!=", "<", ">", "<=", ">="}


class PatternError(ValueError):
    """The text is not a JSON filter pattern this parser understands."""


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise PatternError(f"unexpected text at {position}: {text[position : position + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return tokens


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _combine(kind: str, children: list[Node]) -> Node:
    flat: set[Node] = set()
    for child in children:
        if child[0] == kind:
            flat |= child[1]
        else:
            flat.add(child)
    return flat.pop() if len(flat) == 1 else (kind, frozenset(flat))


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise PatternError("the pattern ends too early")
        self.index += 1
        return token

    def expect(self, value: str) -> None:
        _, text = self.take()
        if text != value:
            raise PatternError(f"expected {value!r}, found {text!r}")

    def pattern(self) -> Node:
        self.expect("{")
        node = self.disjunction()
        self.expect("}")
        if self.peek() is not None:
            raise PatternError("text after the closing brace")
        return node

    def disjunction(self) -> Node:
        children = [self.conjunction()]
        while self.peek() == ("op", "||"):
            self.take()
            children.append(self.conjunction())
        return _combine("or", children)

    def conjunction(self) -> Node:
        children = [self.unary()]
        while self.peek() == ("op", "&&"):
            self.take()
            children.append(self.unary())
        return _combine("and", children)

    def unary(self) -> Node:
        if self.peek() == ("op", "("):
            self.take()
            node = self.disjunction()
            self.expect(")")
            return node
        return self.term()

    def term(self) -> Node:
        kind, field = self.take()
        if kind != "sel":
            raise PatternError(f"expected a selector such as $.eventName, found {field!r}")
        kind, text = self.take()
        if kind == "op" and text in _COMPARISONS:
            kind, value = self.take()
            if kind not in ("str", "word"):
                raise PatternError(f"expected a value after {field} {text}")
            return ("term", field, text, _unquote(value))
        word = text.upper()
        if kind == "word" and word == "NOT":
            self.expect_word("EXISTS")
            return ("term", field, "NOT EXISTS", None)
        if kind == "word" and word == "EXISTS":
            return ("term", field, "EXISTS", None)
        if kind == "word" and word == "IS":
            _, what = self.take()
            return ("term", field, f"IS {what.upper()}", None)
        raise PatternError(f"expected an operator after {field}, found {text!r}")

    def expect_word(self, word: str) -> None:
        _, text = self.take()
        if text.upper() != word:
            raise PatternError(f"expected {word}, found {text!r}")


def parse_pattern(text: str) -> Node:
    """The normalized syntax tree of a JSON filter pattern (raises PatternError)."""
    return _Parser(text).pattern()


def implies(required: Node, actual: Node) -> bool:
    """Whether every event matching ``required`` also matches ``actual`` (sound, not complete)."""
    if required[0] == "or":
        return all(implies(child, actual) for child in required[1])
    if actual[0] == "and":
        return all(implies(required, child) for child in actual[1])
    if actual[0] == "or" and any(implies(required, child) for child in actual[1]):
        return True
    if required[0] == "and" and any(implies(child, actual) for child in required[1]):
        return True
    return required[0] == actual[0] == "term" and required == actual


def pattern_matches(text: str, alternatives: Iterable[str]) -> bool:
    """Whether the filter pattern ``text`` covers one of the benchmark's ``alternatives``."""
    try:
        actual = parse_pattern(text)
    except PatternError:
        return False
    return any(implies(parse_pattern(required), actual) for required in alternatives)
