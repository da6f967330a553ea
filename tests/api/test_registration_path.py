"""The registration hot path: what it answers without re-reading, and what it skips.

The 201 body is built from the rows the registration wrote (no re-read), so it must be
exactly what a later GET of the same version answers; the catalog's search document is
not rebuilt on registration, so it must already be what a rebuild would make.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.models import RegisteredModel
from registry.search import CatalogQuery, catalog_search, search_document
from registry.services import card_update, version_register

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
    assert response.json() == again.json()
    assert [m["dataset"] for m in response.json()["metrics"]] == ["holdout", "test", ""]
    assert response.json()["parents"][0]["model"] == "teacher"


def test_the_201_body_of_a_later_version_shows_its_inherited_card(api, model, version, member):
    card_update(actor=member, card=version.card, sections={"intended_use": "Scoring."})
    response = register(api, model, label="2.0.0")
    again = api.get(response["Location"])
    assert response.json() == again.json()
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
    # token, model, team memberships; the transaction (a savepoint inside the test's):
    # number, version, metrics, previous card, card, the audit event (one statement on
    # PostgreSQL: it links itself to the chain; three on SQLite).
    limit = 11 if connection.vendor == "postgresql" else 13
    assert len(statements) <= limit, "\n".join(statements)
    assert not any("search_vector" in s for s in statements)
