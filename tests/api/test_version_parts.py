"""What gets attached to a version after registration: metrics, hyper-parameters, data
versions, lineage and the artifact itself."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from registry.audit_actions import Action

from .payloads import errors_of

pytestmark = pytest.mark.django_db


def url(version, part):
    return f"/api/models/{version.model.name}/versions/{version.number}/{part}/"


def upload(content=b"weights" * 100, name="model.onnx"):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


@pytest.fixture
def bare_version(model, make_version):
    """Registered by a pipeline before its artifact was ready."""
    return make_version(model, artifact_uri="", metrics=[])


# --- Metrics -----------------------------------------------------------------------------


def test_it_lists_and_adds_metrics(api, version):
    assert api.get(url(version, "metrics")).json()["metrics"] == [
        {"name": "auc", "value": 0.81, "dataset": "holdout", "higher_is_better": True}
    ]
    response = api.post(
        url(version, "metrics"),
        {"metrics": [{"name": "latency_ms", "value": 12, "higher_is_better": False}]},
    )
    assert response.status_code == 201, response.json()
    assert {m["name"] for m in response.json()["metrics"]} == {"auc", "latency_ms"}
    assert AuditEvent.objects.filter(action=Action.METRICS_ATTACHED).count() == 1


def test_a_metric_already_recorded_is_a_conflict(api, version, snapshot):
    before = snapshot()
    response = api.post(
        url(version, "metrics"), {"metrics": [{"name": "auc", "value": 0.99, "dataset": "holdout"}]}
    )
    assert response.status_code == 409
    assert "auc@holdout" in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"metrics": []},
        {"metrics": {"auc": 0.9}},
        {"metrics": [{"name": "auc", "value": "high"}]},
        {"metrics": [{"name": "f1", "value": 0.5}, {"name": "f1", "value": 0.6}]},
    ],
)
def test_bad_metrics_are_refused(api, version, body, snapshot):
    before = snapshot()
    assert "metrics" in errors_of(api.post(url(version, "metrics"), body))
    assert snapshot() == before


def test_an_outsider_cannot_add_metrics(outsider_api, version, snapshot):
    before = snapshot()
    response = outsider_api.post(url(version, "metrics"), {"metrics": [{"name": "f1", "value": 1}]})
    assert response.status_code == 403
    assert snapshot() == before


# --- Hyper-parameters --------------------------------------------------------------------


def test_it_adds_hyperparameters(api, version):
    response = api.post(url(version, "params"), {"hyperparameters": {"lr": 0.01, "seed": 7}})
    assert response.status_code == 201
    assert response.json() == {"hyperparameters": {"lr": 0.01, "seed": 7}}
    again = api.post(url(version, "params"), {"hyperparameters": {"epochs": 3}})
    assert api.get(url(version, "params")).json()["hyperparameters"] == {
        "lr": 0.01,
        "seed": 7,
        "epochs": 3,
    }
    assert again.status_code == 201


def test_a_hyperparameter_with_another_value_is_a_conflict(api, version, snapshot):
    api.post(url(version, "params"), {"hyperparameters": {"lr": 0.01}})
    before = snapshot()
    response = api.post(url(version, "params"), {"hyperparameters": {"lr": 0.5}})
    assert response.status_code == 409
    assert "lr" in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize(
    "body", [{"hyperparameters": "lr=0.1"}, {"hyperparameters": {"layers": [1, 2]}}, {}]
)
def test_bad_hyperparameters_are_refused(api, version, body):
    assert "hyperparameters" in errors_of(api.post(url(version, "params"), body))


# --- Data versions -----------------------------------------------------------------------


def test_it_adds_data_versions(api, version):
    item = {
        "dataset": "chargebacks",
        "version_or_uri": "s3://data/chargebacks/v7",
        "classification": "restricted",
    }
    response = api.post(url(version, "data-versions"), {"data_versions": [item]})
    assert response.status_code == 201, response.json()
    assert response.json()["data_versions"] == [{**item, "content_hash": ""}]
    assert api.get(url(version, "data-versions")).json() == response.json()


def test_a_data_version_needs_a_known_classification(api, version, snapshot):
    before = snapshot()
    response = api.post(
        url(version, "data-versions"),
        {"data_versions": [{"dataset": "x", "version_or_uri": "v1", "classification": "secret"}]},
    )
    assert "data_versions" in errors_of(response)
    assert snapshot() == before


# --- Lineage -----------------------------------------------------------------------------


def test_it_links_a_parent_and_shows_both_directions(api, model, version, make_version):
    child = make_version(model)
    response = api.post(
        url(child, "lineage"),
        {"parents": [{"model": model.name, "version": 1, "relation": "fine_tuned_from"}]},
    )
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "parents": [
            {"model": model.name, "version": 1, "label": "1.0.0", "relation": "fine_tuned_from"}
        ],
        "children": [],
    }
    assert api.get(url(version, "lineage")).json()["children"] == [
        {"model": model.name, "version": 2, "label": "2.0.0", "relation": "fine_tuned_from"}
    ]


def test_a_lineage_cycle_is_refused(api, model, version, make_version, snapshot):
    child = make_version(model)
    grandchild = make_version(model)
    api.post(
        url(child, "lineage"),
        {"parents": [{"model": model.name, "version": 1, "relation": "derived_from"}]},
    )
    api.post(
        url(grandchild, "lineage"),
        {"parents": [{"model": model.name, "version": 2, "relation": "derived_from"}]},
    )
    before = snapshot()

    response = api.post(
        url(version, "lineage"),
        {"parents": [{"model": model.name, "version": 3, "relation": "derived_from"}]},
    )

    assert "cycle" in errors_of(response)["parents"][0]
    assert snapshot() == before


def test_a_version_cannot_be_its_own_parent(api, model, version):
    response = api.post(
        url(version, "lineage"),
        {"parents": [{"model": model.name, "version": 1, "relation": "derived_from"}]},
    )
    assert "own parent" in errors_of(response)["parents"][0]


def test_linking_the_same_parent_twice_is_a_conflict(api, model, version, make_version):
    child = make_version(model)
    body = {"parents": [{"model": model.name, "version": 1, "relation": "derived_from"}]}
    assert api.post(url(child, "lineage"), body).status_code == 201
    assert api.post(url(child, "lineage"), body).status_code == 409


# --- Artifact ---------------------------------------------------------------------------


def test_it_downloads_an_uploaded_artifact_with_its_checksum(api, model, make_version):
    content = b"\x89ONNX" * 300
    version = make_version(model, artifact_uri="", artifact=upload(content, "scorer.onnx"))

    response = api.get(url(version, "artifact"), HTTP_ACCEPT="application/octet-stream")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Disposition"] == 'attachment; filename="scorer.onnx"'
    assert response["X-Checksum-SHA256"] == hashlib.sha256(content).hexdigest()
    assert response["Content-Length"] == str(len(content))


def test_an_external_artifact_answers_with_its_uri(api, version):
    response = api.get(url(version, "artifact"))
    assert response.status_code == 200
    assert response.json() == {"uri": version.artifact_uri, "sha256": ""}


def test_a_version_without_artifact_is_a_404_that_says_how_to_attach(api, bare_version):
    response = api.get(url(bare_version, "artifact"), HTTP_ACCEPT="application/octet-stream")
    assert response.status_code == 404
    assert "POST" in response.json()["detail"]


def test_it_attaches_an_uploaded_artifact(api, bare_version, artifact_dir):
    content = b"late weights"
    response = api.post(
        url(bare_version, "artifact"),
        {"artifact": upload(content), "sha256": hashlib.sha256(content).hexdigest()},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["artifact"]["sha256"] == hashlib.sha256(content).hexdigest()
    downloaded = api.get(url(bare_version, "artifact"))
    assert b"".join(downloaded.streaming_content) == content
    assert AuditEvent.objects.filter(action=Action.ARTIFACT_UPLOADED).count() == 1


def test_put_attaches_an_artifact_uri(api, bare_version):
    response = api.put(url(bare_version, "artifact"), {"artifact_uri": "gs://models/late.bin"})
    assert response.status_code == 201
    assert response.json()["artifact"]["uri"] == "gs://models/late.bin"


def test_an_artifact_never_changes(api, version, snapshot):
    before = snapshot()
    response = api.post(url(version, "artifact"), {"artifact": upload()}, format="multipart")
    assert response.status_code == 409
    assert "register a new version" in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize(
    "body,fmt",
    [
        ({}, "json"),
        ({"artifact_uri": "not-a-uri"}, "json"),
        ({"artifact_uri": "s3://x/y", "artifact": upload()}, "multipart"),
        ({"artifact": upload(), "sha256": "f" * 64}, "multipart"),
    ],
)
def test_bad_artifact_attachments_store_nothing(api, bare_version, body, fmt, snapshot):
    before = snapshot()
    response = api.post(url(bare_version, "artifact"), body, format=fmt)
    assert errors_of(response)
    assert snapshot() == before
    bare_version.refresh_from_db()
    assert not bare_version.has_artifact


def test_an_oversized_attachment_is_a_413(api, bare_version, settings, snapshot):
    settings.ARTIFACT_MAX_BYTES = 1000
    before = snapshot()
    response = api.post(
        url(bare_version, "artifact"), {"artifact": upload(b"x" * 5000)}, format="multipart"
    )
    assert response.status_code == 413
    assert snapshot() == before


def test_an_outsider_cannot_attach_an_artifact(outsider_api, bare_version, snapshot):
    before = snapshot()
    response = outsider_api.post(
        url(bare_version, "artifact"), {"artifact": upload()}, format="multipart"
    )
    assert response.status_code == 403
    assert snapshot() == before
