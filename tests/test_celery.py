"""Background work runs on a real Celery worker through the Redis broker."""

import time

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

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
    # The run is recorded as running first, then finished.
    while (
        not VerificationRun.objects.filter(state="finished").exists()
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)
    run = VerificationRun.objects.get()
    assert run.ok is True
    assert run.events_checked >= 4  # team, membership, model creation, the update


def test_an_auditor_starts_a_verification_that_a_worker_runs(
    celery_worker, client, django_user_model, model
):
    group, _ = Group.objects.get_or_create(name="Auditors")
    group.permissions.add(Permission.objects.get(codename="export_auditevent"))
    auditor = django_user_model.objects.create_user("erin")
    auditor.groups.add(group)
    client.force_login(auditor)

    assert client.post(reverse("audit:verification_start")).status_code == 302
    status_url = reverse("audit:verification_status")
    deadline = time.monotonic() + 20
    status = client.get(status_url).json()
    while status["running"] and time.monotonic() < deadline:
        time.sleep(0.2)
        status = client.get(status_url).json()
    assert status["running"] is False
    assert status["last"]["ok"] is True
    assert status["last"]["requested_by"] == "erin"
    run = VerificationRun.objects.get()
    assert run.state == "finished" and run.events_checked >= 4
