from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0006_artifact_downloaded"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("registry.team.created", "Team created"),
                    ("registry.team.member_added", "Team member added"),
                    ("registry.team.member_removed", "Team member removed"),
                    ("registry.team.maintainer_added", "Team maintainer added"),
                    ("registry.team.maintainer_removed", "Team maintainer removed"),
                    ("registry.model.created", "Model created"),
                    ("registry.model.updated", "Model metadata updated"),
                    ("registry.permission.granted", "Permission granted"),
                    ("registry.permission.revoked", "Permission revoked"),
                    ("registry.version.registered", "Version registered"),
                    ("registry.version.updated", "Version updated"),
                    ("registry.version.metrics_attached", "Metrics attached"),
                    ("registry.version.params_attached", "Hyper-parameters attached"),
                    ("registry.version.lineage_attached", "Lineage attached"),
                    ("registry.version.data_attached", "Data versions attached"),
                    ("registry.artifact.uploaded", "Artifact uploaded"),
                    ("registry.artifact.downloaded", "Restricted artifact downloaded"),
                    ("registry.card.updated", "Model card updated"),
                    ("registry.token.created", "API token created"),
                    ("registry.token.revoked", "API token revoked"),
                    ("audit.export.created", "Audit log exported"),
                ],
                max_length=100,
            ),
        ),
    ]
