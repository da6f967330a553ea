"""When a delivery that failed in a way worth retrying is tried again.

Attempt n (1-based) that fails with a 429, a 5xx, a timeout or a connection error is
followed, WEBHOOK_RETRY_BASE_SECONDS * 2**(n-1) later (±20 % jitter, so receivers that
came back are not hit by every sender at once), by attempt n+1, up to
WEBHOOK_MAX_ATTEMPTS attempts. With the defaults (30 s, 10 attempts) the retries come
after about 30 s, 1, 2, 4, 8, 16, 32, 64 and 128 minutes: the last attempt is about
4 h 15 min after the first. A `Retry-After` from the receiver is honoured when it asks
for longer, up to WEBHOOK_RETRY_AFTER_MAX_SECONDS.
"""

import random
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from django.conf import settings

JITTER = 0.2


def retry_delay(attempt: int, *, retry_after: float | None = None, rng=random) -> timedelta:
    """How long to wait after failed attempt number `attempt` (1-based)."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
    seconds = base * rng.uniform(1 - JITTER, 1 + JITTER)
    if retry_after is not None:
        seconds = max(seconds, min(retry_after, settings.WEBHOOK_RETRY_AFTER_MAX_SECONDS))
    return timedelta(seconds=seconds)


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """The seconds a `Retry-After` header asks for (delay-seconds or an HTTP date), or
    None when it is missing or unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())
