"""Version numbers and inherited cards are right under races (PostgreSQL, real concurrent
transactions)."""

import threading
import time

import pytest
from django.db import connection, transaction

from registry.models import ModelCard, ModelVersion
from registry.services import card_update, version_register

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_registrations_get_distinct_sequential_numbers(model, member):
    threads, errors = 8, []
    barrier = threading.Barrier(threads)

    def register(i):
        try:
            barrier.wait()
            version_register(
                actor=member,
                model=model,
                label=f"1.{i}.0",
                framework="sklearn",
                artifact_uri=f"s3://bucket/{i}",
            )
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=register, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    assert errors == []
    numbers = sorted(ModelVersion.objects.filter(model=model).values_list("number", flat=True))
    assert numbers == list(range(1, threads + 1))
    model.refresh_from_db()
    assert model.last_version_number == threads


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_a_registration_that_waited_inherits_the_card_of_the_version_committed_meanwhile(
    model, member
):
    """The next number and the predecessor's card come in one statement, whose snapshot
    predates the row lock it waited for; the card must still be the newest one."""
    version_register(actor=member, model=model, label="1.0.0", framework="sklearn")
    holding, release, errors, second = threading.Event(), threading.Event(), [], []

    def first():
        try:
            with transaction.atomic():
                v2 = version_register(actor=member, model=model, label="2.0.0", framework="sklearn")
                card_update(actor=member, card=v2.card, sections={"intended_use": "Written for 2."})
                holding.set()
                release.wait(10)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            holding.set()
            connection.close()

    def then():
        try:
            second.append(
                version_register(actor=member, model=model, label="3.0.0", framework="sklearn")
            )
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    one = threading.Thread(target=first)
    one.start()
    assert holding.wait(10)
    two = threading.Thread(target=then)
    two.start()
    for _ in range(200):  # until the second registration waits for the model's row
        if _someone_waits_for_a_lock():
            break
        time.sleep(0.02)
    else:
        pytest.fail("the second registration never waited for the first")
    release.set()
    one.join(10)
    two.join(10)

    assert errors == []
    card = ModelCard.objects.get(version=second[0])
    assert second[0].number == 3
    assert card.intended_use == "Written for 2."
    assert card.section_state("intended_use")["inherited_from"] == 2
