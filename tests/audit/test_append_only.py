"""On PostgreSQL the audit table refuses UPDATE, DELETE and TRUNCATE, even with
session_replication_role = replica (which silences ordinary triggers)."""

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent
from audit.services import event_record
from registry.audit_actions import Action
from tests.audit.sample_actions import SampleAction

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def event(admin_user):
    return event_record(actor=admin_user, action=SampleAction.NOTED, reason="original")


def _sql(statement: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement)


@pytest.mark.parametrize(
    "attempt",
    [
        pytest.param(lambda e: AuditEvent.objects.filter(pk=e.pk).update(reason="x"), id="update"),
        pytest.param(lambda e: AuditEvent.objects.filter(pk=e.pk).delete(), id="delete"),
        pytest.param(lambda e: e.delete(), id="instance-delete"),
        pytest.param(lambda e: _sql("TRUNCATE audit_auditevent"), id="truncate"),
        pytest.param(lambda e: _sql("TRUNCATE audit_auditevent CASCADE"), id="truncate-cascade"),
        pytest.param(lambda e: _sql("UPDATE audit_auditevent SET reason = 'x'"), id="raw-update"),
        pytest.param(lambda e: _sql("DELETE FROM audit_auditevent"), id="raw-delete"),
    ],
)
@pytest.mark.parametrize("replication_role", ["origin", "replica"])
def test_changing_or_removing_events_is_refused(event, attempt, replication_role):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _sql(f"SET LOCAL session_replication_role = {replication_role}")
        attempt(event)
    stored = AuditEvent.objects.get()
    assert (stored.reason, stored.hash) == ("original", event.hash)


def test_the_trigger_is_enabled_always():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = 'audit_auditevent_append_only'"
        )
        assert cursor.fetchone() == ("A",)


def test_inserting_is_still_allowed(event, admin_user):
    event_record(actor=admin_user, action=Action.TEAM_CREATED)
    assert AuditEvent.objects.count() == 2
