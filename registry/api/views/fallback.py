from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt  # changes nothing; a POST here is a 404, not a CSRF page
def not_found(request, path):
    """Unknown API addresses answer in JSON, like the rest of the API, whatever the method."""
    detail = f"No API endpoint at /api/{path}; the endpoints are listed at /api/docs/."
    if not path.endswith("/"):
        detail += " Addresses end with a slash."
    return JsonResponse({"detail": detail}, status=404)
