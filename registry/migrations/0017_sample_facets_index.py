"""A catalog sample read from an index alone (issue 11).

A search that matches many models counts its facets on a window of `sample_key`
(migration 0014). Read through the plain key index, each sampled model costs a visit to
its row in the table, whose rows are wide (~2.6 kB with the search text and vector):
~2,000 sampled models are ~2,000 table pages. `registry_model_sample_facets` carries
what the facet counts read (the id, team, stage, license, classification, framework and
tags) beside the key, so a window with no text search (the landing page, filters alone)
is read from the index alone: ~170 index pages instead (bench/results/catalog-notes.md).

It is partial, on `sample_key >= 0`, which every model satisfies (the key is
`hashint8(id) & 65535`): PostgreSQL uses a partial index only for a query whose
conditions imply its predicate, and only the sample windows (`sample_key >= <start>`)
do. Without it, a search that reads all of its matches (a tag filter matching 2,600
models) could be planned as a pass over all 100,000 entries of this index with the
filter applied to each, which PostgreSQL costs as cheaper than reading the 2,600 rows
through the tag index, and which takes four times as long.

The plain key index stays: it is a seventh of the size (1.8 MB), so ANDing a window
with the text index (where the rows must be read anyway) reads fewer pages through it.

Built inside the migration's transaction (not CONCURRENTLY): writes to the models'
table wait while it builds, under a second per 100,000 models on the bench machine (0.4 s
for 100,001 models; the index takes 13 MB).

PostgreSQL only, like the sample key itself.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS registry_model_sample_facets ON registry_registeredmodel"
    " (sample_key) INCLUDE (id, team_id, current_stage, license, data_classification,"
    " latest_framework, tag_list) WHERE sample_key >= 0"
)
DROP = "DROP INDEX IF EXISTS registry_model_sample_facets"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("registry", "0016_mlflow_read_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
