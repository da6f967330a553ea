"""Aliases through MLflow's client: Modelgate's alias services, with a protected alias
(champion) set only through an approved request."""

import mlflow
import mlflow.pyfunc

from approvals.models import TransitionRequest
from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.models import ModelAlias
from tests.mlflow_api.conftest import upload, zipped
from tests.mlflow_api.test_registered_models import error_of


def test_set_get_and_delete_an_alias(client, model, version, make_version):
    make_version(model)
    client.set_registered_model_alias("fraud-scorer", "challenger", "1")

    alias = ModelAlias.objects.get(model=model)
    assert (alias.name, alias.version.number) == ("challenger", 1)
    assert AuditEvent.objects.filter(action=Action.ALIAS_SET).count() == 1
    found = client.get_model_version_by_alias("fraud-scorer", "challenger")
    assert (found.version, found.aliases) == ("1", ["challenger"])
    assert client.get_registered_model("fraud-scorer").aliases == {"challenger": "1"}
    assert client.get_model_version("fraud-scorer", "1").aliases == ["challenger"]

    client.set_registered_model_alias("fraud-scorer", "challenger", "2")  # moves it
    assert client.get_model_version_by_alias("fraud-scorer", "challenger").version == "2"

    client.delete_registered_model_alias("fraud-scorer", "challenger")
    assert not ModelAlias.objects.exists()
    for call in (client.get_model_version_by_alias, client.delete_registered_model_alias):
        assert error_of(call, "fraud-scorer", "challenger").error_code == (
            "RESOURCE_DOES_NOT_EXIST"
        )


def test_a_protected_alias_files_a_request_and_is_not_set(client, model, version, live_server):
    error = error_of(client.set_registered_model_alias, "fraud-scorer", "champion", "1")

    filed = TransitionRequest.objects.get(model=model, alias="champion")
    assert (error.error_code, error.get_http_status_code()) == ("PERMISSION_DENIED", 403)
    assert "awaits approval" in error.message
    assert f"{live_server.url}/approvals/requests/{filed.pk}/" in error.message
    assert "MLflow API" in filed.reason
    assert not ModelAlias.objects.exists()
    assert client.get_registered_model("fraud-scorer").aliases == {}


def test_bad_names_and_other_teams_are_refused(
    mlflow_env, client, model, version, outsider, monkeypatch
):
    from mlflow import MlflowClient

    from registry.services import token_create

    error = error_of(client.set_registered_model_alias, "fraud-scorer", "no spaces", "1")
    assert error.error_code == "INVALID_PARAMETER_VALUE"
    error = error_of(client.set_registered_model_alias, "fraud-scorer", "x", "7")
    assert error.error_code == "RESOURCE_DOES_NOT_EXIST"

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token_create(actor=outsider, name="t")[1])
    outsiders = MlflowClient(tracking_uri=mlflow_env, registry_uri=mlflow_env)
    error = error_of(outsiders.set_registered_model_alias, "fraud-scorer", "mine", "1")
    assert error.error_code == "PERMISSION_DENIED"
    assert not ModelAlias.objects.exists()


def test_a_model_loads_by_alias(mlflow_env, live_server, token, model, model_dir):
    number = upload(live_server, token, "fraud-scorer", "model.zip", zipped(model_dir), "1.0.0")
    mlflow.MlflowClient().set_registered_model_alias("fraud-scorer", "challenger", number)

    loaded = mlflow.pyfunc.load_model("models:/fraud-scorer@challenger")

    assert loaded.predict([5]) == [10]
