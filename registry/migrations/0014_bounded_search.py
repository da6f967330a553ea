"""What the bounded catalog search reads instead of every match (issue 11).

- `search_key`: one bigint per model that orders the catalog by a cheap static score
  (stage, then day of the last update, then number of versions, then id). A trigger
  keeps it current on every write path, so no service has to remember it; ranking picks
  its candidates from the top of this index instead of sorting every match.
- `sample_key`, a generated column `hashint8(id) & 65535` with its index: a fixed,
  uniform pseudo-random key per model, so a search that matches many models can count a
  random sample of them (a range of keys ANDed with the text index) and scale up. A
  stored column rather than an expression index: PostgreSQL can count a range of it
  from the index alone, and does not plan to hash every id through the primary key.
  Not a Django field: only this SQL reads it (SQLite has no hashint8).
- A GIN index on `tag_list`, so a tag filter is an index condition too.

PostgreSQL only: the embedded SQLite catalog keeps its exact, unbounded search.
"""

from django.db import migrations, models

FUNCTION = """
CREATE OR REPLACE FUNCTION registry_model_search_key() RETURNS trigger AS $$
BEGIN
    NEW.search_key :=
        ((CASE NEW.current_stage
              WHEN 'production' THEN 3 WHEN 'staging' THEN 2 WHEN 'archived' THEN 0
              ELSE 1 END)::bigint << 59)
        | (LEAST(GREATEST(floor((extract(epoch FROM NEW.updated_at) - 946684800) / 86400), 0),
                 32767)::bigint << 44)
        | (LEAST(NEW.last_version_number, 4095)::bigint << 32)
        | (NEW.id & 4294967295);
    RETURN NEW;
END
$$ LANGUAGE plpgsql
"""
CREATE = [
    FUNCTION,
    "CREATE TRIGGER registry_model_search_key BEFORE INSERT OR UPDATE OF"
    " current_stage, updated_at, last_version_number ON registry_registeredmodel"
    " FOR EACH ROW EXECUTE FUNCTION registry_model_search_key()",
    "UPDATE registry_registeredmodel SET updated_at = updated_at",
    "CREATE INDEX IF NOT EXISTS registry_model_search_key"
    " ON registry_registeredmodel (search_key DESC)",
    "ALTER TABLE registry_registeredmodel ADD COLUMN sample_key integer"
    " GENERATED ALWAYS AS (hashint8(id) & 65535) STORED",
    "CREATE INDEX IF NOT EXISTS registry_model_sample_key ON registry_registeredmodel (sample_key)",
    "CREATE INDEX IF NOT EXISTS registry_model_tag_list_gin"
    " ON registry_registeredmodel USING gin (tag_list jsonb_path_ops)",
]
DROP = [
    "DROP INDEX IF EXISTS registry_model_tag_list_gin",
    "DROP INDEX IF EXISTS registry_model_sample_key",
    "ALTER TABLE registry_registeredmodel DROP COLUMN IF EXISTS sample_key",
    "DROP INDEX IF EXISTS registry_model_search_key",
    "DROP TRIGGER IF EXISTS registry_model_search_key ON registry_registeredmodel",
    "DROP FUNCTION IF EXISTS registry_model_search_key()",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in CREATE:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("registry", "0013_git_targets")]
    operations = [
        migrations.AddField(
            model_name="registeredmodel",
            name="search_key",
            field=models.BigIntegerField(editable=False, null=True),
        ),
        migrations.RunPython(forwards, backwards),
    ]
