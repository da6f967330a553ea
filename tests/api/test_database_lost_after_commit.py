"""A change that was committed is reported as made, even if the database goes away
right after the commit: the response must not need it any more.

`database_lost_after_commit` makes every query fail from the moment the transaction
that wrote the change's audit event commits, as a PostgreSQL restart or a dropped
connection would, until the test brings it back to check what was saved.
"""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from registry.models import APIToken, ModelVersion, RegisteredModel
from registry.services import token_create
from tests.conftest import MODEL_DEFAULTS

pytestmark = pytest.mark.django_db(transaction=True)


_EVENTS_TABLE = connection.ops.quote_name(AuditEvent._meta.db_table)


class LostDatabase:
    def __init__(self):
        self.lost = False
        self.armed = False
        self.failed_queries = 0

    def __call__(self, execute, sql, params, many, context):
        if self.lost:
            self.failed_queries += 1
            raise OperationalError("server closed the connection unexpectedly")
        # The event's INSERT (on PostgreSQL it starts WITH the chain step).
        if not self.armed and f"INSERT INTO {_EVENTS_TABLE}" in sql:
            self.armed = True
            transaction.on_commit(self._lose)
        return execute(sql, params, many, context)

    def _lose(self):
        self.lost = True

    def restore(self):
        assert self.armed, "no audit event was written: the change never happened"
        self.lost = False


@pytest.fixture
def database_lost_after_commit():
    lost = LostDatabase()
    with connection.execute_wrapper(lost):
        yield lost


@pytest.fixture
def api(member):
    _, secret = token_create(actor=member, name="pipeline")
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_a_registered_version_is_reported_as_registered(api, model, database_lost_after_commit):
    response = api.post(
        f"/api/models/{model.name}/versions/",
        {
            "label": "1.0.0",
            "framework": "pytorch",
            "artifact": SimpleUploadedFile("model.pt", b"weights" * 100),
            "metrics": json.dumps([{"name": "auc", "value": 0.91, "dataset": "holdout"}]),
        },
        format="multipart",
    )
    database_lost_after_commit.restore()

    assert response.status_code == 201, response.content
    assert response.json()["number"] == 1
    assert response.json()["metrics"][0]["value"] == 0.91
    assert response.json()["artifact"]["size"] == 700
    assert ModelVersion.objects.get(model=model).artifact_size == 700


def test_added_metrics_are_reported_as_added(api, model, version, database_lost_after_commit):
    response = api.post(
        f"/api/models/{model.name}/versions/1/metrics/",
        {"metrics": [{"name": "recall", "value": 0.5, "dataset": "holdout"}]},
        format="json",
    )
    database_lost_after_commit.restore()

    assert response.status_code == 201, response.content
    assert {m["name"] for m in response.json()["metrics"]} == {"auc", "recall"}
    assert version.metrics.filter(name="recall").exists()


def test_edited_release_notes_are_reported_as_saved(
    api, model, version, database_lost_after_commit
):
    response = api.patch(
        f"/api/models/{model.name}/versions/1/", {"release_notes": "Retrained."}, format="json"
    )
    database_lost_after_commit.restore()

    assert response.status_code == 200, response.content
    assert response.json()["release_notes"] == "Retrained."
    version.refresh_from_db()
    assert version.release_notes == "Retrained."


def test_a_registered_model_is_reported_as_registered(
    api, team, member, database_lost_after_commit
):
    response = api.post(
        "/api/models/",
        {
            "name": "churn-predictor",
            "team": team.slug,
            "owner": member.username,
            "tags": ["churn"],
            **MODEL_DEFAULTS,
        },
        format="json",
    )
    database_lost_after_commit.restore()

    assert response.status_code == 201, response.content
    assert response.json()["name"] == "churn-predictor"
    assert RegisteredModel.objects.filter(name="churn-predictor").exists()


def test_the_new_token_secret_is_shown(client, member, database_lost_after_commit):
    client.force_login(member)
    client.raise_request_exception = False
    response = client.post("/accounts/tokens/", {"name": "nightly"})
    database_lost_after_commit.restore()

    assert response.status_code == 200
    token = APIToken.objects.get(user=member, name="nightly")
    assert f"mg_{token.prefix}_".encode() in response.content


def test_a_model_registered_in_the_browser_redirects_to_it(
    client, member, team, database_lost_after_commit
):
    client.force_login(member)
    client.raise_request_exception = False
    response = client.post(
        reverse("registry:model_create"),
        {"name": "churn-predictor", "team": team.pk, "owner": member.pk, **MODEL_DEFAULTS},
    )
    database_lost_after_commit.restore()

    assert response.status_code == 302, response.content[:2000]
    assert response["Location"] == "/models/churn-predictor/"
    assert RegisteredModel.objects.filter(name="churn-predictor").exists()
    # The message travelled in the cookie and shows on the next page.
    assert b"Registered churn-predictor." in client.get(response["Location"]).content
