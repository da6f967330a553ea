"""Opaque page tokens: the offset of the next page, signed together with the query it
belongs to, so a token cannot be forged or reused with another filter or order."""

import hashlib

from django.core import signing

from .errors import invalid

SALT = "mlflow_api.page_token"


def _query_key(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def page_token(offset: int, *query) -> str:
    return signing.dumps({"o": offset, "q": _query_key(*query)}, salt=SALT, compress=True)


def page_offset(token: str | None, *query) -> int:
    if not token:
        return 0
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise invalid("Invalid page_token: it was not issued by this server.") from None
    if not isinstance(data, dict) or data.get("q") != _query_key(*query):
        raise invalid("Invalid page_token: it belongs to another filter or order_by.")
    offset = data.get("o")
    if not isinstance(offset, int) or offset < 0:
        raise invalid("Invalid page_token.")
    return offset


def page(queryset, *, max_results: int, token: str | None, query: tuple, read=list):
    """The rows of one page and the token of the next (None on the last page). `read`
    turns the page's slice of `queryset` into its rows (by default, reads it)."""
    offset = page_offset(token, *query)
    rows = list(read(queryset[offset : offset + max_results + 1]))
    more = len(rows) > max_results
    rows = rows[:max_results]
    return rows, (page_token(offset + max_results, *query) if more else None)
