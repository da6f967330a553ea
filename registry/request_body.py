"""Refuse request bodies that end before their Content-Length: the client went away.

A WSGI server hands Django whatever arrived before the connection closed, and Django
parses it as if it were the whole body. A multipart upload cut off inside its file
part then arrives as its fields without the file (a version registered without its
artifact), and a form cut off half-way arrives with its first fields only. With this
middleware the first read that hits the premature end raises `RequestBodyIncomplete`,
so nothing is parsed from a partial body and the view never runs.
"""

from django.http.multipartparser import MultiPartParserError


class RequestBodyIncomplete(MultiPartParserError, ValueError):
    """The body ended before Content-Length bytes arrived.

    A MultiPartParserError so that Django answers 400 wherever the body is parsed
    (request.POST/FILES, including under the CSRF check) and DRF's multipart parser
    turns it into a ParseError; a ValueError so that DRF's JSON parser does the same.
    Deliberately not an OSError: HttpRequest.read() would rewrap that as
    UnreadablePostError, which nothing turns into a 400.
    """

    def __init__(self, received: int, expected: int):
        super().__init__(
            f"The request body ended after {received:,} of its {expected:,} bytes "
            "(the connection was closed); nothing was saved."
        )


class _CompleteBody:
    """A request stream that raises instead of returning a short body."""

    def __init__(self, stream, length: int):
        self._stream = stream
        self._length = length
        self._pos = 0

    def read(self, size=-1, /):
        remaining = self._length - self._pos
        if size == 0 or remaining <= 0:
            return self._stream.read(size)
        wanted = remaining if size is None or size < 0 else min(size, remaining)
        data = self._stream.read(size)
        self._pos += len(data)
        # WSGI input reads like a blocking file: fewer bytes than asked means the end.
        # (Django reads a form body in one read and would take a short one as whole.)
        if len(data) < wanted:
            raise RequestBodyIncomplete(self._pos, self._length)
        return data

    def readline(self, size=-1, /):
        if size == 0 or self._pos >= self._length:
            return self._stream.readline(size)
        line = self._stream.readline(size)
        self._pos += len(line)
        if not line:  # a line may stop early at its newline; only an empty one is the end
            raise RequestBodyIncomplete(self._pos, self._length)
        return line

    def close(self):
        close = getattr(self._stream, "close", None)
        if close:
            close()


def _content_length(request) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


class CompleteBodyMiddleware:
    """Wrap the request stream before anything (the CSRF check included) reads it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = _content_length(request)
        stream = getattr(request, "_stream", None)
        if length and stream is not None:
            # HttpRequest reads the body only through `_stream` (WSGI and ASGI alike).
            request._stream = _CompleteBody(stream, length)
        return self.get_response(request)
