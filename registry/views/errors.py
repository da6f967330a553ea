"""400/403/404/500 pages in the site's layout."""

from django.http import JsonResponse
from django.shortcuts import render

from ..api.errors import INVALID, is_api_request

BAD_REQUEST = "The request was not valid."


def bad_request(request, exception=None, *, errors: dict[str, list[str]] | None = None):
    """Also Django's handler400 (e.g. a malformed multipart body). JSON under /api/."""
    if is_api_request(request):
        body = {"detail": INVALID, "errors": errors} if errors else {"detail": BAD_REQUEST}
        return JsonResponse(body, status=400)
    return render(request, "400.html", {"errors": errors or {}}, status=400)


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else ""
    return render(request, "403.html", {"message": message}, status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # No context processors that might fail again; the template uses only static data.
    return render(request, "500.html", status=500)
