from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0007_model_name_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="teammembership",
            name="role",
            field=models.CharField(
                choices=[("member", "Member"), ("maintainer", "Maintainer")],
                default="member",
                max_length=20,
            ),
        ),
    ]
