"""JSON bodies that the database can store."""

from __future__ import annotations

import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    """JSON whose texts are valid Unicode: a lone surrogate (``"\\udc00"``) is legal JSON but
    cannot be encoded to UTF-8, so it would fail deep in the database driver instead of
    being refused here with a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError("JSON parse error - texts must be valid Unicode.") from None
        except (ValueError, TypeError):
            # NaN or Infinity, or nesting too deep to write back.
            raise ParseError("JSON parse error - unsupported value.") from None
        return data
