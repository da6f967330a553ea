"""Nothing changes a version's stage except an applied transition (DESIGN invariant 2),
down to raw SQL on PostgreSQL."""

import ast
from pathlib import Path

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from registry.models import ModelVersion
from registry.stages import Stage, StageChangeKind, stage_set

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


@pytest.mark.postgres
def test_a_raw_sql_update_of_a_stage_fails(version):
    with pytest.raises(DatabaseError, match="changes only through an applied transition"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE registry_modelversion SET stage = 'production' WHERE id = %s", [version.pk]
            )
    version.refresh_from_db()
    assert version.stage == Stage.NONE


@pytest.mark.postgres
def test_an_orm_update_of_a_stage_fails(version):
    with pytest.raises(DatabaseError, match="changes only through an applied transition"):
        with transaction.atomic():
            ModelVersion.objects.filter(pk=version.pk).update(stage=Stage.STAGING)


@pytest.mark.postgres
def test_a_version_cannot_be_inserted_in_a_stage(version):
    with pytest.raises(IntegrityError, match="starts unstaged"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO registry_modelversion (model_id, number, label, stage, framework,"
                " flavor, artifact, artifact_uri, artifact_filename, artifact_sha256, run_system,"
                " run_id, run_url, code_repository, code_commit, hyperparameters, release_notes,"
                " created_by_id, created_at) SELECT model_id, 99, '99.0.0', 'production',"
                " framework, flavor, artifact, artifact_uri, artifact_filename, artifact_sha256,"
                " run_system, run_id, run_url, code_repository, code_commit, hyperparameters,"
                " release_notes, created_by_id, created_at"
                " FROM registry_modelversion WHERE id = %s",
                [version.pk],
            )


@pytest.mark.postgres
def test_a_change_recorded_for_another_move_does_not_unlock_this_one(version):
    with pytest.raises(DatabaseError, match="changes only through an applied transition"):
        with transaction.atomic():
            stage_set(version=version, to_stage=Stage.STAGING, kind=StageChangeKind.APPLIED)
            ModelVersion.objects.filter(pk=version.pk).update(stage=Stage.PRODUCTION)


def test_stage_set_moves_the_version_and_the_models_current_stage(version, model):
    with transaction.atomic():
        stage_set(version=version, to_stage=Stage.STAGING, kind=StageChangeKind.APPLIED)
    version.refresh_from_db()
    model.refresh_from_db()
    assert version.stage == model.current_stage == Stage.STAGING


def _callers_of(name: str) -> set[str]:
    found = set()
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] in {"tests", ".venv", "bench"} or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called == name:
                    found.add(str(path.relative_to(ROOT)))
    return found


def test_only_approvals_calls_stage_set():
    assert _callers_of("stage_set") == {"approvals/services/transitions.py"}


def test_no_form_serializer_or_admin_offers_the_stage_field():
    from django.contrib import admin

    from registry.forms import ModelMetadataForm

    assert "stage" not in ModelMetadataForm.base_fields
    assert ModelVersion._meta.get_field("stage").editable is False
    for model, model_admin in admin.site._registry.items():
        if model is ModelVersion:
            assert not model_admin.has_change_permission(None)


@pytest.mark.postgres
def test_a_fixture_cannot_load_a_version_into_a_stage(version, tmp_path):
    from django.core import serializers
    from django.core.management import call_command

    data = serializers.serialize("json", [version])
    fixture = tmp_path / "promote.json"
    fixture.write_text(data.replace('"stage": "none"', '"stage": "production"'))
    with pytest.raises(DatabaseError, match="changes only through an applied transition"):
        call_command("loaddata", str(fixture), verbosity=0)
    version.refresh_from_db()
    assert version.stage == Stage.NONE


def test_the_admin_cannot_change_approvals_rows(admin_client, version):
    from approvals.models import Policy

    policy = Policy.objects.filter(stage="production", risk_tier="medium").get()
    response = admin_client.post(
        f"/admin/approvals/policy/{policy.pk}/change/", {"required_approvals": 0}
    )
    assert response.status_code == 403
    policy.refresh_from_db()
    assert policy.required_approvals == 2
    assert admin_client.get("/admin/approvals/transitionrequest/").status_code == 200
