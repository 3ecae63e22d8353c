"""Serializer fields that take the client's input as it is, never a guess at what was meant."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cspm.api.base import MAX_ID


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """An object by its id: a whole number (or its digits as text), nothing else.

    DRF's own field hands the value to the database lookup, which turns ``1.5`` into 1 and
    ``true`` into 1: a client's mistake would silently pick another object.
    """

    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "incorrect_type": "An id (a whole number) is required, not {data_type}.",
    }

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if isinstance(data, str):
            if not data.isascii() or not data.isdigit():
                self.fail("incorrect_type", data_type="text")
            data = int(data)
        if not 1 <= data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)
