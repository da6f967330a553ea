from celery import shared_task

from .services.deliveries import deliveries_due
from .services.deliveries import delivery_send as send


@shared_task
def delivery_send(delivery_id: int) -> str:
    """Send webhook delivery `delivery_id` if it is due (queued after the commit that
    wrote it, and by the sweep); the retry schedule is in the database, not here."""
    return send(delivery_id=delivery_id)


@shared_task
def deliveries_sweep() -> int:
    """Beat (CELERY_BEAT_SCHEDULE): queue every delivery that is due, a retry whose time
    has come or one whose dispatch was lost (broker down at commit, worker died)."""
    ids = deliveries_due()
    for pk in ids:
        delivery_send.delay(pk)
    return len(ids)
