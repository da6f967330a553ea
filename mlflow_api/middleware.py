"""Every answer under /mlflow/ is MLflow's JSON, also those made before or around the
views: Django's 400/403/404/500 handlers, the refused-input and database-unavailable
middleware. Their message is kept when they gave one in JSON."""

import json

from .errors import CODE_FOR_STATUS, error_response

PREFIX = "/mlflow/"


def _message(response) -> str:
    if response.get("Content-Type", "").startswith("application/json"):
        try:
            body = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            body = None
        if isinstance(body, dict):
            if "error_code" in body:
                return ""
            detail = str(body.get("detail", ""))
            errors = body.get("errors")
            if isinstance(errors, dict):
                detail += " " + " ".join(f"{k}: {' '.join(map(str, v))}" for k, v in errors.items())
            return detail.strip() or "The request failed."
    return {
        400: "The request is malformed or contains text that cannot be stored.",
        403: "Permission denied.",
        404: "Not found.",
        500: "An internal error occurred; it has been logged.",
        503: "The database is unavailable; try again shortly.",
    }.get(response.status_code, "The request failed.")


class MlflowJsonErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path_info.startswith(PREFIX) or response.status_code < 400:
            return response
        message = _message(response)
        if not message:
            return response
        code = CODE_FOR_STATUS.get(response.status_code, "INTERNAL_ERROR")
        converted = error_response(code, message, status=response.status_code)
        if "Retry-After" in response:
            converted["Retry-After"] = response["Retry-After"]
        return converted
