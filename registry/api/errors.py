"""JSON errors for the API: one shape, the right status, a message a person can act on.

{"detail": "...", "errors": {"field": ["message", ...]}}

`errors` is present on 400 responses; it holds per-field messages whether they came from
a serializer (the request's shape) or from a service (Django's ValidationError).
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
    if isinstance(exc, exceptions.NotAuthenticated):
        exc.detail = exceptions.ErrorDetail(NOT_AUTHENTICATED, code="not_authenticated")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if response.status_code == 400 and isinstance(response.data, dict):
        if "detail" not in response.data:
            response.data = {"detail": INVALID, "errors": response.data}
    elif isinstance(response.data, list):
        response.data = {"detail": " ".join(str(x) for x in response.data)}
    return response


class ErrorSerializer(serializers.Serializer):
    """The error shape, for the OpenAPI schema."""

    detail = serializers.CharField(help_text="What went wrong, in a sentence a person can act on.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.JSONField()),
        required=False,
        help_text="Per-field messages (400 responses only).",
    )


def error_responses(*codes: int) -> dict[int, type[ErrorSerializer]]:
    """`responses` entries for extend_schema: the error statuses an endpoint can answer."""
    return {code: ErrorSerializer for code in (401, *codes)}
