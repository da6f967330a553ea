"""The searches read a fixed number of queries, however many models and versions a page has."""

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from registry.services import alias_set, token_create
from registry.stages import StageChangeKind, stage_set


@pytest.fixture
def http(member):
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_create(actor=member, name='t')[1]}")


def queries(http, path, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = http.get(path, params)
    assert response.status_code == 200, response.content
    return len(captured)


def staged(version, to_stage):
    # Stands in for an approved transition (tests/approvals covers the workflow).
    with transaction.atomic():
        stage_set(version=version, to_stage=to_stage, kind=StageChangeKind.APPLIED)


@pytest.mark.django_db
def test_searches_do_not_grow_with_the_page(http, make_model, make_version, member):
    models_path = "/mlflow/api/2.0/mlflow/registered-models/search"
    versions_path = "/mlflow/api/2.0/mlflow/model-versions/search"
    first = make_model(name="m-0")
    make_version(first)
    alias_set(actor=member, model=first, name="beta", version=first.versions.get())
    queries(http, models_path, {})  # the token's first use of the minute is recorded
    few = (queries(http, models_path, {}), queries(http, versions_path, {}))

    for n in range(1, 8):
        model = make_model(name=f"m-{n}", tags=["gpu", f"t{n}"])
        staged(make_version(model), "archived")
        staged(make_version(model), "staging")
        alias_set(actor=member, model=model, name="beta", version=make_version(model))
    many = (queries(http, models_path, {}), queries(http, versions_path, {}))

    assert many == few
    # The token; the models with their newest version ids; their aliases; the versions.
    assert many[0] <= 4 and many[1] <= 4


@pytest.mark.django_db
def test_a_model_is_read_in_the_same_queries_whatever_its_versions(http, model, make_version):
    path = "/mlflow/api/2.0/mlflow/registered-models/get"
    make_version(model)
    queries(http, path, {"name": "fraud-scorer"})
    one = queries(http, path, {"name": "fraud-scorer"})
    staged(make_version(model), "archived")
    for _ in range(20):
        make_version(model)
    staged(make_version(model), "staging")

    assert queries(http, path, {"name": "fraud-scorer"}) == one <= 3  # no alias: not read
    response = http.get(path, {"name": "fraud-scorer"})
    assert [v["version"] for v in response.json()["registered_model"]["latest_versions"]] == [
        "2",
        "22",
        "23",
    ]


@pytest.mark.django_db
def test_registering_a_version_reads_it_back_from_registration(http, model, version):
    from registry.services import version_register

    path = "/mlflow/api/2.0/mlflow/model-versions/create"
    body = {"name": "fraud-scorer", "source": "s3://b/2"}
    http.get("/mlflow/api/2.0/mlflow/registered-models/get", {"name": "fraud-scorer"})
    with CaptureQueriesContext(connection) as through_mlflow:
        response = http.post(path, body, content_type="application/json")
    with CaptureQueriesContext(connection) as service_alone:
        version_register(
            actor=version.created_by,
            model=model,
            label="3.0.0",
            framework="other",
            artifact_uri="s3://b/3",
        )

    assert response.status_code == 200, response.content
    assert response.json()["model_version"]["version"] == "2"
    # The token (on PostgreSQL the user's teams and permissions come with it; SQLite
    # reads the teams on their own) and the model by name: nothing is read back afterwards.
    token_and_model = 2 if connection.vendor == "postgresql" else 3
    assert len(through_mlflow) == len(service_alone) + token_and_model
