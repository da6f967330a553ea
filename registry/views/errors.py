"""400/403/404/500 pages in the site's layout; JSON under /api/, where clients are programs."""

from django.http import JsonResponse
from django.shortcuts import render

from ..api.errors import INVALID, is_api_request

# Under /api/: one shape for every error, {"detail": "...", "errors": {...}} (see api.errors).
NOT_FOUND = "Not found."
SERVER_ERROR = "Something went wrong on our side; the error has been logged. Try again."
PERMISSION_DENIED = "You do not have permission to perform this action."
BAD_REQUEST = "The request was not valid."


def bad_request(request, exception=None, *, errors: dict[str, list[str]] | None = None):
    """Also Django's handler400 (e.g. a malformed multipart body). JSON under /api/."""
    if is_api_request(request):
        body = {"detail": INVALID, "errors": errors} if errors else {"detail": BAD_REQUEST}
        return JsonResponse(body, status=400)
    return render(request, "400.html", {"errors": errors or {}}, status=400)


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else ""
    if is_api_request(request):
        return JsonResponse({"detail": message or PERMISSION_DENIED}, status=403)
    return render(request, "403.html", {"message": message}, status=403)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the API uses tokens, so a refused form post is a page's matter."""
    if is_api_request(request):
        return JsonResponse(
            {"detail": "CSRF check failed; API clients send a token, not a session cookie."},
            status=403,
        )
    return render(
        request,
        "403.html",
        {"message": "The form expired or came from another site; reload the page and try again."},
        status=403,
    )


def page_not_found(request, exception=None):
    if is_api_request(request):
        return JsonResponse({"detail": NOT_FOUND}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if is_api_request(request):
        return JsonResponse({"detail": SERVER_ERROR}, status=500)
    # No context processors that might fail again; the template uses only static data.
    return render(request, "500.html", status=500)
