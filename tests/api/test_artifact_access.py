"""The API's artifact download follows the version page's rules: confidential and
restricted models' files are for their people, and every such download is audited."""

import pytest
from django.core.files.base import ContentFile

from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.services import model_permission_grant, model_update

pytestmark = pytest.mark.django_db

WEIGHTS = b"\x89ONNX secret" * 200


@pytest.fixture
def stored(model, make_version):
    return make_version(model, artifact=ContentFile(WEIGHTS, name="scorer.onnx"), artifact_uri="")


def url(version):
    return f"/api/models/{version.model.name}/versions/{version.number}/artifact/"


def downloads():
    return list(AuditEvent.objects.filter(action=Action.ARTIFACT_DOWNLOADED))


def test_an_outsider_gets_a_json_403(outsider_api, stored):
    response = outsider_api.get(url(stored), HTTP_ACCEPT="application/octet-stream")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith(
        "fraud-scorer is confidential: only members of team Fraud Detection"
    )
    assert downloads() == []


def test_a_pipeline_of_the_team_downloads_and_is_audited_with_its_token(api, stored):
    response = api.get(url(stored), HTTP_ACCEPT="application/octet-stream")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == WEIGHTS
    [event] = downloads()
    assert event.actor_name == "alice"
    assert event.actor_kind == "token"
    assert event.version_number == stored.number
    assert event.changes["via"] == "api"
    assert event.changes["_via_token"]  # which of alice's tokens


def test_a_granted_outsider_downloads(outsider_api, member, outsider, model, stored):
    model_permission_grant(actor=member, model=model, user=outsider)
    response = outsider_api.get(url(stored), HTTP_ACCEPT="application/octet-stream")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == WEIGHTS
    assert [e.actor_name for e in downloads()] == ["bob"]


def test_an_internal_models_artifact_is_for_everyone_and_unaudited(
    outsider_api, member, model, stored
):
    model_update(actor=member, model=model, data_classification="internal")
    response = outsider_api.get(url(stored), HTTP_ACCEPT="application/octet-stream")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == WEIGHTS
    assert downloads() == []


def test_a_file_lost_from_storage_is_a_json_404(api, stored, artifact_dir):
    (artifact_dir / stored.artifact.name).unlink()
    response = api.get(url(stored), HTTP_ACCEPT="application/octet-stream")
    assert response.status_code == 404
    assert "could not be found in artifact storage" in response.json()["detail"]
    assert downloads() == []
