from celery import shared_task

from .notifications import notify


@shared_task(autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def request_notify(request_id: int, what: str) -> int:
    """Email the people a request concerns about `what` happened to it (after commit)."""
    return notify(request_id, what)


@shared_task
def stage_reviews_stale_refresh(stage: str) -> int:
    """After a team or organisation policy for `stage` is published: mark the approvals
    it made stale, so those requests wait in their reviewers' inboxes again."""
    from .services.staleness import stage_reviews_stale_refresh as refresh

    return refresh(stage)
