"""The OpenAPI schema and its docs page."""

import json

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS

pytestmark = pytest.mark.django_db


def test_the_schema_is_openapi_3_as_json(api):
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert "/api/models/{name}/versions/" in schema["paths"]
    assert "apiToken" in schema["components"]["securitySchemes"]


def test_the_schema_is_openapi_3_as_yaml_by_default(client, member):
    client.force_login(member)
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")


def test_the_docs_page_renders_for_a_signed_in_user(client, member):
    client.force_login(member)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    # The start-up script (which names the schema URL) is a separate request, for the CSP.
    assert b'<script src="/api/docs/?script="></script>' in response.content
    assert b"/api/schema/" in client.get("/api/docs/", {"script": ""}).content


def test_the_docs_page_renders_for_a_token_holder(api):
    response = api.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content


def test_the_docs_page_sends_anonymous_visitors_to_sign_in(client):
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/api/docs/"


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    GENERATOR_STATS.reset()
    # Raises CommandError on any warning, error or OpenAPI validation failure.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )
    schema = yaml.safe_load((tmp_path / "schema.yaml").read_text())
    # The stage is never writable: no request body has a stage field.
    for name, component in schema["components"]["schemas"].items():
        if name.endswith("Request"):
            assert "stage" not in component.get("properties", {}), name
    assert "DataClassificationEnum" in schema["components"]["schemas"]


def test_the_schema_describes_the_approvals_api(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    operations = {
        op["operationId"]: (path, method)
        for path, item in schema["paths"].items()
        for method, op in item.items()
    }
    assert operations["transition_requests_create"] == (
        "/api/models/{name}/versions/{number}/transition-requests/",
        "post",
    )
    assert operations["versions_gates_preview"] == (
        "/api/models/{name}/versions/{number}/gates/",
        "get",
    )
    for action in ("approve", "reject", "withdraw", "apply"):
        assert operations[f"transition_requests_{action}"] == (
            f"/api/transition-requests/{{id}}/{action}/",
            "post",
        )
    assert operations["transition_requests_list"] == ("/api/transition-requests/", "get")
    reject = schema["components"]["schemas"]["RejectRequest"]
    assert reject["required"] == ["comment"] and reject["additionalProperties"] is False
