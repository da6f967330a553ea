from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0007_team_maintainer_actions"),
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
                    ("audit.verification.started", "Chain verification started"),
                ],
                max_length=100,
            ),
        ),
        migrations.AlterModelOptions(
            name="verificationrun",
            options={"ordering": ["-pk"]},
        ),
        migrations.AddField(
            model_name="verificationrun",
            name="requested_by_name",
            field=models.CharField(blank=True, max_length=150),
        ),
        migrations.AddField(
            model_name="verificationrun",
            name="started_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="verificationrun",
            name="state",
            field=models.CharField(
                choices=[
                    ("running", "Running"),
                    ("finished", "Finished"),
                    ("abandoned", "Abandoned"),
                ],
                default="finished",
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="verificationrun",
            name="events_checked",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="verificationrun",
            name="finished_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="verificationrun",
            name="ok",
            field=models.BooleanField(null=True),
        ),
        migrations.AddConstraint(
            model_name="verificationrun",
            constraint=models.UniqueConstraint(
                condition=models.Q(("state", "running")),
                fields=("state",),
                name="audit_one_running_verification",
            ),
        ),
    ]
