"""The chain stays one gap-free line when many transactions write at once (PostgreSQL)."""

import threading

import pytest
from django.db import connection

from audit.models import AuditEvent
from audit.services import GENESIS_HASH, event_hash, hashed_fields_of
from audit.verification import chain_check
from registry.audit_actions import Action
from registry.services import team_member_add

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS, EVENTS_EACH = 8, 10


def test_concurrent_writers_keep_the_chain_gap_free_and_linked(django_user_model, admin_user, team):
    # team_member_add takes no lock of its own (unlike model_update, which locks the
    # model's team row): only the chain head's lock keeps these writers in line.
    users = [
        [django_user_model.objects.create_user(f"user-{t}-{n}") for n in range(EVENTS_EACH)]
        for t in range(THREADS)
    ]
    before = AuditEvent.objects.count()
    barrier, errors = threading.Barrier(THREADS), []

    def write(batch):
        try:
            barrier.wait()
            for user in batch:
                team_member_add(actor=admin_user, team=team, user=user)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=write, args=(batch,)) for batch in users]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    assert errors == []
    events = list(AuditEvent.objects.order_by("sequence"))
    total = before + THREADS * EVENTS_EACH
    assert [e.sequence for e in events] == list(range(1, total + 1))
    assert sum(e.action == Action.TEAM_MEMBER_ADDED for e in events) == THREADS * EVENTS_EACH
    prev = GENESIS_HASH
    for event in events:
        assert event.prev_hash == prev, f"event {event.sequence} does not link to its predecessor"
        assert event_hash(hashed_fields_of(event), event.prev_hash) == event.hash
        prev = event.hash
    # Writers interleaved (the test really was concurrent) yet timestamps never go back.
    threads_in_order = [e.changes["user"].split("-")[1] for e in events[before:]]
    assert any(a != b for a, b in zip(threads_in_order, threads_in_order[1:], strict=False))
    assert all(a.created_at <= b.created_at for a, b in zip(events, events[1:], strict=False))
    result = chain_check(batch_size=7)
    assert result.ok and result.events_checked == total
