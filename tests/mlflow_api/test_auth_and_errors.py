"""Who may call, and how every failure answers: MLflow's JSON error, never a page or a 500."""

import base64

import pytest
import requests
from django.test import Client
from mlflow import MlflowClient

from registry.models import RegisteredModel
from tests.mlflow_api.conftest import model_tags

SEARCH = "/mlflow/api/2.0/mlflow/registered-models/search"


def basic(username, password):
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer mg_not-a-token",
        "Token abc",
        "Bearer",
        "Basic !!!",
        basic("alice", "wrong-password"),
    ],
)
def test_without_valid_credentials_the_answer_is_401_unauthenticated(live_server, member, header):
    headers = {"Authorization": header} if header else {}
    response = requests.get(f"{live_server.url}{SEARCH}", headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json()["error_code"] == "UNAUTHENTICATED"
    assert response.json()["message"]
    # No Basic challenge: a browser would ask for a password and then send it by itself.
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="modelgate"'


def test_basic_credentials_with_the_password_or_an_api_token(
    mlflow_env, monkeypatch, member, password, token, model
):
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    for secret in (password, token):
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", secret)
        client = MlflowClient(tracking_uri=mlflow_env, registry_uri=mlflow_env)
        assert [m.name for m in client.search_registered_models()] == ["fraud-scorer"]


def test_an_api_token_as_the_password_of_another_user_is_refused(live_server, token, outsider):
    response = requests.get(
        f"{live_server.url}{SEARCH}", headers={"Authorization": basic("bob", token)}, timeout=10
    )
    assert response.status_code == 401
    assert "another user" in response.json()["message"]


@pytest.mark.django_db
def test_a_session_cookie_is_not_credentials(member):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member)
    response = browser.post(
        "/mlflow/api/2.0/mlflow/registered-models/create",
        {"name": "churn", "tags": [{"key": k, "value": v} for k, v in model_tags().items()]},
        content_type="application/json",
    )
    assert response.status_code == 401
    assert response.json()["error_code"] == "UNAUTHENTICATED"
    assert not RegisteredModel.objects.exists()


def test_the_ajax_api_prefix_serves_the_same_endpoints(live_server, token, model):
    response = requests.get(
        f"{live_server.url}/mlflow/ajax-api/2.0/mlflow/registered-models/get",
        params={"name": "fraud-scorer"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["registered_model"]["name"] == "fraud-scorer"


@pytest.mark.parametrize(
    "method, route, kwargs, status, code",
    [
        ("GET", "mlflow/experiments/search", {}, 404, "ENDPOINT_NOT_FOUND"),
        ("GET", "mlflow/registered-models/create", {}, 405, "ENDPOINT_NOT_FOUND"),
        ("POST", "mlflow/registered-models/create", {"data": "{nope"}, 400, "MALFORMED_REQUEST"),
        ("POST", "mlflow/registered-models/create", {"json": [1]}, 400, "MALFORMED_REQUEST"),
        ("POST", "mlflow/registered-models/create", {"json": {}}, 400, "INVALID_PARAMETER_VALUE"),
        (
            "POST",
            "mlflow/registered-models/create",
            {"json": {"name": "x", "tags": "team=a"}},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        ("GET", "mlflow/registered-models/get", {"params": {"name": "a\x00b"}}, 400, "BAD_REQUEST"),
        (
            "PATCH",
            "mlflow/registered-models/update",
            {"json": {"name": "fraud-scorer", "description": "a\x00b"}},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "POST",
            "mlflow/registered-models/create",
            {"data": "[" * 100000 + "]" * 100000},
            400,
            "MALFORMED_REQUEST",
        ),
        (
            "POST",
            "mlflow/registered-models/create",
            {"data": b"\xff\xfe"},
            400,
            "MALFORMED_REQUEST",
        ),
        (
            "GET",
            "mlflow/registered-models/search",
            {"params": {"max_results": "many"}},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "GET",
            "mlflow/model-versions/get",
            {"params": {"name": "fraud-scorer", "version": "99999999999"}},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "GET",
            "mlflow/model-versions/search",
            {"params": {"filter": "tags.x = 'a' AND AND"}},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "POST",
            "mlflow/model-versions/transition-stage",
            {"json": {"name": "fraud-scorer", "version": "1", "stage": 3}},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
    ],
)
def test_every_failure_is_mlflows_json_error(
    api, model, version, method, route, kwargs, status, code
):
    response = api(method, route, timeout=10, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error_code"] == code and body["message"]
