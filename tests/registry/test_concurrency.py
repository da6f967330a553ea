"""Version numbers are assigned without races (PostgreSQL, real concurrent transactions)."""

import threading

import pytest
from django.db import connection

from registry.models import ModelVersion
from registry.services import version_register

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
