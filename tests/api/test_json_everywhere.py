"""Every answer under /api/ is JSON in one shape, and the schema says what is enforced."""

import json

import pytest
import yaml
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from .payloads import errors_of

pytestmark = pytest.mark.django_db


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return body


# --- JSON for every status -----------------------------------------------------------


def test_a_post_to_an_unknown_address_with_a_session_is_a_json_404_not_a_csrf_page(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert_json_error(client.post("/api/nothing-here/", {"a": 1}), 404)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_any_method_on_an_unknown_address_is_a_json_404(api, method):
    assert_json_error(getattr(api, method)("/api/models/x/nothing/"), 404)


def test_an_unknown_method_on_a_known_address_is_a_json_405(api, model):
    response = api.generic("PROPFIND", f"/api/models/{model.name}/")
    assert_json_error(response, 405)


def test_a_server_error_is_json_without_a_traceback(api, monkeypatch):
    def explode(query):
        raise RuntimeError("secret internals at line 42")

    monkeypatch.setattr("registry.api.views.models.catalog_search", explode)
    api.raise_request_exception = False
    body = assert_json_error(api.get("/api/models/"), 500)
    assert "secret" not in json.dumps(body) and "Traceback" not in json.dumps(body)


def test_no_token_is_a_json_401_with_the_scheme_to_use():
    response = APIClient().get("/api/models/")
    assert_json_error(response, 401)
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_refusal_is_a_json_403_in_the_same_shape(outsider_api, model):
    assert_json_error(outsider_api.patch(f"/api/models/{model.name}/", {"purpose": "x"}), 403)


def test_a_session_write_without_csrf_is_a_json_403(member, model):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    response = client.patch(
        f"/api/models/{model.name}/", '{"purpose": "x"}', content_type="application/json"
    )
    assert_json_error(response, 403)


# --- The schema ------------------------------------------------------------------------


def test_the_schema_is_served_anonymously_as_yaml():
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")


@pytest.mark.parametrize(
    "query, headers",
    [("?format=json", {}), ("", {"HTTP_ACCEPT": "application/vnd.oai.openapi+json"})],
)
def test_the_schema_is_served_anonymously_as_json(query, headers):
    response = Client().get(f"/api/schema/{query}", **headers)
    assert response.status_code == 200
    assert json.loads(response.content)["paths"]


def test_a_stale_token_does_not_hide_the_schema():
    response = Client().get("/api/schema/", HTTP_AUTHORIZATION="Bearer mg_revoked")
    assert response.status_code == 200


@pytest.fixture
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_no_operation_is_described_by_a_mixin(schema):
    descriptions = [
        op.get("description", "") for ops in schema["paths"].values() for op in ops.values()
    ]
    assert not [d for d in descriptions if "Views that accept" in d or "handler must" in d]
    assert all(descriptions)


def test_no_component_is_described_by_a_mixin(schema):
    descriptions = [c.get("description", "") for c in schema["components"]["schemas"].values()]
    assert not [d for d in descriptions if "Reject fields the endpoint" in d]


def test_the_schema_declares_that_adding_nothing_is_refused(schema):
    components = schema["components"]["schemas"]
    assert components["MetricsRequest"]["properties"]["metrics"]["minItems"] == 1
    assert components["ParamsRequest"]["properties"]["hyperparameters"]["minProperties"] == 1


def test_error_messages_are_one_level_deep_as_the_schema_says(api, version, schema):
    url = f"/api/models/{version.model.name}/versions/1/lineage/"
    errors = errors_of(api.post(url, {"parents": [{"model": "x", "relation": "derived_from"}]}))
    assert errors == {"parents": ["[0].version: This field is required."]}
    error = schema["components"]["schemas"]["Error"]["properties"]["errors"]
    assert error["additionalProperties"] == {"type": "array", "items": {"type": "string"}}


# --- Parameters are checked, not ignored ---------------------------------------------------


@pytest.mark.parametrize(
    "url, param",
    [
        ("/api/models/?sort=newest", "sort"),
        ("/api/models/?sort=", "sort"),
        ("/api/models/?per_page=1000", "per_page"),
        ("/api/models/?page=0", "page"),
        ("/api/versions/?page=0", "page"),
        ("/api/versions/?per_page=abc", "per_page"),
        ("/api/versions/?created_before=", "created_before"),
        ("/api/teams/?per_page=0", "per_page"),
    ],
)
def test_a_malformed_parameter_is_a_400_naming_it(api, model, url, param):
    assert param in errors_of(api.get(url))


def test_a_time_zone_offset_postgresql_would_refuse_is_read_in_utc(api, version):
    response = api.get("/api/versions/?created_after=2000-01-01T00:00:00-21:19")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_a_page_past_the_last_is_a_json_404(api, model):
    assert_json_error(api.get("/api/versions/?page=99"), 404)


# --- Requests the schema allows are accepted ---------------------------------------------


def test_an_empty_patch_changes_nothing_and_succeeds(api, version):
    model_url = f"/api/models/{version.model.name}/"
    assert api.patch(model_url, {}, format="json").status_code == 200
    response = api.patch(f"{model_url}versions/1/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["number"] == 1


def test_an_empty_patch_by_an_outsider_is_still_refused(outsider_api, version):
    url = f"/api/models/{version.model.name}/versions/1/"
    assert_json_error(outsider_api.patch(url, {}, format="json"), 403)
