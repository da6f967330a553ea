"""Refuse text PostgreSQL cannot store before any view hands it to a query.

A NUL character in a search parameter, a model name in the URL or a header that is
recorded (User-Agent goes into audit events) made psycopg raise: a 500. Here such a
request gets a 400 naming the parameter: JSON under /api/, the error page elsewhere.
Form posts to pages are checked here too; API bodies where they are parsed
(registry.api.parsers), which must not be read before an upload's handlers are set.
"""

from .api.errors import is_api_request
from .validators import unstorable_text_reason
from .views.errors import bad_request


def _problems(pairs) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, value in pairs:
        if unstorable_text_reason(name):
            reason = f"A parameter name: {unstorable_text_reason(name)}"
            errors.setdefault("non_field_errors", []).append(reason)
        elif unstorable_text_reason(value):
            errors.setdefault(name, []).append(unstorable_text_reason(value))
    return errors


class UnstorableInputMiddleware:
    """Must come before SessionMiddleware, which reads the session cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # A cookie the browser cannot easily be rid of is ignored, not refused.
        for name, value in list(request.COOKIES.items()):
            if unstorable_text_reason(name) or unstorable_text_reason(value):
                del request.COOKIES[name]
        headers = [
            (key[5:].replace("_", "-").title(), value)
            for key, value in request.META.items()
            if key.startswith("HTTP_") and key != "HTTP_COOKIE" and isinstance(value, str)
        ]
        query = [(name, value) for name, values in request.GET.lists() for value in values]
        request.unstorable_input = _problems(query) | _problems(headers)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Answered here rather than in __call__ so that the error page knows the user.
        errors = getattr(request, "unstorable_input", {}) | _problems(
            (name, value) for name, value in view_kwargs.items() if isinstance(value, str)
        )
        if request.method == "POST" and not is_api_request(request):
            errors |= _problems(
                (name, value) for name, values in request.POST.lists() for value in values
            )
        if errors:
            return bad_request(request, errors=errors)
        return None
