"""Building blocks shared by the apps' API packages."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django import forms
from django.http import StreamingHttpResponse
from django.utils import timezone
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField, RangeField
from django_filters.widgets import DateRangeWidget
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from cspm.csvcells import safe_csv_row

MAX_ID = 2**63 - 1
# Ids in URLs are digits only: anything else is not found before any query runs.
ID_REGEX = r"[0-9]{1,19}"


class IdField(forms.IntegerField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class IdFilter(filters.NumberFilter):
    """An id: a whole number (not a decimal), within a 64-bit column."""

    field_class = IdField


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, compared in UTC.

    ISO 8601 (and Python) allow UTC offsets up to ±23:59, PostgreSQL only up to ±15:59: a
    valid "…T20:36:52-23:43" would fail in the database (a 500 in the middle of a streamed
    export, found by schemathesis). In UTC every valid moment works.
    """

    def to_python(self, value: Any) -> dt.datetime | None:
        value = super().to_python(value)
        if value is not None and timezone.is_aware(value):
            return value.astimezone(dt.UTC)
        return value


class UTCIsoDateTimeRangeField(RangeField):
    widget = DateRangeWidget

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__((UTCIsoDateTimeField(), UTCIsoDateTimeField()), *args, **kwargs)


class DateTimeFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 moment (compared in UTC)."""

    field_class = UTCIsoDateTimeField


class DateTimeRangeFilter(filters.IsoDateTimeFromToRangeFilter):
    """``<name>_after`` / ``<name>_before``, ISO 8601 moments (compared in UTC)."""

    field_class = UTCIsoDateTimeRangeField


class JsonErrorsNegotiation(BaseContentNegotiation):
    """Exports choose their format with ``?format=``; their errors are always JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return JSONRenderer(), JSONRenderer.media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


EXPORT_FORMATS = ("csv", "json")


def export_format(request: Request) -> str:
    value = request.query_params.get("format", "json")
    if value not in EXPORT_FORMATS:
        raise exceptions.ValidationError({"format": ["Choose csv or json."]})
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(rows: Iterable[dict[str, Any]], fields: list[str]) -> Iterator[str]:
    writer = csv.DictWriter(_Echo(), fieldnames=fields)  # type: ignore[arg-type]
    yield writer.writeheader()
    for row in rows:
        yield writer.writerow(safe_csv_row(row))


def _json_rows(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    # A JSON array written row by row: a million rows never sit in memory at once.
    buffer = io.StringIO()
    buffer.write("[")
    first = True
    for row in rows:
        buffer.write(("" if first else ",") + "\n" + json.dumps(row, default=str))
        first = False
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer = io.StringIO()
    buffer.write("\n]\n")
    yield buffer.getvalue()


def streaming_export(
    rows: Callable[[], Iterable[dict[str, Any]]], fields: list[str], fmt: str, filename: str
) -> StreamingHttpResponse:
    """Stream ``rows`` as CSV or a JSON array, with a download file name."""
    if fmt == "csv":
        body, content_type = _csv_rows(rows(), fields), "text/csv; charset=utf-8"
    else:
        body, content_type = _json_rows(rows()), "application/json"
    response = StreamingHttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
