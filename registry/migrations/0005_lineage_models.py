"""Lineage links carry their child's and parent's model, so a model page finds its newest
links with one index range scan per side instead of joining every link to its versions."""

import django.db.models.deletion
from django.db import migrations, models

BACKFILL = """
UPDATE registry_versionparent SET
    child_model_id = (SELECT model_id FROM registry_modelversion WHERE id = child_id),
    parent_model_id = (SELECT model_id FROM registry_modelversion WHERE id = parent_id)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_catalog_name_order"),
    ]

    operations = [
        migrations.AddField(
            model_name="versionparent",
            name="child_model",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="registry.registeredmodel",
            ),
        ),
        migrations.AddField(
            model_name="versionparent",
            name="parent_model",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="registry.registeredmodel",
            ),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="versionparent",
            name="child_model",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="registry.registeredmodel",
            ),
        ),
        migrations.AlterField(
            model_name="versionparent",
            name="parent_model",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="registry.registeredmodel",
            ),
        ),
        migrations.AddIndex(
            model_name="versionparent",
            index=models.Index(fields=["child_model", "-id"], name="lineage_by_child_model"),
        ),
        migrations.AddIndex(
            model_name="versionparent",
            index=models.Index(fields=["parent_model", "-id"], name="lineage_by_parent_model"),
        ),
    ]
