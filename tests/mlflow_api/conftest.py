"""MLflow's own client (mlflow-skinny, unmodified) against a live Modelgate server."""

import io
import tarfile
import zipfile

import pytest
import requests

from tests.conftest import MODEL_DEFAULTS

METADATA_TAGS = {k: v for k, v in MODEL_DEFAULTS.items() if k != "description"}


@pytest.fixture
def token(member):
    from registry.services import token_create

    return token_create(actor=member, name="pipeline")[1]


@pytest.fixture
def mlflow_env(monkeypatch, live_server, token):
    """The environment a pipeline sets: the tracking URI and its Modelgate token."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"{live_server.url}/mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
    # Fail fast instead of MLflow's minutes of retries with back-off.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_REGISTRY_URI"):
        monkeypatch.delenv(name, raising=False)
    return f"{live_server.url}/mlflow"


@pytest.fixture
def client(mlflow_env):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=mlflow_env, registry_uri=mlflow_env)


@pytest.fixture
def api(live_server, token):
    """Raw HTTP to the same endpoints, for what MLflow's client does not send."""

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"

    def call(method, route, **kwargs):
        return session.request(method, f"{live_server.url}/mlflow/api/2.0/{route}", **kwargs)

    return call


def model_tags(**overrides):
    return {**METADATA_TAGS, **overrides}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A tiny pyfunc model saved by MLflow: MLmodel, the pickled model, environments."""
    import mlflow.pyfunc

    from tests.mlflow_api.pyfunc_models import Doubler

    path = tmp_path_factory.mktemp("pyfunc") / "model"
    mlflow.pyfunc.save_model(str(path), python_model=Doubler(), pip_requirements=[])
    return path


def zipped(directory) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(directory.rglob("*")):
            archive.write(file, file.relative_to(directory).as_posix())
    return buffer.getvalue()


def tarred(directory) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(directory, arcname="model")  # one top-level folder
    return buffer.getvalue()


def upload(live_server, token, model_name, filename, content, label):
    """Register a version with its file through Modelgate's own API, as a pipeline would."""
    response = requests.post(
        f"{live_server.url}/api/models/{model_name}/versions/",
        headers={"Authorization": f"Bearer {token}"},
        data={"label": label, "framework": "other"},
        files={"artifact": (filename, content)},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return response.json()["number"]
