"""Model versions through MLflow's own client, and the gate: a stage change is a
transition request, never a move."""

import mlflow
import pytest
from django.db import transaction

from approvals.models import TransitionRequest
from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.models import ModelVersion
from registry.stages import StageChangeKind, stage_set
from tests.mlflow_api.test_registered_models import error_of


def test_create_model_version_registers_through_version_register(client, model):
    created = client.create_model_version(
        "fraud-scorer",
        source="s3://models/fraud/7/model",
        run_id="4f2a9c",
        run_link="https://mlflow.example.com/#/runs/4f2a9c",
        description="Retrained on October.",
        tags={"label": "2.1.0", "framework": "sklearn", "code_commit": "b" * 40},
    )

    version = ModelVersion.objects.get(model=model, number=int(created.version))
    assert (version.label, version.framework, version.artifact_uri) == (
        "2.1.0",
        "sklearn",
        "s3://models/fraud/7/model",
    )
    assert (version.run_system, version.run_id, version.run_url) == (
        "mlflow",
        "4f2a9c",
        "https://mlflow.example.com/#/runs/4f2a9c",
    )
    assert version.release_notes == "Retrained on October."
    assert AuditEvent.objects.filter(action=Action.VERSION_REGISTERED).count() == 1
    assert created.status == "READY" and created.current_stage == "None"
    assert created.tags["label"] == "2.1.0" and created.source == "s3://models/fraud/7/model"


def test_register_model_adds_a_version_to_a_model_that_exists(mlflow_env, model, version):
    registered = mlflow.register_model("s3://models/fraud/2/model", "fraud-scorer")
    assert registered.version == "2"
    assert ModelVersion.objects.get(model=model, number=2).label == "2.0.0"


@pytest.mark.parametrize(
    "kwargs, says",
    [
        ({"source": "runs:/4f2a9c/model"}, "source"),
        ({"source": "/tmp/model"}, "source"),
        ({"source": "s3://b/m", "tags": {"stage": "production"}}, "tags"),
        ({"source": "s3://b/m", "tags": {"framework": "cobol"}}, "framework"),
        ({"source": "s3://b/m", "tags": {"label": "v-one"}}, "label"),
    ],
)
def test_a_version_modelgate_cannot_record_is_refused(client, model, kwargs, says):
    error = error_of(client.create_model_version, "fraud-scorer", **kwargs)
    assert error.error_code == "INVALID_PARAMETER_VALUE"
    assert says in error.message
    assert not ModelVersion.objects.exists()


def test_a_label_already_taken_is_resource_already_exists(client, model, version):
    error = error_of(
        client.create_model_version, "fraud-scorer", source="s3://b/m", tags={"label": "1.0.0"}
    )
    assert error.error_code == "RESOURCE_ALREADY_EXISTS"


def test_get_update_download_uri_and_nothing_deleted(client, model, version):
    got = client.get_model_version("fraud-scorer", "1")
    assert got.source == "s3://models/fraud-scorer/1/model.pkl"
    assert client.get_model_version_download_uri("fraud-scorer", 1) == got.source

    client.update_model_version("fraud-scorer", "1", description="Calibrated.")
    version.refresh_from_db()
    assert version.release_notes == "Calibrated."

    error = error_of(client.delete_model_version, "fraud-scorer", "1")
    assert (error.error_code, error.get_http_status_code()) == ("PERMISSION_DENIED", 403)
    assert ModelVersion.objects.filter(pk=version.pk).exists()
    for call, args in [
        (client.get_model_version, ("fraud-scorer", "9")),
        (client.get_model_version, ("nope", "1")),
    ]:
        assert error_of(call, *args).error_code == "RESOURCE_DOES_NOT_EXIST"
    error = error_of(client.set_model_version_tag, "fraud-scorer", "1", "label", "9.0.0")
    assert error.error_code == "INVALID_PARAMETER_VALUE"
    error = error_of(client.delete_model_version_tag, "fraud-scorer", "1", "label")
    assert error.error_code == "INVALID_PARAMETER_VALUE"
    version.refresh_from_db()
    assert version.label == "1.0.0"
    assert error_of(client.get_model_version, "fraud-scorer", "one").error_code == (
        "INVALID_PARAMETER_VALUE"
    )


@pytest.fixture
def staging_needs_no_approval(admin_user, model):
    from approvals.services import policy_publish

    policy_publish(
        actor=admin_user,
        stage="staging",
        model=model,
        rules={"required_approvals": 0},
        reason="Staging of this model in the test needs no approval.",
    )


def test_a_transition_a_policy_lets_through_applies_and_production_awaits_approval(
    client, model, version, staging_needs_no_approval, live_server
):
    staged = client.transition_model_version_stage("fraud-scorer", "1", "Staging")
    assert staged.current_stage == "Staging"
    version.refresh_from_db()
    assert version.stage == "staging"

    error = error_of(client.transition_model_version_stage, "fraud-scorer", "1", "Production")

    filed = TransitionRequest.objects.get(version=version, to_stage="production")
    assert (error.error_code, error.get_http_status_code()) == ("PERMISSION_DENIED", 403)
    assert "awaits approval" in error.message
    assert f"{live_server.url}/approvals/requests/{filed.pk}/" in error.message
    assert filed.state == "open" and filed.requester.username == "alice"
    assert "MLflow API" in filed.reason
    version.refresh_from_db()
    assert version.stage == "staging"
    assert client.get_model_version("fraud-scorer", "1").current_stage == "Staging"

    again = error_of(client.transition_model_version_stage, "fraud-scorer", "1", "Production")
    assert again.error_code == "RESOURCE_ALREADY_EXISTS" and "already waiting" in again.message
    bad = error_of(client.transition_model_version_stage, "fraud-scorer", "1", "Live")
    assert bad.error_code == "INVALID_PARAMETER_VALUE"
    assert TransitionRequest.objects.filter(to_stage="production").count() == 1


def test_a_move_the_state_machine_refuses_files_nothing(client, model, version):
    error = error_of(client.transition_model_version_stage, "fraud-scorer", "1", "Production")
    assert error.error_code == "INVALID_PARAMETER_VALUE" and "Staging" in error.message
    assert not TransitionRequest.objects.exists()
    version.refresh_from_db()
    assert version.stage == "none"


def test_latest_versions_per_stage(client, model, make_version):
    for _ in range(3):
        make_version(model)
    latest = client.get_latest_versions("fraud-scorer")
    assert [(v.version, v.current_stage) for v in latest] == [("3", "None")]
    assert client.get_latest_versions("fraud-scorer", stages=["Production"]) == []
    assert [v.version for v in client.get_registered_model("fraud-scorer").latest_versions] == ["3"]


def staged(version, to_stage):
    """Stands in for an approved transition: the stage's own function, which only the
    approvals app calls (tests/approvals covers the workflow)."""
    with transaction.atomic():
        stage_set(version=version, to_stage=to_stage, kind=StageChangeKind.APPLIED)


def test_latest_versions_are_the_newest_of_each_stage_with_their_aliases(
    client, model, make_version
):
    versions = [make_version(model) for _ in range(7)]
    for number, stage in [(1, "archived"), (2, "archived"), (3, "production"), (4, "staging")]:
        staged(versions[number - 1], stage)
    staged(versions[4], "staging")
    client.set_registered_model_alias("fraud-scorer", "challenger", "5")
    client.set_registered_model_alias("fraud-scorer", "Beta", "5")
    client.set_registered_model_alias("fraud-scorer", "old", "1")

    latest = client.get_latest_versions("fraud-scorer")
    assert [(v.version, v.current_stage) for v in latest] == [
        ("2", "Archived"),
        ("3", "Production"),
        ("5", "Staging"),
        ("7", "None"),
    ]
    assert [v.aliases for v in latest] == [[], [], ["Beta", "challenger"], []]
    chosen = client.get_latest_versions("fraud-scorer", stages=["Production", "archived"])
    assert [v.version for v in chosen] == ["2", "3"]
    for found in (
        client.get_registered_model("fraud-scorer"),
        client.search_registered_models("name = 'fraud-scorer'")[0],
    ):
        assert [v.version for v in found.latest_versions] == ["2", "3", "5", "7"]
        assert found.latest_versions[2].aliases == ["Beta", "challenger"]
        assert found.aliases == {"Beta": "5", "challenger": "5", "old": "1"}
    error = error_of(client.get_latest_versions, "no-such-model", stages=["Live"])
    assert error.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_search_model_versions_filters_orders_and_pages(client, make_model, make_version):
    fraud, churn = make_model(name="fraud"), make_model(name="churn")
    for _ in range(3):
        make_version(fraud, run_id="run-f")
    make_version(churn, run_id="run-c")

    def found(**kwargs):
        return [(v.name, v.version) for v in client.search_model_versions(**kwargs)]

    assert found(filter_string="name = 'fraud'", order_by=["version_number ASC"]) == [
        ("fraud", "1"),
        ("fraud", "2"),
        ("fraud", "3"),
    ]
    assert found(filter_string="run_id = 'run-c'") == [("churn", "1")]
    assert found(filter_string="run_id IN ('run-c', 'run-x')") == [("churn", "1")]
    assert found(
        filter_string="name = 'fraud' AND version_number > 1", order_by=["version_number DESC"]
    ) == [("fraud", "3"), ("fraud", "2")]
    assert found(filter_string="source_path LIKE 's3://models/churn/%'") == [("churn", "1")]
    assert found(filter_string="tags.framework = 'sklearn' AND name = 'churn'") == [("churn", "1")]

    first = client.search_model_versions(
        "name ILIKE 'FRAUD'", max_results=2, order_by=["version_number"]
    )
    rest = client.search_model_versions(
        "name ILIKE 'FRAUD'", max_results=2, order_by=["version_number"], page_token=first.token
    )
    assert [v.version for v in first] == ["1", "2"] and first.token
    assert [v.version for v in rest] == ["3"] and not rest.token

    error = error_of(client.search_model_versions, "version_number > 'two'")
    assert error.error_code == "INVALID_PARAMETER_VALUE"
