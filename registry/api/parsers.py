"""The API's parsers: a body PostgreSQL can store and the code can walk, or a 400.

json.loads accepts what the database refuses (a NUL character, a lone UTF-16 surrogate
such as "\\ud800") and nesting deep enough to exhaust the stack later (100,000 levels
raise RecursionError); the fields of a multipart upload can carry NUL too. Each of these
is refused here with a 400 naming the field, once for every endpoint, instead of field by
field. The API takes JSON bodies, and multipart where an artifact file is uploaded; no
form-encoded bodies (a 415), as the schema says.
"""

import json

from rest_framework import parsers, serializers
from rest_framework.exceptions import ParseError

from ..validators import unstorable_text_reason

# Deep enough for any real body (metrics are 3 levels), shallow enough to walk safely.
MAX_JSON_DEPTH = 32
TOO_DEEP = f"Nested more than {MAX_JSON_DEPTH} levels deep."


def json_value_problem(value, depth: int = 1) -> str | None:
    """The first thing in a decoded JSON value that cannot be stored, or None.

    Iterative, so that it never recurses however deep the value is.
    """
    stack = [(value, depth)]
    while stack:
        item, level = stack.pop()
        if level > MAX_JSON_DEPTH:
            return TOO_DEEP
        if isinstance(item, str):
            reason = unstorable_text_reason(item)
            if reason:
                return reason
        elif isinstance(item, dict):
            for key, child in item.items():
                reason = unstorable_text_reason(key)
                if reason:
                    return f"A name in this object: {reason}"
                stack.append((child, level + 1))
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return None


def json_body_problems(data) -> dict[str, list[str]]:
    """Per top-level field, what cannot be stored (the shape of a 400's `errors`)."""
    if not isinstance(data, dict):
        problem = json_value_problem(data)
        return {"non_field_errors": [problem]} if problem else {}
    errors = {}
    for key, value in data.items():
        if unstorable_text_reason(key):
            errors.setdefault("non_field_errors", []).append(
                f"A field name: {unstorable_text_reason(key)}"
            )
            continue
        problem = json_value_problem(value, depth=2)
        if problem:
            errors[key] = [problem]
    return errors


def loads_bounded(text: str):
    """json.loads that reports nesting too deep to decode as a ValueError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(TOO_DEEP) from None


def form_problems(data) -> dict[str, list[str]]:
    """Per field of a multipart body's fields (a QueryDict), what cannot be stored."""
    errors: dict[str, list[str]] = {}
    for key, values in data.lists():
        if unstorable_text_reason(key):
            errors.setdefault("non_field_errors", []).append(
                f"A field name: {unstorable_text_reason(key)}"
            )
            continue
        reasons = {unstorable_text_reason(value) for value in values} - {None}
        if reasons:
            # "hyperparameters.lr" and "metrics[0]name" are parts of a serializer's field.
            field = key.split(".")[0].split("[")[0] or key
            errors.setdefault(field, []).extend(sorted(reasons))
    return errors


class StrictJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - {TOO_DEEP}") from None
        errors = json_body_problems(data)
        if errors:
            raise serializers.ValidationError(errors)
        return data


class StrictMultiPartParser(parsers.MultiPartParser):
    """File names need no check: Django drops their non-printable characters."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        errors = form_problems(parsed.data)
        if errors:
            raise serializers.ValidationError(errors)
        return parsed
