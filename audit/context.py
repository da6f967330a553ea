"""Who is acting and from where, for the audit log, without threading it through calls."""

import contextvars
from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class RequestMeta:
    ip_address: str | None = None
    user_agent: str = ""
    token_prefix: str | None = None


_current: contextvars.ContextVar[RequestMeta] = contextvars.ContextVar(
    "audit_request_meta", default=RequestMeta()
)


def current_meta() -> RequestMeta:
    return _current.get()


def set_token(prefix: str) -> None:
    meta = _current.get()
    _current.set(RequestMeta(meta.ip_address, meta.user_agent, prefix))


class RequestContextMiddleware:
    """Records the client address and user agent of the request being served."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        # REMOTE_ADDR is the proxy when behind one; a deployment that trusts its proxy
        # sets it from X-Forwarded-For in the proxy/WSGI layer, not here.
        meta = RequestMeta(
            ip_address=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:500],
        )
        token = _current.set(meta)
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
