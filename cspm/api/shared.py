"""What the API faces of both apps share: the id query parameter, the export action, the
serializer of a resource named in another object.

Faces of one app never import another app's faces; they meet here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from cspm.api.base import JsonErrorsNegotiation, export_format, streaming_export
from findings.models import Resource

EXPORT_PARAMETER = OpenApiParameter(
    "format", str, enum=["csv", "json"], default="json", description="csv or json"
)


def id_param(request: Request, name: str, model: type[Model]) -> Any | None:
    """The row of ``model`` whose id the query parameter ``name`` gives (None when absent);
    a 400 naming the parameter when it is not an id or no such row exists."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise ValidationError({name: ["An id (a whole number)."]})
    obj = model.objects.filter(pk=int(raw)).first()
    if obj is None:
        raise ValidationError({name: [f"No such {model._meta.verbose_name}."]})
    return obj


def export_action() -> Callable[[Callable[..., Any]], Any]:
    """The ``/export/`` route of a list: the whole filtered list at once (no pagination), with
    errors as JSON whatever format was asked for."""
    return action(
        detail=False,
        methods=["get"],
        pagination_class=None,
        content_negotiation_class=JsonErrorsNegotiation,
    )


def export_response(
    viewset: Any,
    records: Callable[[QuerySet], Iterable[dict[str, Any]]],
    fields: list[str],
    name: str,
) -> Any:
    """Stream the viewset's filtered list as ``records`` turns it into rows (CSV or JSON)."""
    fmt = export_format(viewset.request)
    rows = viewset.filter_queryset(viewset.get_queryset())
    return streaming_export(lambda: records(rows), fields, fmt, name)


# A resource named in another object: enough to find and link it.
class ResourceRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Resource
        fields = ("id", "arn", "name", "resource_type", "region")
