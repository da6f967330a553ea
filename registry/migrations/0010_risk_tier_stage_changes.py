"""Risk tiers, per-stage approvers, and the guard on a version's stage.

Existing models get the medium tier (governance staff re-tier them, with a reason).
Approvers named before stages had their own permission approved "stage transitions":
each such grant becomes a grant for every stage. On PostgreSQL a trigger refuses any
change of a version's stage that registry.stages.stage_set did not record in the same
transaction, and a new version that does not start unstaged.
"""

import django.db.models.deletion
from django.db import migrations, models

OLD = "approve_registeredmodel"
STAGES = ("staging", "production", "archived")

GUARD = """
CREATE FUNCTION registry_version_stage_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.stage <> 'none' THEN
            RAISE EXCEPTION 'A new model version starts unstaged; its stage changes only through an applied transition.'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.stage IS DISTINCT FROM OLD.stage AND NOT EXISTS (
        SELECT 1 FROM registry_stagechange c
        WHERE c.version_id = NEW.id AND c.from_stage = OLD.stage AND c.to_stage = NEW.stage
          AND c.txid = txid_current()
    ) THEN
        RAISE EXCEPTION 'The stage of a model version changes only through an applied transition (approvals), never directly.'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER registry_version_stage_guard
    BEFORE INSERT OR UPDATE OF stage ON registry_modelversion
    FOR EACH ROW EXECUTE FUNCTION registry_version_stage_guard();
"""
UNGUARD = """
DROP TRIGGER IF EXISTS registry_version_stage_guard ON registry_modelversion;
DROP FUNCTION IF EXISTS registry_version_stage_guard();
"""


def split_approver_grants(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    UserObjectPermission = apps.get_model("guardian", "UserObjectPermission")
    GroupObjectPermission = apps.get_model("guardian", "GroupObjectPermission")
    ct, _ = ContentType.objects.get_or_create(app_label="registry", model="registeredmodel")
    old = Permission.objects.filter(content_type=ct, codename=OLD).first()
    if old is None:
        return
    new = [
        Permission.objects.get_or_create(
            content_type=ct,
            codename=f"approve_{stage}_registeredmodel",
            defaults={"name": f"Can approve transitions of this model to {stage.title()}"},
        )[0]
        for stage in STAGES
    ]
    for Grant, holder in ((UserObjectPermission, "user_id"), (GroupObjectPermission, "group_id")):
        for row in Grant.objects.filter(permission=old):
            for perm in new:
                Grant.objects.get_or_create(
                    permission=perm,
                    content_type_id=row.content_type_id,
                    object_pk=row.object_pk,
                    **{holder: getattr(row, holder)},
                )
        Grant.objects.filter(permission=old).delete()
    old.delete()


def guard_stage(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD)


def unguard_stage(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0009_card_revision_provenance"),
        ("guardian", "0002_generic_permissions_index"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="registeredmodel",
            options={
                "ordering": ["name"],
                "permissions": [
                    (
                        "approve_staging_registeredmodel",
                        "Can approve transitions of this model to Staging",
                    ),
                    (
                        "approve_production_registeredmodel",
                        "Can approve transitions of this model to Production",
                    ),
                    (
                        "approve_archived_registeredmodel",
                        "Can approve transitions of this model to Archived",
                    ),
                    ("set_risk_tier_registeredmodel", "Can change a model's risk tier"),
                ],
            },
        ),
        migrations.AlterModelOptions(
            name="team",
            options={
                "ordering": ["name"],
                "permissions": [
                    (
                        "approve_staging_team",
                        "Can approve transitions to Staging of the team's models",
                    ),
                    (
                        "approve_production_team",
                        "Can approve transitions to Production of the team's models",
                    ),
                    (
                        "approve_archived_team",
                        "Can approve transitions to Archived of the team's models",
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="registeredmodel",
            name="risk_tier",
            field=models.CharField(
                choices=[
                    ("low", "Low"),
                    ("medium", "Medium"),
                    ("high", "High"),
                    ("critical", "Critical"),
                ],
                default="medium",
                editable=False,
                max_length=10,
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="modelversion",
            name="stage",
            field=models.CharField(
                choices=[
                    ("none", "Not staged"),
                    ("staging", "Staging"),
                    ("production", "Production"),
                    ("archived", "Archived"),
                ],
                default="none",
                editable=False,
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="registeredmodel",
            name="current_stage",
            field=models.CharField(
                choices=[
                    ("none", "Not staged"),
                    ("staging", "Staging"),
                    ("production", "Production"),
                    ("archived", "Archived"),
                ],
                default="none",
                editable=False,
                max_length=20,
            ),
        ),
        migrations.CreateModel(
            name="StageChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "from_stage",
                    models.CharField(
                        choices=[
                            ("none", "Not staged"),
                            ("staging", "Staging"),
                            ("production", "Production"),
                            ("archived", "Archived"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "to_stage",
                    models.CharField(
                        choices=[
                            ("none", "Not staged"),
                            ("staging", "Staging"),
                            ("production", "Production"),
                            ("archived", "Archived"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("applied", "Applied transition"),
                            ("superseded", "Archived when another version reached production"),
                            ("rollback", "Emergency rollback"),
                            ("rolled_back", "Archived by an emergency rollback"),
                        ],
                        max_length=20,
                    ),
                ),
                ("request_id", models.BigIntegerField(blank=True, null=True)),
                ("txid", models.BigIntegerField(editable=False)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "model",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registry.registeredmodel",
                    ),
                ),
                (
                    "version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registry.modelversion",
                    ),
                ),
            ],
            options={
                "ordering": ["-id"],
                "indexes": [
                    models.Index(fields=["version", "txid"], name="registry_st_version_7a6399_idx")
                ],
            },
        ),
        migrations.RunPython(split_approver_grants, migrations.RunPython.noop),
        migrations.RunPython(guard_stage, unguard_stage),
    ]
