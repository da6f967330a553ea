from celery import shared_task

from .verification import chain_verify


@shared_task
def audit_verify_chain() -> dict:
    """Periodic (CELERY_BEAT_SCHEDULE): verify the chain and record the result."""
    result, run = chain_verify()
    return {"run": run.pk, "ok": result.ok, "events_checked": result.events_checked}
