"""What the schema states is what the server accepts: OpenAPI 3.1 carries the rules 3.0
could not (hyper-parameter names, multipart parts that are JSON), and the server takes
what schemathesis and other generated clients send for those declarations."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api):
    return json.loads(api.get("/api/schema/", {"format": "json"}).content)


def test_the_schema_is_openapi_3_1_and_states_hyperparameter_names(schema):
    assert schema["openapi"] == "3.1.0"
    params = schema["components"]["schemas"]["ParamsRequest"]["properties"]["hyperparameters"]
    assert params["propertyNames"]["minLength"] == 1
    assert params["propertyNames"]["maxLength"] == 100
    assert set(params["additionalProperties"]["type"]) == {"string", "number", "boolean", "null"}


def test_multipart_registration_declares_its_json_parts(schema):
    body = schema["paths"]["/api/models/{name}/versions/"]["post"]["requestBody"]["content"]
    encoding = body["multipart/form-data"]["encoding"]
    for field in ("hyperparameters", "metrics", "data_versions", "parents"):
        assert encoding[field] == {"contentType": "application/json"}


def test_structured_parts_of_a_version_are_documented_as_json_only(schema):
    metrics = schema["paths"]["/api/models/{name}/versions/{number}/metrics/"]["post"]
    assert list(metrics["requestBody"]["content"]) == ["application/json"]


def test_metrics_may_come_as_one_multipart_part_per_item(api, model):
    response = api.post(
        f"/api/models/{model.name}/versions/",
        {
            "label": "1.0.0",
            "framework": "pytorch",
            "metrics": [
                json.dumps({"name": "auc", "value": 0.93}),
                json.dumps({"name": "f1", "value": 0.8}),
            ],
            "data_versions": json.dumps(
                {"dataset": "payments", "version_or_uri": "v1", "classification": "internal"}
            ),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert [m["name"] for m in response.json()["metrics"]] == ["auc", "f1"]
    assert [d["dataset"] for d in response.json()["data_versions"]] == ["payments"]


def test_a_multipart_part_per_item_that_is_not_an_object_is_a_400(api, model):
    response = api.post(
        f"/api/models/{model.name}/versions/",
        {"label": "1.0.0", "framework": "pytorch", "metrics": ["[1]", "2"]},
        format="multipart",
    )
    assert response.status_code == 400
    assert "metrics" in response.json()["errors"]


def test_a_null_hyperparameter_is_accepted_as_documented(api, model):
    response = api.post(
        f"/api/models/{model.name}/versions/",
        {"label": "1.0.0", "framework": "pytorch", "hyperparameters": {"seed": None}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["hyperparameters"] == {"seed": None}


def test_a_downloaded_artifact_is_the_documented_octet_stream(api, model):
    api.post(
        f"/api/models/{model.name}/versions/",
        {
            "label": "1.0.0",
            "framework": "pytorch",
            "artifact": SimpleUploadedFile("report.pdf", b"%PDF-1.4 not really"),
        },
        format="multipart",
    )
    response = api.get(f"/api/models/{model.name}/versions/1/artifact/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"


def test_a_number_for_a_text_field_is_refused_as_the_schema_says(api, model):
    response = api.post(
        f"/api/models/{model.name}/versions/",
        {
            "label": "1.0.0",
            "framework": "pytorch",
            "data_versions": [
                {
                    "dataset": "payments",
                    "version_or_uri": "v1",
                    "content_hash": 0,
                    "classification": "internal",
                }
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "data_versions" in response.json()["errors"]


@pytest.mark.parametrize("flag", [0, 1, "true", "no"])
def test_a_number_or_text_for_a_boolean_is_refused_as_the_schema_says(api, model, flag):
    # DRF alone takes 0, 1, "true" and "no"; the schema says a boolean (schemathesis ST201).
    response = api.post(
        f"/api/models/{model.name}/versions/",
        {
            "label": "1.0.0",
            "framework": "pytorch",
            "artifact_uri": "s3://models/x/1/model.pkl",
            "metrics": [{"name": "auc", "value": 0.9, "higher_is_better": flag}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["metrics"] == ["[0].higher_is_better: Must be true or false."]
    assert not model.versions.exists()


def test_a_boolean_for_a_boolean_is_taken(api, model):
    response = api.post(
        f"/api/models/{model.name}/versions/",
        {
            "label": "1.0.0",
            "framework": "pytorch",
            "artifact_uri": "s3://models/x/1/model.pkl",
            "metrics": [{"name": "loss", "value": 0.2, "higher_is_better": False}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["metrics"][0]["higher_is_better"] is False


@pytest.mark.parametrize("value", [False, True, "0.5"])
def test_a_boolean_or_text_for_a_number_is_refused_as_the_schema_says(api, model, value):
    # DRF alone takes false as 0.0 and "0.5" as 0.5; the schema says a number.
    response = api.post(
        f"/api/models/{model.name}/versions/",
        {
            "label": "1.0.0",
            "framework": "pytorch",
            "artifact_uri": "s3://models/x/1/model.pkl",
            "metrics": [{"name": "auc", "value": value}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["metrics"] == ["[0].value: A valid number is required."]
    assert not model.versions.exists()
