from celery import shared_task

from .notifications import notify


@shared_task(autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def request_notify(request_id: int, what: str) -> int:
    """Email the people a request concerns about `what` happened to it (after commit)."""
    return notify(request_id, what)
