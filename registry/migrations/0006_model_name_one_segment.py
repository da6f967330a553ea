"""Model names are matched to the end of the string (\\Z), so a trailing newline is no
longer part of a valid name."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0005_lineage_models"),
    ]

    operations = [
        migrations.AlterField(
            model_name="registeredmodel",
            name="name",
            field=models.CharField(
                max_length=100,
                validators=[
                    django.core.validators.RegexValidator(
                        "\\A[A-Za-z0-9][A-Za-z0-9._-]{0,99}\\Z",
                        "Use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit.",
                        code="invalid_name",
                    )
                ],
            ),
        ),
    ]
