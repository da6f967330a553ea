"""The apps declare their action names and stage labels (audit.actions), so the columns
carry no choices: a new action no longer needs an audit migration, and audit no longer
imports the registry's Stage. Stored values, and so every event's hash, are unchanged
(no SQL: choices live only in Python)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0008_verification_runs"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(max_length=100),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="from_stage",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="to_stage",
            field=models.CharField(blank=True, max_length=20),
        ),
    ]
