"""Concurrent saves of one card (PostgreSQL, real concurrent transactions): of the saves
that start from the same revision exactly one wins; the others change nothing."""

import threading

import pytest
from django.db import connection

from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.errors import CardChanged
from registry.models import ModelCard
from registry.services import card_update

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WRITERS = 4
ROUNDS = 5


def race(start: ModelCard, actor, label: str) -> tuple[list[int], list[int], list[Exception]]:
    """WRITERS threads, each on its own connection, save the card from `start`'s revision
    at the same moment. Returns (winners, refused, unexpected errors)."""
    barrier = threading.Barrier(WRITERS)
    won, lost, errors = [], [], []

    def save(i):
        try:
            barrier.wait()
            card_update(
                actor=actor,
                card=start,
                sections={"intended_use": f"{label} writer {i}"},
                revision=start.revision,
            )
            won.append(i)
        except CardChanged:
            lost.append(i)
        except Exception as exc:  # surfaced by the caller's assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return won, lost, errors


def test_saves_starting_from_the_same_revision_never_both_win(version, member):
    for round_ in range(ROUNDS):
        start = ModelCard.objects.get(version=version)
        won, lost, errors = race(start, member, f"round {round_}")
        assert errors == []
        assert len(won) == 1 and len(lost) == WRITERS - 1
        card = ModelCard.objects.get(version=version)
        assert card.revision == start.revision + 1
        assert card.intended_use == f"round {round_} writer {won[0]}"
    assert AuditEvent.objects.filter(action=Action.CARD_UPDATED).count() == ROUNDS
