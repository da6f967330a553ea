"""Every model gets the key near-duplicate names share (registry.names), unique.

Existing models are keyed oldest first. A model whose name near-duplicates an older
one's (possible before this rule: "xss-probe" and "xss-probe.") keeps its name and gets
no key, and the migration names each such pair; renaming either model, or deleting the
duplicate, settles it. New registrations still collide with the older model's key.
"""

import sys

from django.db import migrations, models

from registry.names import name_key

BATCH = 2000


def backfill(apps, schema_editor):
    RegisteredModel = apps.get_model("registry", "RegisteredModel")
    holders: dict[str, str] = {}
    batch = []
    rows = RegisteredModel.objects.order_by("id").values_list("id", "name")
    for pk, name in rows.iterator(chunk_size=BATCH):
        key = name_key(name)
        if key in holders:
            sys.stdout.write(
                f"\n  near-duplicate model name left unkeyed: {name!r} (id {pk}) is the same "
                f"name as {holders[key]!r}; rename one of them."
            )
            continue
        holders[key] = name
        batch.append(RegisteredModel(pk=pk, name_key=key))
        if len(batch) >= BATCH:
            RegisteredModel.objects.bulk_update(batch, ["name_key"])
            batch = []
    if batch:
        RegisteredModel.objects.bulk_update(batch, ["name_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0006_model_name_one_segment"),
    ]

    operations = [
        migrations.AddField(
            model_name="registeredmodel",
            name="name_key",
            field=models.CharField(editable=False, max_length=400, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
        migrations.AddConstraint(
            model_name="registeredmodel",
            constraint=models.UniqueConstraint(fields=("name_key",), name="unique_model_name_key"),
        ),
    ]
