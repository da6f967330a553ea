"""Registering, reading and searching versions over the API."""

import hashlib
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.models import ModelVersion
from registry.stages import Stage

from .payloads import errors_of, raw_multipart

pytestmark = pytest.mark.django_db

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def versions_url(model):
    return f"/api/models/{model.name}/versions/"


@pytest.fixture
def json_version():
    return {
        "label": "1.0.0",
        "framework": "sklearn",
        "flavor": "sklearn.ensemble",
        "artifact_uri": "s3://models/fraud-scorer/1/model.pkl",
        "code_repository": "https://git.example.com/ml/fraud",
        "code_commit": COMMIT,
        "run_system": "mlflow",
        "run_id": "run-42",
        "run_url": "https://mlflow.example.com/runs/42",
        "release_notes": "First model.",
        "hyperparameters": {"max_depth": 6, "learning_rate": 0.1, "balanced": True},
        "metrics": [
            {"name": "auc", "value": 0.91, "dataset": "holdout"},
            {"name": "log_loss", "value": 0.2, "higher_is_better": False},
        ],
        "data_versions": [
            {
                "dataset": "payments",
                "version_or_uri": "s3://data/payments/2024-09",
                "content_hash": "sha256:abc",
                "classification": "confidential",
            }
        ],
    }


def upload(content=b"weights" * 200, name="model.pt"):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def stored_files(artifact_dir):
    return [p for p in Path(artifact_dir).rglob("*") if p.is_file()]


# --- Register with JSON --------------------------------------------------------------


def test_it_registers_a_version_with_an_artifact_uri(api, model, json_version, member):
    response = api.post(versions_url(model), json_version)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["model"], body["number"], body["label"]) == ("fraud-scorer", 1, "1.0.0")
    assert body["stage"] == Stage.NONE
    assert body["artifact"]["uri"] == "s3://models/fraud-scorer/1/model.pkl"
    assert body["artifact"]["download_url"].endswith("/versions/1/artifact/")
    assert body["hyperparameters"] == {"max_depth": 6, "learning_rate": 0.1, "balanced": True}
    assert {(m["name"], m["dataset"], m["value"]) for m in body["metrics"]} == {
        ("auc", "holdout", 0.91),
        ("log_loss", "", 0.2),
    }
    assert body["data_versions"][0]["classification"] == "confidential"
    assert body["created_by"] == "alice"
    assert response["Location"].endswith("/api/models/fraud-scorer/versions/1/")
    version = ModelVersion.objects.get(model=model)
    assert version.code_commit == COMMIT
    assert AuditEvent.objects.filter(action=Action.VERSION_REGISTERED).count() == 1


def test_versions_are_numbered_in_order(api, model, json_version):
    numbers = []
    for label in ("1.0.0", "1.1.0", "2.0.0-rc.1"):
        response = api.post(versions_url(model), {**json_version, "label": label})
        numbers.append(response.json()["number"])
    assert numbers == [1, 2, 3]


def test_it_registers_a_version_without_an_artifact(api, model):
    response = api.post(versions_url(model), {"label": "0.1.0", "framework": "onnx"})
    assert response.status_code == 201
    assert response.json()["artifact"] is None


def test_it_links_parents_at_registration(api, model, version, make_model, make_version):
    base = make_model(name="bert-base")
    make_version(base)
    response = api.post(
        versions_url(model),
        {
            "label": "2.0.0",
            "framework": "transformers",
            "parents": [
                {"model": "fraud-scorer", "version": 1, "relation": "derived_from"},
                {"model": "BERT-base", "version": 1, "relation": "fine_tuned_from"},
            ],
        },
    )
    assert response.status_code == 201, response.json()
    parents = {(p["model"], p["version"], p["relation"]) for p in response.json()["parents"]}
    assert parents == {("fraud-scorer", 1, "derived_from"), ("bert-base", 1, "fine_tuned_from")}
    child = api.get(f"{versions_url(model)}1/").json()["children"]
    assert child == [
        {"model": "fraud-scorer", "version": 2, "label": "2.0.0", "relation": "derived_from"}
    ]


# --- Register with a file ----------------------------------------------------------


def test_it_stores_an_uploaded_artifact_with_its_checksum(api, model, artifact_dir):
    content = b"\x00weights\xff" * 500
    digest = hashlib.sha256(content).hexdigest()
    response = api.post(
        versions_url(model),
        {
            "label": "1.0.0",
            "framework": "pytorch",
            "artifact": upload(content, "model.pt"),
            "sha256": digest.upper(),
            "metrics": json.dumps([{"name": "auc", "value": 0.93, "dataset": "holdout"}]),
            "hyperparameters": json.dumps({"epochs": 3}),
            "code_commit": COMMIT,
        },
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    artifact = response.json()["artifact"]
    assert artifact == {
        "filename": "model.pt",
        "size": len(content),
        "sha256": digest,
        "uri": "",
        "download_url": artifact["download_url"],
    }
    assert response.json()["metrics"][0]["value"] == 0.93
    assert response.json()["hyperparameters"] == {"epochs": 3}
    [stored] = stored_files(artifact_dir)
    assert stored.read_bytes() == content


def test_a_checksum_that_does_not_match_stores_nothing(api, model, snapshot):
    before = snapshot()
    response = api.post(
        versions_url(model),
        {"label": "1.0.0", "framework": "pytorch", "artifact": upload(), "sha256": "0" * 64},
        format="multipart",
    )
    errors = errors_of(response)
    assert "Nothing was stored" in errors["sha256"][0]
    assert snapshot() == before


def test_an_oversized_artifact_is_a_413_and_stores_nothing(api, model, settings, snapshot):
    settings.ARTIFACT_MAX_BYTES = 1000
    before = snapshot()
    response = api.post(
        versions_url(model),
        {"label": "1.0.0", "framework": "pytorch", "artifact": upload(b"x" * 1001)},
        format="multipart",
    )
    assert response.status_code == 413
    assert "1,000 bytes" in response.json()["detail"]
    assert snapshot() == before


def test_an_artifact_at_the_limit_is_accepted(api, model, settings):
    settings.ARTIFACT_MAX_BYTES = 1000
    response = api.post(
        versions_url(model),
        {"label": "1.0.0", "framework": "pytorch", "artifact": upload(b"x" * 1000)},
        format="multipart",
    )
    assert response.status_code == 201
    assert response.json()["artifact"]["size"] == 1000


@pytest.mark.parametrize(
    "filename",
    ["../../../../tmp/evil.bin", "..\\..\\windows\\evil.bin", "/etc/passwd", "a/../../b.bin"],
)
def test_a_path_in_the_file_name_cannot_escape_the_artifact_folder(
    api, model, artifact_dir, filename
):
    body, content_type = raw_multipart(
        {"label": "1.0.0", "framework": "other"}, filename=filename, content=b"payload"
    )
    response = api.post(versions_url(model), body, content_type=content_type)

    assert response.status_code == 201, response.json()
    stored_name = response.json()["artifact"]["filename"]
    assert "/" not in stored_name and "\\" not in stored_name and ".." not in stored_name
    [stored] = stored_files(artifact_dir)
    assert stored.resolve().is_relative_to(Path(artifact_dir).resolve())
    assert stored.read_bytes() == b"payload"


def test_malformed_json_in_a_multipart_field_is_a_400(api, model, snapshot):
    before = snapshot()
    response = api.post(
        versions_url(model),
        {"label": "1.0.0", "framework": "pytorch", "artifact": upload(), "metrics": "[{auc"},
        format="multipart",
    )
    assert "Not valid JSON" in errors_of(response)["metrics"][0]
    assert snapshot() == before


# --- Bad input ------------------------------------------------------------------------


def test_label_and_framework_are_required(api, model, snapshot):
    before = snapshot()
    errors = errors_of(api.post(versions_url(model), {}))
    assert set(errors) == {"label", "framework"}
    assert snapshot() == before


@pytest.mark.parametrize(
    "field,value",
    [
        ("label", "v1"),
        ("label", 1.0),
        ("framework", "caffe"),
        ("code_commit", "abc123"),
        ("code_commit", "Z" * 40),
        ("artifact_uri", "ftp://elsewhere/model"),
        ("run_url", "not a url"),
        ("metrics", "auc=0.9"),
        ("metrics", [{"name": "auc", "value": "high"}]),
        ("metrics", [{"name": "auc"}]),
        ("metrics", [{"name": "auc", "value": 0.9, "higher_better": True}]),
        ("hyperparameters", ["lr", 0.1]),
        ("hyperparameters", {"layers": [64, 32]}),
        ("data_versions", [{"dataset": "payments", "version_or_uri": "v1"}]),
        ("parents", [{"model": "fraud-scorer", "version": "one", "relation": "derived_from"}]),
        ("parents", [{"model": "fraud-scorer", "version": 1, "relation": "copied_from"}]),
    ],
)
def test_it_rejects_bad_fields_and_changes_nothing(
    api, model, json_version, field, value, snapshot
):
    before = snapshot()
    response = api.post(versions_url(model), {**json_version, field: value})
    errors = errors_of(response)
    assert field in errors, errors
    assert snapshot() == before


def test_a_parent_that_does_not_exist_is_a_404_naming_the_field(api, model, json_version, snapshot):
    before = snapshot()
    parents = [{"model": "fraud-scorer", "version": 99, "relation": "derived_from"}]
    response = api.post(versions_url(model), {**json_version, "parents": parents})
    assert "v99" in errors_of(response, status=404)["parents"][0]
    assert snapshot() == before


def test_an_invalid_commit_sha_says_what_is_expected(api, model, json_version):
    response = api.post(versions_url(model), {**json_version, "code_commit": "abc123"})
    assert "40" in errors_of(response)["code_commit"][0]


def test_a_file_and_a_uri_together_are_refused(api, model, snapshot):
    before = snapshot()
    response = api.post(
        versions_url(model),
        {
            "label": "1.0.0",
            "framework": "pytorch",
            "artifact": upload(),
            "artifact_uri": "s3://models/x",
        },
        format="multipart",
    )
    assert "artifact" in errors_of(response)
    assert snapshot() == before


def test_a_duplicate_label_is_a_conflict(api, model, version, json_version, snapshot):
    before = snapshot()
    response = api.post(versions_url(model), {**json_version, "label": version.label})
    assert response.status_code == 409
    assert "already has a version labelled 1.0.0" in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize("stage", ["production", "staging"])
def test_the_stage_cannot_be_set_at_registration(api, model, json_version, stage, snapshot):
    before = snapshot()
    response = api.post(versions_url(model), {**json_version, "stage": stage})
    assert "approved transition request" in errors_of(response)["stage"][0]
    assert snapshot() == before
    assert not ModelVersion.objects.filter(stage=stage).exists()


def test_an_outsider_cannot_register_a_version(outsider_api, model, snapshot):
    before = snapshot()
    response = outsider_api.post(
        versions_url(model),
        {"label": "1.0.0", "framework": "pytorch", "artifact": upload()},
        format="multipart",
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_registering_for_an_unknown_model_is_a_404(api):
    response = api.post("/api/models/nope/versions/", {"label": "1.0.0", "framework": "onnx"})
    assert response.status_code == 404


# --- Read -------------------------------------------------------------------------------


def test_it_lists_a_models_versions_newest_first_in_pages(outsider_api, model, make_version):
    for _ in range(3):
        make_version(model)
    body = outsider_api.get(versions_url(model), {"per_page": 2}).json()
    assert (body["count"], body["page"], body["num_pages"], body["next"]) == (3, 1, 2, 2)
    assert [v["number"] for v in body["results"]] == [3, 2]
    assert all(v["stage"] == "none" for v in body["results"])
    assert body["results"][0]["card_completeness"] == 0


def test_the_version_list_query_count_does_not_grow(api, model, make_version):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert api.get(versions_url(model)).status_code == 200
        return len(queries)

    make_version(model)
    count_queries()
    few = count_queries()
    for _ in range(8):
        make_version(model)
    assert count_queries() == few <= 6


def test_it_returns_one_version_with_everything_attached(outsider_api, model, version):
    response = outsider_api.get(f"{versions_url(model)}1/")
    assert response.status_code == 200
    body = response.json()
    assert body["number"] == 1 and body["stage"] == "none"
    assert body["metrics"] == [
        {"name": "auc", "value": 0.81, "dataset": "holdout", "higher_is_better": True}
    ]
    assert body["parents"] == [] and body["children"] == []
    assert body["web_url"].endswith("/models/fraud-scorer/v/1/")


def test_an_unknown_version_is_a_404(api, model):
    response = api.get(f"{versions_url(model)}7/")
    assert response.status_code == 404
    assert response.json()["detail"] == "fraud-scorer has no version 7."


def test_release_notes_can_be_edited(api, model, version):
    response = api.patch(f"{versions_url(model)}1/", {"release_notes": "Retrained on Q4."})
    assert response.status_code == 200
    version.refresh_from_db()
    assert version.release_notes == "Retrained on Q4."


@pytest.mark.parametrize("field,value", [("stage", "production"), ("label", "9.9.9")])
def test_nothing_else_about_a_version_can_be_edited(api, model, version, field, value):
    response = api.patch(f"{versions_url(model)}1/", {field: value})
    assert field in errors_of(response)
    version.refresh_from_db()
    assert (version.stage, version.label) == (Stage.NONE, "1.0.0")


# --- Search across models -------------------------------------------------------------


def test_it_finds_versions_by_commit_and_checksum(outsider_api, model, make_model, make_version):
    make_version(model, code_commit="b" * 40)
    other = make_model(name="other")
    wanted = make_version(other, code_commit="c" * 40, artifact_uri="", artifact=upload())

    by_commit = outsider_api.get("/api/versions/", {"code_commit": "c" * 40}).json()
    assert [(v["model"], v["number"]) for v in by_commit["results"]] == [("other", 1)]

    by_sha = outsider_api.get("/api/versions/", {"artifact_sha256": wanted.artifact_sha256})
    assert by_sha.json()["count"] == 1

    by_model = outsider_api.get("/api/versions/", {"model": "FRAUD-SCORER", "stage": "none"})
    assert [v["model"] for v in by_model.json()["results"]] == ["fraud-scorer"]


def test_version_search_rejects_an_unknown_stage(api):
    assert "stage" in errors_of(api.get("/api/versions/", {"stage": "live"}))


def test_version_search_query_count_does_not_grow(api, model, make_model, make_version):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/versions/").status_code == 200
        return len(queries)

    make_version(model)
    count_queries()
    few = count_queries()
    for i in range(4):
        other = make_model(name=f"other-{i}")
        make_version(other)
        make_version(other)
    assert count_queries() == few <= 4
