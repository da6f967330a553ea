from django.http import JsonResponse


def not_found(request, path):
    """Unknown API addresses answer in JSON, like the rest of the API, not with a page."""
    detail = f"No API endpoint at /api/{path}; the endpoints are listed at /api/docs/."
    if not path.endswith("/"):
        detail += " Addresses end with a slash."
    return JsonResponse({"detail": detail}, status=404)
