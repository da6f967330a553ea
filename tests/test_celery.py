"""Background work runs on a real Celery worker through the Redis broker."""

import time

import pytest
from django.conf import settings

from audit.models import VerificationRun
from audit.tasks import audit_verify_chain
from registry.services import model_update

pytestmark = pytest.mark.django_db(transaction=True)


def test_beat_schedules_the_chain_verification():
    entry = settings.CELERY_BEAT_SCHEDULE["audit-verify-chain"]
    assert entry["task"] == audit_verify_chain.name
    assert entry["schedule"] > 0


def test_a_worker_verifies_the_audit_chain_through_redis(celery_worker, model, member):
    model_update(actor=member, model=model, description="Changed so the chain has events.")
    audit_verify_chain.delay()
    deadline = time.monotonic() + 20
    while not VerificationRun.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    run = VerificationRun.objects.get()
    assert run.ok is True
    assert run.events_checked >= 4  # team, membership, model creation, the update
