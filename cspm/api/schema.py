"""OpenAPI generation: every operation documents the errors it may answer.

The error statuses come from one place (here) rather than from each view, so the schema cannot
forget one: 400 (input named per field), 401 (no or bad credentials), 403 (role may not),
404 (no such object, or not visible), 415 (a body in a type the endpoint does not read), 429
(throttled).
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    "Error",
    fields={"detail": serializers.CharField()},
)

# A 400 body: messages keyed by field name ("non_field_errors" for the rest). Values are lists
# of messages, or nested objects/lists for nested input (bulk items).
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "Messages keyed by the name of each bad field.",
    "additionalProperties": {},
}

ERRORS = {
    "400": OpenApiResponse(VALIDATION_ERROR_SCHEMA, description="Invalid input, named per field."),
    "401": OpenApiResponse(ErrorSerializer, description="Not authenticated, or a bad token."),
    "403": OpenApiResponse(ErrorSerializer, description="Your role may not do this."),
    "404": OpenApiResponse(ErrorSerializer, description="Not found (or not visible to you)."),
    "429": OpenApiResponse(ErrorSerializer, description="Too many requests; retry later."),
}
BODY_ERRORS = {
    "415": OpenApiResponse(ErrorSerializer, description="Unsupported body media type."),
}


class AutoSchema(BaseAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        extra = dict(ERRORS)
        if self.method in ("POST", "PUT", "PATCH"):
            extra.update(BODY_ERRORS)
        for code, response in extra.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, None, direction)
        return responses
