"""The registration hot path: what it answers without re-reading, and what it skips.

The 201 body is built from the rows the registration wrote (no re-read), so it must be
exactly what a later GET of the same version answers; the catalog's search document is
not rebuilt on registration, so it must already be what a rebuild would make.
"""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from registry.api.serializers.versions import VersionDetailSerializer, version_detail
from registry.models import RegisteredModel
from registry.search import CatalogQuery, catalog_search, search_document
from registry.selectors import version_get
from registry.services import alias_set, card_update, version_register

pytestmark = pytest.mark.django_db


def register(api, model, **extra):
    body = {"label": "1.0.0", "framework": "pytorch", **extra}
    response = api.post(f"/api/models/{model.name}/versions/", body, format="json")
    assert response.status_code == 201, response.json()
    return response


def test_the_201_body_is_what_a_get_of_the_version_answers(
    api, model, make_model, make_version, member
):
    parent_model = make_model(name="teacher")
    make_version(parent_model, label="3.0.0")
    response = register(
        api,
        model,
        label="2.0.0",
        artifact_uri="s3://models/x/2",
        hyperparameters={
            "huge": 1e16,  # PostgreSQL's jsonb gives exponent-form whole numbers back as ints
            "tiny": 1e-7,
            "whole": 1.0,
            "rate": 0.1,
            "steps": 10_000,
            "name": "adam",
            "flag": False,
            "none": None,
        },
        metrics=[
            {"name": "loss", "value": 0.2, "higher_is_better": False},
            {"name": "auc", "value": 0.9, "dataset": "test"},
            {"name": "auc", "value": 0.8, "dataset": "holdout"},
        ],
        data_versions=[
            {"dataset": "zeta", "version_or_uri": "v2", "classification": "internal"},
            {"dataset": "alpha", "version_or_uri": "v1", "classification": "public"},
        ],
        parents=[{"model": "teacher", "version": 1, "relation": "fine_tuned_from"}],
    )
    again = api.get(response["Location"])
    assert again.status_code == 200
    # Equal as JSON; hyper-parameters come back from jsonb in its own key order.
    assert response.json() == again.json()
    assert [m["dataset"] for m in response.json()["metrics"]] == ["holdout", "test", ""]
    assert response.json()["parents"][0]["model"] == "teacher"


def test_the_201_body_of_an_uploaded_artifact_is_what_a_get_answers(api, model, artifact_dir):
    response = api.post(
        f"/api/models/{model.name}/versions/",
        {
            "label": "1.0.0",
            "framework": "onnx",
            "artifact": SimpleUploadedFile("model.onnx", b"weights"),
            "metrics": json.dumps([{"name": "auc", "value": 1, "dataset": "test"}]),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    again = api.get(response["Location"])
    assert response.content == again.content  # byte for byte
    assert response.json()["artifact"]["download_url"].endswith("/versions/1/artifact/")
    assert response.json()["metrics"][0]["value"] == 1.0


def test_the_201_body_of_a_later_version_shows_its_inherited_card(api, model, version, member):
    card_update(actor=member, card=version.card, sections={"intended_use": "Scoring."})
    response = register(api, model, label="2.0.0")
    again = api.get(response["Location"])
    assert response.content == again.content
    assert response.json()["card_completeness"] == 0  # inherited, not yet reviewed


def _document_as_rebuilt(model: RegisteredModel) -> str:
    model = RegisteredModel.objects.select_related("team").get(pk=model.pk)
    card = model.versions.order_by("-number").first().card
    tags = model.tags.values_list("name", flat=True)
    return search_document(model, tags=tags, card_text=card.text())


def test_registering_leaves_the_search_document_as_a_rebuild_would_make_it(model, member):
    first = version_register(actor=member, model=model, label="1.0.0", framework="sklearn")
    assert RegisteredModel.objects.get(pk=model.pk).search_text.split() == (
        _document_as_rebuilt(model).split()
    )
    card_update(actor=member, card=first.card, sections={"intended_use": "Detects quasars."})
    version_register(actor=member, model=model, label="2.0.0", framework="pytorch")
    stored = RegisteredModel.objects.get(pk=model.pk)
    assert stored.search_text.split() == _document_as_rebuilt(model).split()
    assert "quasars" in stored.search_text


def test_a_model_is_found_by_its_newest_cards_text_right_after_registering(model, member):
    first = version_register(actor=member, model=model, label="1.0.0", framework="sklearn")
    card_update(actor=member, card=first.card, sections={"intended_use": "Detects quasars."})
    version_register(actor=member, model=model, label="2.0.0", framework="xgboost")
    found = catalog_search(CatalogQuery(q="quasars"))
    assert [m.name for m in found.page] == [model.name]
    by_framework = catalog_search(CatalogQuery(filters={"framework": ["xgboost"]}))
    assert [m.name for m in by_framework.page] == [model.name]


def test_a_registration_without_an_artifact_runs_a_fixed_handful_of_statements(api, model):
    register(api, model)  # the first one creates the chain head and warms caches
    with CaptureQueriesContext(connection) as queries:
        register(api, model, label="1.1.0", metrics=[{"name": "auc", "value": 0.9}])
    statements = [q["sql"] for q in queries.captured_queries]
    # token (with the user's teams), model; the transaction (a savepoint inside the
    # test's): on PostgreSQL the number with the previous card and the version's id,
    # then the version with its card, metrics and audit event (which links itself to the
    # chain); on SQLite the number, the version, card and metrics, and the audit event
    # in three.
    limit = 6 if connection.vendor == "postgresql" else 13
    assert len(statements) <= limit, "\n".join(statements)
    assert not any("search_vector" in s for s in statements)


def test_the_201_body_is_the_detail_serializers_output_byte_for_byte(
    api, model, make_model, make_version, member, rf
):
    """The registration answers with version_detail, built without DRF's serializer; the
    schema documents VersionDetailSerializer, so both must write the same bytes, for a
    new version and for one read back with children and aliases."""
    parent_model = make_model(name="teacher")
    parent = make_version(parent_model, label="3.0.0")
    version = version_register(
        actor=member,
        model=model,
        label="2.0.0",
        framework="pytorch",
        artifact_uri="s3://models/x/2",
        hyperparameters={"huge": 1e16, "rate": 0.1, "name": "adam", "none": None},
        metrics=[{"name": "auc", "value": 1, "dataset": "test"}],
        data_versions=[{"dataset": "a", "version_or_uri": "v1", "classification": "public"}],
        parents=[(parent, "fine_tuned_from")],
    )
    alias_set(actor=member, model=parent_model, name="staging-candidate", version=parent)
    request = Request(rf.get("/"))
    renderer = JSONRenderer()
    for shown in (version.snapshot, version_get(parent_model, parent.number)):
        serialized = VersionDetailSerializer(shown, context={"request": request}).data
        assert renderer.render(version_detail(request, shown)) == renderer.render(serialized)
    assert version_detail(request, version_get(parent_model, 1))["children"][0]["model"] == (
        model.name
    )
