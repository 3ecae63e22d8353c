"""JSON bodies that the database can store, and that no part of the app chokes on."""

from __future__ import annotations

import io
import json

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

# No body of this API nests deeper than a few levels (zone rules: object, list, text); past
# this, a body is refused with 400 instead of reaching recursive code (the JSON decoder, the
# renderers, the database driver) that fails with a RecursionError, a 500.
MAX_DEPTH = 20


def _depth(value: object) -> int:
    """How deeply ``value`` nests lists and objects, walked without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _key_nesting_too_deep(text: str) -> str | None:
    """The top-level key under which ``text`` nests past ``MAX_DEPTH`` (for a body the
    decoder could not even read), found by a scan that tracks strings and brackets."""
    depth, in_string, escaped, start, last_key = 0, False, False, 0, None
    for position, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
                if depth == 1:
                    candidate = text[start + 1 : position]
                    if text[position + 1 :].lstrip().startswith(":"):
                        last_key = candidate
        elif char == '"':
            in_string, start = True, position
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return last_key
        elif char in "]}":
            depth -= 1
    return None


def _too_deep(key: str | None) -> Exception:
    message = f"Nested more than {MAX_DEPTH} levels deep."
    if key is None:
        return ParseError(f"JSON parse error - {message[0].lower()}{message[1:]}")
    return ValidationError({key: [message]})


class StrictJSONParser(JSONParser):
    """JSON whose texts are valid Unicode, nested at most ``MAX_DEPTH`` levels.

    A lone surrogate (``"\\udc00"``) is legal JSON but cannot be encoded to UTF-8, so it would
    fail deep in the database driver instead of being refused here with a 400.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            text = body.decode("utf-8", errors="replace")
            raise _too_deep(_key_nesting_too_deep(text)) from None
        if _depth(data) > MAX_DEPTH:
            key = None
            if isinstance(data, dict):
                key = next((k for k, v in data.items() if _depth(v) + 1 > MAX_DEPTH), None)
            raise _too_deep(key)
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError("JSON parse error - texts must be valid Unicode.") from None
        except (ValueError, TypeError):
            # NaN or Infinity.
            raise ParseError("JSON parse error - unsupported value.") from None
        return data
