"""Migration 0007 keys the existing models, oldest first, and leaves a near-duplicate
registered before the rule unkeyed instead of failing."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("registry", "0006_model_name_one_segment")]
AFTER = [("registry", "0007_model_name_key")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_schema():
    apps = migrate(BEFORE)
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_existing_models_are_keyed_and_a_near_duplicate_is_reported(old_schema, capsys):
    User = old_schema.get_model("auth", "User")
    Team = old_schema.get_model("registry", "Team")
    RegisteredModel = old_schema.get_model("registry", "RegisteredModel")
    user = User.objects.create(username="migrator")
    team = Team.objects.create(name="Security", slug="security")
    common = {
        "team": team,
        "owner": user,
        "created_by": user,
        "description": "d",
        "purpose": "p",
        "license": "MIT",
        "data_classification": "internal",
        "evaluation_coverage": "e",
    }
    now = timezone.now()
    for name in ("xss-probe", "fraud-scorer", "xss-probe."):
        RegisteredModel.objects.create(name=name, created_at=now, updated_at=now, **common)

    apps = migrate(AFTER)

    keys = dict(
        apps.get_model("registry", "RegisteredModel").objects.values_list("name", "name_key")
    )
    assert keys == {"xss-probe": "xss-probe", "fraud-scorer": "fraud-scorer", "xss-probe.": None}
    printed = capsys.readouterr().out
    assert "'xss-probe.' (id" in printed and "is the same name as 'xss-probe'" in printed
