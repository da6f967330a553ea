"""Edits made around the triggers (as a superuser who disabled them would) are caught by
`manage.py audit_verify`, which names the first broken link and exits non-zero.

These run on SQLite too, where nothing stops the edit and verification is all there is.
"""

import contextlib

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.models import AuditEvent, ChainHead, VerificationRun
from audit.services import event_hash, event_hash_v1, event_record, hashed_fields_of
from audit.tasks import audit_verify_chain
from tests.audit.first_format import first_format_events
from tests.audit.sample_actions import SampleAction

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = 6


@pytest.fixture
def chain(admin_user):
    from django.db import transaction

    for n in range(EVENTS):
        with transaction.atomic():
            event_record(actor=admin_user, action=SampleAction.NOTED, changes={"n": n})


@contextlib.contextmanager
def triggers_disabled(which: str = "audit_auditevent_append_only"):
    """What a superuser (or the table owner) can do: switch the triggers off, edit."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE audit_auditevent DISABLE TRIGGER {which}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE audit_auditevent ENABLE ALWAYS TRIGGER audit_auditevent_append_only"
            )


def _verify() -> tuple[int, str]:
    try:
        call_command("audit_verify", batch_size=4)
    except CommandError as exc:
        return exc.returncode, str(exc)
    return 0, ""


def test_an_intact_chain_verifies(chain, capsys):
    call_command("audit_verify", batch_size=4)
    assert f"{EVENTS} events checked" in capsys.readouterr().out
    run = VerificationRun.objects.get()
    assert (run.ok, run.events_checked, run.broken_sequence) == (True, EVENTS, None)


def test_an_edited_event_is_caught_at_its_sequence(chain):
    with triggers_disabled("ALL"):
        AuditEvent.objects.filter(sequence=3).update(reason="nothing to see here")
    code, output = _verify()
    assert code == 1
    assert "broken at sequence 3" in output
    stored = AuditEvent.objects.get(sequence=3)
    assert f"found {stored.hash}" in output
    assert f"expected {event_hash(hashed_fields_of(stored), stored.prev_hash)}" in output
    run = VerificationRun.objects.get()
    assert (run.ok, run.broken_sequence, run.events_checked) == (False, 3, 2)


def test_an_edit_that_recomputes_its_own_hash_breaks_the_next_link(chain):
    with triggers_disabled():
        event = AuditEvent.objects.get(sequence=4)
        event.actor_name = "someone-else"
        new_hash = event_hash(hashed_fields_of(event), event.prev_hash)
        AuditEvent.objects.filter(pk=event.pk).update(actor_name="someone-else", hash=new_hash)
    code, output = _verify()
    assert code == 1
    assert "broken at sequence 5" in output and "prev_hash differs" in output
    assert f"found {AuditEvent.objects.get(sequence=5).prev_hash}" in output


def test_a_deleted_event_is_a_gap(chain):
    with triggers_disabled():
        AuditEvent.objects.filter(sequence=2).delete()
    code, output = _verify()
    assert code == 1
    assert "broken at sequence 2" in output and "sequence 2 is missing" in output


def test_deleting_the_newest_events_is_caught_by_the_chain_head(chain):
    with triggers_disabled():
        AuditEvent.objects.filter(sequence__gte=EVENTS - 1).delete()
    code, output = _verify()
    assert code == 1
    assert f"events {EVENTS - 1} to {EVENTS} are missing" in output


def test_emptying_the_table_is_caught(chain):
    with triggers_disabled():
        AuditEvent.objects.all().delete()
    code, output = _verify()
    assert code == 1
    assert "broken at sequence 1" in output


def test_removing_the_tail_and_moving_the_head_back_is_caught_after_a_verification(chain):
    """With the head rewound too, the chain itself looks whole; the previous run's
    record of the newest intact event (its anchor) does not."""
    call_command("audit_verify")
    last = AuditEvent.objects.get(sequence=EVENTS - 1)
    with triggers_disabled():
        AuditEvent.objects.filter(sequence=EVENTS).delete()
    ChainHead.objects.update(sequence=last.sequence, hash=last.hash)
    code, output = _verify()
    assert code == 1
    assert f"event {EVENTS} was verified on" in output
    assert f"the chain now ends at {EVENTS - 1}" in output


def test_a_rewritten_and_rehashed_chain_is_caught_after_a_verification(chain):
    """Someone re-hashes every event from #3 on after editing it: the links hold, but
    the newest event no longer has the hash the last run saw."""
    call_command("audit_verify")
    events = list(AuditEvent.objects.filter(sequence__gte=3).order_by("sequence"))
    prev = AuditEvent.objects.get(sequence=2).hash
    with triggers_disabled():
        for event in events:
            event.reason = "rewritten" if event.sequence == 3 else event.reason
            event.prev_hash = prev
            event.hash = prev = event_hash(hashed_fields_of(event), prev)
            AuditEvent.objects.filter(pk=event.pk).update(
                reason=event.reason, prev_hash=event.prev_hash, hash=event.hash
            )
    ChainHead.objects.update(hash=prev)
    code, output = _verify()
    assert code == 1
    assert f"broken at sequence {EVENTS}" in output and "the chain was rewritten" in output


def test_the_periodic_task_records_the_same_result(chain):
    with triggers_disabled():
        AuditEvent.objects.filter(sequence=5).update(reason="edited")
    # The task body, run in-process (the Redis round trip is tests/test_celery.py's job).
    outcome = audit_verify_chain.apply().get()
    assert outcome["ok"] is False
    run = VerificationRun.objects.get(pk=outcome["run"])
    assert (run.ok, run.broken_sequence) == (False, 5)
    assert "sequence 5" in run.detail


def test_a_log_written_in_the_first_format_goes_on_and_verifies(admin_user, capsys):
    from django.db import transaction

    first_format_events(admin_user, SampleAction.NOTED, count=3)
    with transaction.atomic():
        newer = event_record(actor=admin_user, action=SampleAction.NOTED, changes={"n": 4})
    assert newer.sequence == 4 and newer.prev_hash == AuditEvent.objects.get(sequence=3).hash
    call_command("audit_verify", batch_size=2)
    assert "4 events checked" in capsys.readouterr().out


def test_an_event_in_the_first_format_after_the_current_one_is_caught(chain):
    """Re-hashing the newest event in the old format (and moving the head with it)
    would pass the old check; the current format, once seen, is required."""
    last = AuditEvent.objects.get(sequence=EVENTS)
    last.reason = "edited"
    forged = event_hash_v1(hashed_fields_of(last), last.prev_hash)
    with triggers_disabled():
        AuditEvent.objects.filter(pk=last.pk).update(reason="edited", hash=forged)
    ChainHead.objects.update(hash=forged)
    code, output = _verify()
    assert code == 1
    assert f"broken at sequence {EVENTS}" in output and "its hash differs" in output
