"""A slow or unreachable database answers 503, not a 500 or a hung worker.

The limits themselves are connection options built in config/settings.py (connect
timeout, TCP keepalives, a statement timeout per kind of process); exports raise the
statement timeout for their own stream here.
"""

import logging
from collections.abc import Iterator

from django.db import DatabaseError, OperationalError, connection
from django.http import JsonResponse
from django.shortcuts import render

logger = logging.getLogger("modelgate.database")

# What a client should wait before trying again (seconds, the Retry-After header).
RETRY_AFTER_SECONDS = 5
UNAVAILABLE = (
    "The database is busy or unreachable, so this request was stopped rather than left "
    f"waiting. Try again in {RETRY_AFTER_SECONDS} seconds."
)


def with_statement_timeout(chunks: Iterator[bytes], seconds: int) -> Iterator[bytes]:
    """Stream `chunks` with this connection's statement timeout set to `seconds`
    (0: none), then restore the connection's default, also when the client goes away
    mid-stream (the server closes the generator)."""
    if connection.vendor != "postgresql":
        yield from chunks
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, false)", [f"{seconds}s"])
    try:
        yield from chunks
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET statement_timeout")
        except DatabaseError:
            # The connection is broken; Django discards it at the end of the request.
            pass


class DatabaseUnavailableMiddleware:
    """A statement timeout, a lock or connection failure, a serialization failure:
    503 with Retry-After (JSON under /api/, a page elsewhere), logged with its cause."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError):
            return None
        logger.error(
            "Database unavailable for %s %s: %s",
            request.method,
            request.path,
            exception,
            exc_info=exception,
        )
        if request.path_info.startswith("/api/"):
            response = JsonResponse({"detail": UNAVAILABLE}, status=503)
        else:
            response = render(request, "503.html", {"message": UNAVAILABLE}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
