"""A model uploaded to Modelgate loads with mlflow.pyfunc.load_model("models:/..."),
through MLflow's artifact proxy endpoints, with Modelgate's download permissions."""

import mlflow
import mlflow.pyfunc
import pytest
import requests

from audit.models import AuditEvent
from registry.audit_actions import Action
from tests.mlflow_api.conftest import tarred, upload, zipped
from tests.mlflow_api.test_registered_models import error_of


@pytest.mark.parametrize("packed, filename", [(zipped, "model.zip"), (tarred, "model.tar.gz")])
def test_a_model_uploaded_to_modelgate_loads_with_pyfunc(
    mlflow_env, live_server, token, model, model_dir, packed, filename
):
    number = upload(live_server, token, "fraud-scorer", filename, packed(model_dir), "1.0.0")

    loaded = mlflow.pyfunc.load_model(f"models:/fraud-scorer/{number}")

    assert loaded.predict([1, 2, 3]) == [2, 4, 6]
    client = mlflow.MlflowClient()
    uri = client.get_model_version_download_uri("fraud-scorer", number)
    assert uri == f"mlflow-artifacts:/models/{model.pk}/versions/{number}"
    # The model is confidential: every file handed out is in the audit log.
    downloads = AuditEvent.objects.filter(action=Action.ARTIFACT_DOWNLOADED)
    assert downloads.count() == len(list(model_dir.iterdir()))
    assert {e.changes["via"] for e in downloads} == {"mlflow"}


def test_a_single_file_is_the_only_file_of_the_versions_directory(
    mlflow_env, live_server, token, model, tmp_path
):
    number = upload(live_server, token, "fraud-scorer", "weights.bin", b"\x00\x01", "1.0.0")
    client = mlflow.MlflowClient()
    uri = client.get_model_version_download_uri("fraud-scorer", number)

    target = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(tmp_path / "dl"))

    files = [p for p in (tmp_path / "dl").rglob("*") if p.is_file()]
    assert [p.name for p in files] == ["weights.bin"]
    assert files[0].read_bytes() == b"\x00\x01"
    assert files[0].parent.as_posix() == target


def test_an_outsider_cannot_read_a_confidential_models_files(
    live_server, token, model, outsider, model_dir
):
    from registry.services import token_create

    number = upload(live_server, token, "fraud-scorer", "m.zip", zipped(model_dir), "1.0.0")
    secret = token_create(actor=outsider, name="t")[1]
    base = f"{live_server.url}/mlflow/api/2.0/mlflow-artifacts/artifacts"
    headers = {"Authorization": f"Bearer {secret}"}

    listed = requests.get(
        base, params={"path": f"models/{model.pk}/versions/{number}"}, headers=headers
    )
    fetched = requests.get(f"{base}/models/{model.pk}/versions/{number}/MLmodel", headers=headers)

    for response in (listed, fetched):
        assert response.status_code == 403
        assert response.json()["error_code"] == "PERMISSION_DENIED"
        assert "confidential" in response.json()["message"]
    assert not AuditEvent.objects.filter(action=Action.ARTIFACT_DOWNLOADED).exists()


def test_artifact_paths_that_name_nothing_are_not_found(api, model, version):
    for path in ["models/1/versions", "models/x/versions/1/a", "models/999/versions/1/MLmodel"]:
        response = api("GET", f"mlflow-artifacts/artifacts/{path}")
        assert response.status_code == 404
        assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    # A version whose artifact lives elsewhere (a URI) has nothing stored here.
    path = f"models/{model.pk}/versions/1"
    response = api("GET", "mlflow-artifacts/artifacts", params={"path": path})
    assert response.status_code == 404
    assert "s3://" in response.json()["message"]


def test_a_version_without_an_artifact_has_no_download_uri(client, model, make_version):
    make_version(model, artifact_uri="")
    error = error_of(client.get_model_version_download_uri, "fraud-scorer", "1")
    assert error.error_code == "RESOURCE_DOES_NOT_EXIST"
