"""Who may download a stored artifact from the version page, and the audit trail of
downloads of confidential and restricted models (registry/permissions.py says who)."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.urls import reverse
from guardian.shortcuts import assign_perm

from approvals.services import approver_grant
from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.services import model_permission_grant, model_update

pytestmark = pytest.mark.django_db

WEIGHTS = b"secret weights" * 100


@pytest.fixture
def stored(model, make_version):
    """A stored artifact of the confidential fraud-scorer model."""
    return make_version(model, artifact=ContentFile(WEIGHTS, name="model.pkl"), artifact_uri="")


def download_url(version):
    return reverse("registry:artifact_download", args=[version.model.name, version.number])


def version_page(client, version) -> str:
    url = reverse("registry:version_detail", args=[version.model.name, version.number])
    return client.get(url).content.decode()


def downloads():
    return list(AuditEvent.objects.filter(action=Action.ARTIFACT_DOWNLOADED).order_by("sequence"))


def test_an_outsider_cannot_download_a_confidential_artifact(client, outsider, stored):
    client.force_login(outsider)
    response = client.get(download_url(stored))
    assert response.status_code == 403
    html = response.content.decode()
    assert "fraud-scorer is confidential: only members of team Fraud Detection" in html
    assert WEIGHTS.decode() not in html
    assert downloads() == []


def test_an_outsider_sees_no_download_link_but_the_artifacts_description(client, outsider, stored):
    client.force_login(outsider)
    html = version_page(client, stored)
    assert download_url(stored) not in html
    assert 'id="artifact-download"' not in html
    assert 'id="artifact-restricted"' in html
    assert "Only members of Fraud Detection" in html
    assert stored.artifact_sha256 in html  # what it is stays visible, only the bytes are kept


def test_a_team_member_downloads_and_the_download_is_audited(client, member, stored):
    client.force_login(member)
    assert download_url(stored) in version_page(client, stored)
    response = client.get(download_url(stored), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == WEIGHTS

    [event] = downloads()
    assert (event.actor_name, event.model_name, event.version_number) == (
        "alice",
        "fraud-scorer",
        stored.number,
    )
    assert event.changes == {
        "artifact": "model.pkl",
        "artifact_sha256": stored.artifact_sha256,
        "data_classification": "confidential",
        "via": "web",
    }
    assert event.ip_address == "10.1.2.3"


def test_each_download_is_its_own_event(client, member, stored):
    client.force_login(member)
    for _ in range(3):
        assert client.get(download_url(stored)).status_code == 200
    assert len(downloads()) == 3


@pytest.mark.parametrize("classification", ["confidential", "restricted"])
@pytest.mark.parametrize(
    "how",
    [
        "change grant",
        "approver",
        "staging approver",
        "team-wide approver",
        "approver through a group",
        "group grant",
        "admin",
    ],
)
def test_people_granted_access_may_download(
    client, request, member, outsider, admin_user, model, stored, classification, how
):
    model_update(actor=member, model=model, data_classification=classification)
    user = outsider
    if how == "change grant":
        model_permission_grant(actor=member, model=model, user=outsider)
    elif how == "approver":
        approver_grant(actor=admin_user, stage="production", model=model, user=outsider)
    elif how == "staging approver":
        approver_grant(actor=admin_user, stage="staging", model=model, user=outsider)
    elif how == "team-wide approver":
        approver_grant(actor=admin_user, stage="production", team=model.team, user=outsider)
    elif how == "approver through a group":
        committee = Group.objects.create(name="Model risk committee")
        outsider.groups.add(committee)
        approver_grant(actor=admin_user, stage="production", model=model, group=committee)
    elif how == "group grant":
        board = Group.objects.create(name="Review board")
        outsider.groups.add(board)
        assign_perm("registry.change_registeredmodel", board, model)
    else:
        user = admin_user
    client.force_login(user)

    assert download_url(stored) in version_page(client, stored)
    response = client.get(download_url(stored))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == WEIGHTS
    [event] = downloads()
    assert event.actor_name == user.get_username()
    assert event.changes["data_classification"] == classification


def test_a_restricted_model_refuses_outsiders_too(client, member, outsider, model, stored):
    model_update(actor=member, model=model, data_classification="restricted")
    client.force_login(outsider)
    response = client.get(download_url(stored))
    assert response.status_code == 403
    assert "fraud-scorer is restricted" in response.content.decode()
    assert downloads() == []


@pytest.mark.parametrize("classification", ["public", "internal"])
def test_everyone_signed_in_downloads_public_and_internal_artifacts_unaudited(
    client, member, outsider, model, stored, classification
):
    model_update(actor=member, model=model, data_classification=classification)
    client.force_login(outsider)
    assert download_url(stored) in version_page(client, stored)
    response = client.get(download_url(stored))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == WEIGHTS
    assert downloads() == []


def test_a_file_lost_from_storage_records_no_download(client, member, stored, artifact_dir):
    (artifact_dir / stored.artifact.name).unlink()
    client.force_login(member)
    assert client.get(download_url(stored)).status_code == 404
    assert downloads() == []


def test_anonymous_visitors_are_sent_to_sign_in(client, stored):
    response = client.get(download_url(stored))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert downloads() == []
