"""The verification's edges: an empty log, batch boundaries, the periodic task's wiring."""

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import transaction

from audit.models import VerificationRun
from audit.services import event_record
from audit.verification import chain_check
from registry.audit_actions import Action

pytestmark = pytest.mark.django_db


def test_an_empty_log_is_intact(capsys):
    call_command("audit_verify")
    assert "0 events checked" in capsys.readouterr().out
    assert VerificationRun.objects.get().ok


@pytest.mark.parametrize("batch_size", [1, 2, 3, 5, 1000])
def test_every_batch_size_checks_every_event(admin_user, batch_size):
    with transaction.atomic():
        for _ in range(5):
            event_record(actor=admin_user, action=Action.TEAM_CREATED)
    result = chain_check(batch_size=batch_size)
    assert result.ok and result.events_checked == 5
    assert result.head_sequence == 5


def test_a_bad_batch_size_is_refused():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("audit_verify", batch_size=0)


def test_the_beat_schedule_names_the_registered_task():
    from config.celery import app

    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "audit.tasks.audit_verify_chain" in scheduled
    assert "audit.tasks.audit_verify_chain" in app.tasks
