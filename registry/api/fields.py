"""Serializer building blocks: strict input and JSON fields inside multipart bodies."""

from collections.abc import Mapping

from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.utils import html

from .parsers import json_value_problem, loads_bounded

STAGE_MESSAGE = (
    "The stage changes only through an approved transition request; "
    "it cannot be set through this endpoint."
)
STAGE_FIELDS = ("stage", "current_stage")


class StrictInputMixin:
    # Reject fields the endpoint does not accept, and non-strings for text fields.
    #
    # A typo ("code_comit") or an attempt to set `stage` fails with a 400 naming the
    # field instead of being silently ignored, so a pipeline never believes it recorded
    # something it did not. (A comment, not a docstring: drf-spectacular would publish a
    # docstring as the description of every request body that uses the mixin.)

    def to_internal_value(self, data):
        unexpected = {}
        if isinstance(data, Mapping):
            accepted = {field.field_name for field in self._writable_fields}
            for key in data:
                if key in STAGE_FIELDS:
                    unexpected[key] = [STAGE_MESSAGE]
                elif key not in accepted:
                    unexpected[key] = ["Unknown field; the accepted fields are in /api/docs/."]
            if not html.is_html_input(data):
                # DRF's CharField takes 0 for "0", its BooleanField 0 or "yes" for false
                # or true, its FloatField false for 0 and "0.5" for 0.5; the schema says a
                # string, a boolean or a number, and so do we.
                for field in self._writable_fields:
                    value = data.get(field.field_name)
                    if isinstance(field, serializers.CharField) and not isinstance(
                        value, str | None
                    ):
                        unexpected[field.field_name] = ["Not a valid string."]
                    elif isinstance(field, serializers.BooleanField) and not isinstance(
                        value, bool | None
                    ):
                        unexpected[field.field_name] = ["Must be true or false."]
                    elif isinstance(field, serializers.FloatField | serializers.IntegerField) and (
                        isinstance(value, bool | str)
                    ):
                        unexpected[field.field_name] = ["A valid number is required."]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unexpected and isinstance(exc.detail, dict):
                exc.detail.update(unexpected)
            raise
        if unexpected:
            raise serializers.ValidationError(unexpected)
        return value


class _NotJSON(str):
    """A multipart field's raw text that is not a JSON value we accept, and why."""

    message = "Not valid JSON. In a multipart request send this field as a JSON-encoded string."

    @classmethod
    def with_message(cls, message):
        refused = cls("")
        refused.message = message
        return refused


def _decode_part(raw):
    try:
        value = loads_bounded(raw)
    except (TypeError, ValueError):
        return _NotJSON(raw)
    problem = json_value_problem(value)
    if problem:
        refused = _NotJSON(raw)
        refused.message = problem
        return refused
    return value


class MultipartJSONMixin:
    """Structured values (lists, objects) sent next to a file in a multipart body arrive
    as JSON-encoded parts (the schema's `encoding`: application/json); decode them so both
    body types validate the same way. A list is one part holding the JSON array, or, as
    OpenAPI serialises arrays in multipart bodies, one part per item."""

    def get_value(self, dictionary):
        if not html.is_html_input(dictionary):
            return dictionary.get(self.field_name, empty)
        if self.field_name not in dictionary:
            return empty
        parts = dictionary.getlist(self.field_name)
        if not isinstance(self, serializers.ListSerializer) or len(parts) == 1:
            value = _decode_part(parts[-1])
            if isinstance(self, serializers.ListSerializer) and isinstance(value, dict):
                return [value]  # a list of one item, sent as one part per item
            return value
        items = [_decode_part(raw) for raw in parts]
        for item in items:
            if isinstance(item, _NotJSON):
                return item
            if not isinstance(item, dict):
                return _NotJSON.with_message("Send one JSON array, or one JSON object per part.")
        return items

    def run_validation(self, data=empty):
        if isinstance(data, _NotJSON):
            raise serializers.ValidationError(data.message)
        return super().run_validation(data)


class JSONListSerializer(MultipartJSONMixin, serializers.ListSerializer):
    """`list_serializer_class` for items that may come JSON-encoded in multipart bodies.

    `max_length` is checked before any item is validated, and reported as a plain list
    of messages for the field (DRF nests it under non_field_errors)."""

    def to_internal_value(self, data):
        if self.max_length is not None and isinstance(data, list) and len(data) > self.max_length:
            raise serializers.ValidationError(
                [f"At most {self.max_length:,} items; got {len(data):,}."], code="max_length"
            )
        return super().to_internal_value(data)


class JSONDictField(MultipartJSONMixin, serializers.DictField):
    pass


# A required text, which DRF strips of surrounding white space: something else, no NUL
# (an OpenAPI pattern).
NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"

# What a hyper-parameter may be (registry.services.inputs.clean_params), for the schema
# (OpenAPI 3.1): a name of 1-100 characters, not all blank, without NUL; a scalar value.
PARAM_NAME_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": 100,
    "pattern": NOT_BLANK,
}
PARAM_VALUE_SCHEMA = {"type": ["string", "number", "boolean", "null"]}


class HyperparametersMixin:
    """A name: value dict whose names and values the schema states (propertyNames)."""

    property_names = PARAM_NAME_SCHEMA
    value_schema = PARAM_VALUE_SCHEMA


class HyperparametersField(HyperparametersMixin, JSONDictField):
    """Hyper-parameters, JSON-encoded in multipart bodies."""


class HyperparametersJSONField(HyperparametersMixin, serializers.DictField):
    """Hyper-parameters in a JSON body."""
