"""Make audit_auditevent append-only in PostgreSQL (DESIGN invariant 5).

One statement-level trigger rejects every UPDATE, DELETE and TRUNCATE, whatever rows
they would touch. It is enabled ALWAYS, so it also fires when session_replication_role
is 'replica' (which silences ordinary triggers). The table owner or a superuser can
still disable it; `manage.py audit_verify` detects any edit made that way.

SQLite has no equivalent here: the chain verification is the only protection there.
"""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION audit_auditevent_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditevent is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Audit events are only ever inserted, by audit.services.event_record.';
END;
$$;
CREATE TRIGGER audit_auditevent_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_auditevent_reject_change();
ALTER TABLE audit_auditevent ENABLE ALWAYS TRIGGER audit_auditevent_append_only;
"""

REMOVE = """
DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_auditevent_reject_change();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
