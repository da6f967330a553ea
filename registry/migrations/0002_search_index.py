"""GIN index on the stored search vector, and a trigram-free prefix index for names.

PostgreSQL only: on SQLite the catalog uses its documented substring fallback, so there
is nothing to index.
"""

from django.db import migrations

CREATE = [
    "CREATE INDEX IF NOT EXISTS registry_model_search_gin "
    "ON registry_registeredmodel USING gin (search_vector)",
    "CREATE INDEX IF NOT EXISTS registry_model_name_lower "
    "ON registry_registeredmodel (lower(name) varchar_pattern_ops)",
]
DROP = [
    "DROP INDEX IF EXISTS registry_model_search_gin",
    "DROP INDEX IF EXISTS registry_model_name_lower",
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
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
