"""Let the test suite empty the database between transactional tests on PostgreSQL.

pytest-django ends every `transaction=True` test (and every live_server test) with
Django's `flush`, which TRUNCATEs every table at once; the append-only trigger on
audit_auditevent (audit migration 0002) rightly refuses that. This wraps `flush` so that,
for the test run only, the trigger is switched off for that one statement and switched
back on (ENABLE ALWAYS) in the same transaction.

tests/conftest.py installs it for the whole suite.
"""

from django.db import connections, transaction

TRIGGER = "audit_auditevent_append_only"


def _has_trigger(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_trigger WHERE tgname = %s AND tgrelid = 'audit_auditevent'::regclass",
            [TRIGGER],
        )
        return cursor.fetchone() is not None


def install() -> None:
    from django.core.management.commands import flush

    if getattr(flush.Command.handle, "audit_trigger_aware", False):
        return
    original = flush.Command.handle

    def handle(self, **options):
        connection = connections[options.get("database") or "default"]
        if connection.vendor != "postgresql" or not _has_trigger(connection):
            return original(self, **options)
        with transaction.atomic(using=connection.alias):
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE audit_auditevent DISABLE TRIGGER {TRIGGER}")
            result = original(self, **options)
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE audit_auditevent ENABLE ALWAYS TRIGGER {TRIGGER}")
        return result

    handle.audit_trigger_aware = True
    flush.Command.handle = handle
