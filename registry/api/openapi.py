"""drf-spectacular's AutoSchema, made to describe what the API really enforces.

- An operation's description is its method's docstring or its own view class's, never
  one inherited from a mixin (which described the mixin, not the endpoint).
- A list serializer's allow_empty/min_length/max_length and a DictField's allow_empty
  become minItems/maxItems/minProperties, which drf-spectacular leaves out.
- A request body that refuses unknown fields (StrictInputMixin) says so:
  additionalProperties: false.
- An operation that takes a body documents the 415 (in the error shape) that answers a
  body of any other type than the ones it lists.
"""

import inspect

from django.core.validators import RegexValidator
from drf_spectacular import openapi
from drf_spectacular.plumbing import get_doc, is_list_serializer
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from ..validators import MODEL_NAME_RE
from .errors import ErrorSerializer
from .fields import NOT_BLANK, StrictInputMixin

# What the API reads must be storable: PostgreSQL refuses NUL, so the API does (a 400).
NO_NUL = "^[^\\u0000]*$"

# OpenAPI patterns are ECMA regexes: no \A or \Z.
MODEL_NAME_PATTERN = MODEL_NAME_RE.replace("\\A", "^").replace("\\Z", "$")


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation and "requestBody" in operation and "415" not in operation["responses"]:
            unsupported = OpenApiResponse(
                ErrorSerializer,
                description="A body of a type this operation does not take (see its request body).",
            )
            operation["responses"]["415"] = self._get_response_for_code(unsupported, "415")
            operation["responses"] = dict(sorted(operation["responses"].items()))
        return operation

    def get_description(self) -> str:
        method = getattr(self.view, getattr(self.view, "action", self.method.lower()), None)
        own_class_doc = self.view.__class__.__dict__.get("__doc__")
        return get_doc(method) or (inspect.cleandoc(own_class_doc) if own_class_doc else "")

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(serializer, StrictInputMixin):
            schema["additionalProperties"] = False
        if direction == "request" and getattr(serializer, "schema_dependent_required", None):
            schema["dependentRequired"] = dict(serializer.schema_dependent_required)
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if getattr(field, "property_names", None) and isinstance(schema, dict):
            schema["additionalProperties"] = dict(field.value_schema)  # sent and returned
            if direction == "request":  # OpenAPI 3.1 (JSON Schema 2020-12)
                schema["propertyNames"] = dict(field.property_names)
        if not isinstance(schema, dict) or direction != "request":
            return schema  # a response may well be empty where a request may not
        if isinstance(field, serializers.FileField) and not field.allow_empty_file:
            schema["minLength"] = max(schema.get("minLength", 0), 1)  # bytes of the file
        elif (
            isinstance(field, serializers.CharField)
            and not field.allow_blank
            and field.trim_whitespace
            and schema.get("type") == "string"
            and not {"pattern", "format", "enum"} & schema.keys()
            and not any(isinstance(v, RegexValidator) for v in field.validators)
        ):
            schema["pattern"] = NOT_BLANK  # DRF strips the value, then refuses it blank
        elif is_list_serializer(field) and schema.get("type") == "array":
            minimum = max(field.min_length or 0, 0 if field.allow_empty else 1)
            if minimum:
                schema["minItems"] = minimum
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        elif isinstance(field, serializers.ListField) and schema.get("type") == "array":
            if not field.allow_empty:
                schema["minItems"] = max(schema.get("minItems", 0), 1)
        elif isinstance(field, serializers.DictField) and schema.get("type") == "object":
            if not field.allow_empty:
                schema["minProperties"] = max(schema.get("minProperties", 0), 1)
        return schema


def strings_without_nul(result, generator, request, public):
    """Postprocessing hook: every string a client sends (a parameter or in a request body)
    without a pattern, format or enum of its own gets one that excludes NUL."""

    def walk(node):
        if isinstance(node, dict):
            kind = node.get("type")
            is_string = kind == "string" or (isinstance(kind, list) and "string" in kind)
            if is_string and not {"pattern", "format", "enum"} & node.keys():
                node["pattern"] = NO_NUL
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            walk(operation.get("parameters", []))
            walk(operation.get("requestBody", {}))
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            walk(component)
    return result
