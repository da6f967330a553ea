"""Indexes for the MLflow API's reads (issue 12, point 7).

- `version_newest_per_stage` (model, stage, number): a model's newest version in a stage
  is one backward probe, not an aggregate over all its versions (10,000 for the biggest).
- PostgreSQL only: `registry_model_name_trgm`, a trigram index (pg_trgm) on `name`, so a
  name LIKE / ILIKE with a leading wildcard matching few models reads only those; and
  `registry_model_name_walk`, the catalog's name order (lower(name), id) carrying what the
  MLflow API filters on most (name, team, tags), so a filter matching many models finds a
  page's worth by walking that index alone, without reading a row of the (wide, ~2.6 kB)
  table per model it passes: a page of `tags.x = ''` or `tags.team = ...` reads about a
  thousand index entries instead of a thousand table pages. PostgreSQL chooses between
  the two by the pattern's estimated matches.

pg_trgm ships with PostgreSQL (contrib) and is a trusted extension: the database's owner
may create it. Where it is missing or refused, the migration says so and goes on without
the trigram index; name patterns then walk the name index, which is slower for rare words
but gives the same answers.
"""

from django.db import DatabaseError, migrations, models, transaction

TRIGRAM = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS registry_model_name_trgm"
    " ON registry_registeredmodel USING gin (name gin_trgm_ops)",
]
WALK = (
    "CREATE INDEX IF NOT EXISTS registry_model_name_walk"
    " ON registry_registeredmodel (lower(name), id) INCLUDE (name, team_id, tag_list)"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(WALK)
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            for sql in TRIGRAM:
                schema_editor.execute(sql)
    except DatabaseError as exc:  # not installed, or this user may not create it
        print(
            "\n  registry 0016: no trigram index on model names (pg_trgm: "
            f"{str(exc).strip().splitlines()[0]}). Name patterns still work; to speed up rare "
            "words, install it (PostgreSQL's contrib), run CREATE EXTENSION pg_trgm as the "
            "database's owner, then `manage.py migrate registry 0015` and `manage.py migrate`."
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS registry_model_name_trgm")
        schema_editor.execute("DROP INDEX IF EXISTS registry_model_name_walk")


class Migration(migrations.Migration):
    dependencies = [("registry", "0015_model_aliases")]
    operations = [
        migrations.AddIndex(
            model_name="modelversion",
            index=models.Index(
                fields=["model", "stage", "number"], name="version_newest_per_stage"
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
