"""The organisation's default policies, one per target stage and risk tier, and the
Governance and Break-glass groups.

Governance staff publish new versions of these (approvals.services.policy_publish); a
team or a model may get its own. The numbers: more approvers and more of the model card
the higher the risk; archiving needs approval only for high and critical models.
"""

from django.db import migrations

BASIC = ["model_details", "intended_use"]
CORE = BASIC + ["training_data", "evaluation_data"]
PRODUCTION = BASIC + ["out_of_scope_use", "training_data", "evaluation_data", "metrics_and_results"]
ALL = PRODUCTION + ["ethical_considerations", "caveats_and_limitations", "recommendations"]

# (stage, tier): approvals, separation of duties, sections, lineage, metadata, skip staging
DEFAULTS = {
    ("staging", "low"): (0, False, BASIC, False, False, False),
    ("staging", "medium"): (1, True, BASIC, False, True, False),
    ("staging", "high"): (1, True, CORE, True, True, False),
    ("staging", "critical"): (2, True, CORE, True, True, False),
    ("production", "low"): (1, True, PRODUCTION, True, True, True),
    ("production", "medium"): (2, True, PRODUCTION, True, True, False),
    ("production", "high"): (2, True, ALL, True, True, False),
    ("production", "critical"): (3, True, ALL, True, True, False),
    ("archived", "low"): (0, False, [], False, False, False),
    ("archived", "medium"): (0, False, [], False, False, False),
    ("archived", "high"): (1, False, [], False, False, False),
    ("archived", "critical"): (1, True, [], False, False, False),
}
ORDER = [
    "model_details",
    "intended_use",
    "out_of_scope_use",
    "training_data",
    "evaluation_data",
    "metrics_and_results",
    "ethical_considerations",
    "caveats_and_limitations",
    "recommendations",
]

GROUPS = {
    "Governance": [
        ("approvals", "policy", "publish_policy", "Can publish approval policies"),
        ("approvals", "policy", "assign_approvers", "Can name the approvers of any model"),
        (
            "registry",
            "registeredmodel",
            "set_risk_tier_registeredmodel",
            "Can change a model's risk tier",
        ),
    ],
    "Break-glass": [
        (
            "approvals",
            "policy",
            "rollback_emergency",
            "Can put the previous production version back (break glass)",
        ),
    ],
}


def create_defaults(apps, schema_editor):
    Policy = apps.get_model("approvals", "Policy")
    for (stage, tier), (approvals, sod, sections, lineage, metadata, skip) in DEFAULTS.items():
        Policy.objects.get_or_create(
            scope="org",
            stage=stage,
            risk_tier=tier,
            number=1,
            defaults={
                "required_approvals": approvals,
                "separation_of_duties": sod,
                "required_sections": [s for s in ORDER if s in sections],
                "thresholds": [],
                "max_regression": [],
                "require_lineage": lineage,
                "require_metadata": metadata,
                "allow_skip_staging": skip,
                "reason": "Organisation default, installed with Modelgate.",
            },
        )


def create_groups(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for group_name, perms in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        for app_label, model, codename, name in perms:
            ct, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
            perm, _ = Permission.objects.get_or_create(
                content_type=ct, codename=codename, defaults={"name": name}
            )
            group.permissions.add(perm)


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("registry", "0010_risk_tier_stage_changes"),
    ]

    operations = [
        migrations.RunPython(create_defaults, migrations.RunPython.noop),
        migrations.RunPython(create_groups, migrations.RunPython.noop),
    ]
