from celery import shared_task

from .models import VerificationRun, VerificationState
from .verification import chain_verify, verification_claim


@shared_task
def audit_verify_chain(run_id: int | None = None) -> dict:
    """Verify the chain and record the result: the run an auditor started from the audit
    page (`run_id`), or, from the schedule (CELERY_BEAT_SCHEDULE), a new run unless one is
    running already."""
    if run_id is None:
        run = verification_claim()
        if run is None:
            return {"skipped": "a verification is already running"}
    else:
        run = VerificationRun.objects.filter(pk=run_id, state=VerificationState.RUNNING).first()
        if run is None:  # delivered twice, or given up on as abandoned meanwhile
            return {"run": run_id, "skipped": "not running"}
    result, run = chain_verify(run=run)
    return {"run": run.pk, "ok": result.ok, "events_checked": result.events_checked}
