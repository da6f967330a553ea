"""MLflow's error answers: `{"error_code": ..., "message": ...}` with the HTTP status
MLflow's server gives each code (databricks.proto), and the translation of Modelgate's
domain errors into them."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse

from approvals.errors import ApprovalError
from registry.errors import ArtifactTooLarge, Conflict, RegistryError

STATUS = {
    "INVALID_PARAMETER_VALUE": 400,
    "MALFORMED_REQUEST": 400,
    "BAD_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "RESOURCE_CONFLICT": 409,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL_ERROR": 500,
    "TEMPORARILY_UNAVAILABLE": 503,
}
# For answers made elsewhere (Django's handlers, other middleware) under /mlflow/.
CODE_FOR_STATUS = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "ENDPOINT_NOT_FOUND",
    405: "ENDPOINT_NOT_FOUND",
    409: "RESOURCE_CONFLICT",
    413: "INVALID_PARAMETER_VALUE",
    429: "REQUEST_LIMIT_EXCEEDED",
    503: "TEMPORARILY_UNAVAILABLE",
}


class MlflowError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def response(self) -> JsonResponse:
        return error_response(self.code, self.message)


def error_response(code: str, message: str, *, status: int | None = None) -> JsonResponse:
    response = JsonResponse(
        {"error_code": code, "message": message}, status=status or STATUS.get(code, 400)
    )
    if response.status_code == 401:
        # Not "Basic": a browser would prompt for a password and then send it by itself,
        # cross-site too, to endpoints that take writes without a CSRF token. MLflow's
        # client sends Basic credentials without being asked.
        response["WWW-Authenticate"] = 'Bearer realm="modelgate"'
    return response


def invalid(message: str) -> MlflowError:
    return MlflowError("INVALID_PARAMETER_VALUE", message)


def not_found(message: str) -> MlflowError:
    return MlflowError("RESOURCE_DOES_NOT_EXIST", message)


def validation_message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(
            f"{field}: {m}" if field != "__all__" else m
            for field, errors in exc.error_dict.items()
            for e in errors
            for m in e.messages
        )
    return " ".join(exc.messages)


def translate(exc: Exception) -> MlflowError | None:
    """The MLflow error for a Modelgate domain error, or None for anything else."""
    if isinstance(exc, MlflowError):
        return exc
    if isinstance(exc, ValidationError):
        return invalid(validation_message(exc))
    if isinstance(exc, PermissionDenied):
        return MlflowError("PERMISSION_DENIED", str(exc) or "You may not do this.")
    if isinstance(exc, Http404):
        return not_found(str(exc) or "Not found.")
    if isinstance(exc, ApprovalError):
        return MlflowError("RESOURCE_CONFLICT", exc.message)
    if isinstance(exc, Conflict):  # a name, label or pending request already taken
        return MlflowError("RESOURCE_ALREADY_EXISTS", exc.message)
    if isinstance(exc, ArtifactTooLarge):
        return invalid(exc.message)
    if isinstance(exc, RegistryError):  # by the status the error declares
        code = {403: "PERMISSION_DENIED", 404: "RESOURCE_DOES_NOT_EXIST"}
        return MlflowError(code.get(exc.status_code, "INVALID_PARAMETER_VALUE"), exc.message)
    return None
