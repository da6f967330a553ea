"""JSON errors for the API: one shape, the right status, a message a person can act on.

{"detail": "...", "errors": {"field": ["message", ...]}}

Every status (400, 401, 403, 404, 405, 409, 413, 415, 500) has this shape; `errors` is
present on 400 responses, and on the 404 of a body naming a team, owner or parent version
that does not exist. It holds per-field messages whether they came from a
serializer (the request's shape) or from a service (Django's ValidationError); a message
about part of a field says which part first: "[0].version: This field is required.".
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..errors import RegistryError

INVALID = "The request was not valid; see errors."
MISSING = "The request names something that does not exist; see errors."
NOT_AUTHENTICATED = (
    "Send a personal API token as 'Authorization: Bearer <token>' "
    "(create one at /accounts/tokens/), or sign in."
)


def is_api_request(request) -> bool:
    """Whether `request` is for the API, whose every answer is JSON (errors included)."""
    return request.path_info == "/api" or request.path_info.startswith("/api/")


def _field_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            field: [m for e in errs for m in e.messages] for field, errs in exc.error_dict.items()
        }
    return {"non_field_errors": exc.messages}


def exception_handler(exc, context):
    if isinstance(exc, RegistryError):
        return Response({"detail": exc.message}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        return Response(
            {"detail": INVALID, "errors": _field_errors(exc)},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DjangoPermissionDenied) and exc.args:
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, Http404):
        return Response({"detail": str(exc) or "Not found."}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "The request body is too large; send artifacts as a multipart file."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, exceptions.ValidationError) and _only_missing_references(exc):
        # A well-formed request naming a team, owner or parent that is not there: the
        # schema cannot list what exists, so this is a 404 (with the fields), not a 400.
        return Response(
            {"detail": MISSING, "errors": flat_errors(exc.detail)},
            status=status.HTTP_404_NOT_FOUND,
        )
    if isinstance(exc, exceptions.NotAuthenticated):
        exc.detail = exceptions.ErrorDetail(NOT_AUTHENTICATED, code="not_authenticated")
    if isinstance(exc, exceptions.UnsupportedMediaType):
        exc.detail = exceptions.ErrorDetail(
            _unsupported_media_type(exc, context), code="unsupported_media_type"
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if response.status_code == 400 and isinstance(response.data, dict):
        if "detail" not in response.data:
            response.data = {"detail": INVALID, "errors": flat_errors(response.data)}
    elif isinstance(response.data, list):
        response.data = {"detail": " ".join(str(x) for x in response.data)}
    return response


def _unsupported_media_type(exc, context) -> str:
    """DRF's message, and the body types this endpoint takes instead."""
    request = context.get("request")
    accepted = [parser.media_type for parser in getattr(request, "parsers", None) or []]
    if not accepted:
        return str(exc.detail)
    return f"{exc.detail} Send the body as {' or '.join(accepted)}."


def _codes(codes):
    if isinstance(codes, dict):
        for child in codes.values():
            yield from _codes(child)
    elif isinstance(codes, list):
        for child in codes:
            yield from _codes(child)
    else:
        yield codes


def _only_missing_references(exc: exceptions.ValidationError) -> bool:
    codes = set(_codes(exc.get_codes()))
    return isinstance(exc.detail, dict) and codes == {"does_not_exist"}


def flat_errors(errors: dict) -> dict[str, list[str]]:
    """DRF nests the errors of lists and objects ({"parents": [{}, {"version": [...]}]});
    one level, field -> messages, is what clients (and the schema) expect."""
    return {str(field): list(_messages(value, ())) for field, value in errors.items()}


def _messages(value, path: tuple):
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _messages(child, path if key == "non_field_errors" else (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _messages(child, (*path, i) if isinstance(child, dict | list) else path)
    else:
        where = "".join(f"[{p}]" if str(p).isdigit() else f".{p}" for p in path).lstrip(".")
        yield f"{where}: {value}" if where else str(value)


class ErrorSerializer(serializers.Serializer):
    """The error shape, for the OpenAPI schema."""

    detail = serializers.CharField(help_text="What went wrong, in a sentence a person can act on.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per-field messages (400, and 404 for a body naming something missing).",
    )


def error_responses(*codes: int) -> dict[int, type[ErrorSerializer]]:
    """`responses` entries for extend_schema: the error statuses an endpoint can answer."""
    return {code: ErrorSerializer for code in (401, *codes)}
