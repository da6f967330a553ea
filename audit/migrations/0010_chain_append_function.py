"""audit_chain_append: the chain head's short serialised step, in PostgreSQL.

event_record inserts an event in one statement that calls this function: it locks the
chain head row, reads the clock, links the event (sequence, prev_hash, hash) and moves
the head on, with no round trip to the application while the lock is held. Before, a
writer held the lock across three statements and the Python between them, so that
concurrent writers queued on it (bench/results/registration-notes.md).

The event's other fields are hashed by the application (its `content` digest); the hash
that chains it is SHA-256 over "prev_hash:sequence:created_at:content", created_at
written as audit.services._canonical_time writes it. audit.services.event_hash computes
the same, and verification recomputes it from the stored fields.
"""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION audit_chain_append(content text, genesis text)
RETURNS TABLE (sequence bigint, prev_hash varchar, hash varchar, created_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    head_sequence bigint;
    head_hash varchar;
    stamped timestamptz;
    linked varchar;
BEGIN
    INSERT INTO audit_chainhead (id, sequence, hash) VALUES (1, 0, genesis)
        ON CONFLICT (id) DO NOTHING;
    SELECT h.sequence, h.hash INTO head_sequence, head_hash
        FROM audit_chainhead h WHERE h.id = 1 FOR UPDATE;
    -- Read under the lock: timestamps never run backwards along the chain.
    stamped := date_trunc('microseconds', clock_timestamp());
    linked := encode(sha256(convert_to(
        head_hash || ':' || (head_sequence + 1)::text || ':'
        || to_char(stamped AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')
        || ':' || content, 'UTF8')), 'hex');
    UPDATE audit_chainhead h SET sequence = head_sequence + 1, hash = linked WHERE h.id = 1;
    RETURN QUERY SELECT head_sequence + 1, head_hash, linked, stamped;
END;
$$;
"""

REMOVE = "DROP FUNCTION IF EXISTS audit_chain_append(text, text);"


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0009_action_names_declared_by_apps")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
