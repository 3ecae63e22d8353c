"""Errors as JSON, the same shape everywhere.

* 400: ``{"field": ["message", ...], ...}``; errors not about one field use ``non_field_errors``
  (the services' Django ``ValidationError`` keyed by field maps to the same shape).
* 401, 403, 404, 405, 406, 415, 429: ``{"detail": "message"}``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


def validation_error_detail(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            (api_settings.NON_FIELD_ERRORS_KEY if field == "__all__" else field): messages
            for field, messages in exc.message_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}


def _beyond_a_database_limit(exc: OperationalError) -> bool:
    sqlstate = getattr(exc.__cause__, "sqlstate", None) or ""
    return sqlstate.startswith("54")


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_error_detail(exc))
    elif isinstance(exc, DataError):
        # A value the database cannot hold (an id past 64 bits, a text too long for a column):
        # the client's input, not a server fault.
        exc = exceptions.ValidationError(
            {api_settings.NON_FIELD_ERRORS_KEY: ["A value is out of range for its field."]}
        )
    elif isinstance(exc, OperationalError) and _beyond_a_database_limit(exc):
        # The input asked for more than the database can plan (PostgreSQL's class 54: too many
        # columns, too many arguments, a statement too complex): too large, not a server fault.
        exc = exceptions.ValidationError(
            {api_settings.NON_FIELD_ERRORS_KEY: ["The request is too large to be answered."]}
        )
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The site's 404: JSON under /api/ (a path no route matches), the usual page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
