"""A user's teams, permissions and grants are read with the user (or the model) on every
request, not kept between requests: a change shows on the very next page (issue 11)."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from registry.services import (
    model_permission_grant,
    model_permission_revoke,
    team_member_add,
    team_member_remove,
)

pytestmark = pytest.mark.django_db


def version_page(client, model) -> str:
    response = client.get(reverse("registry:version_detail", args=[model.name, 1]))
    assert response.status_code == 200
    return response.content.decode()


def model_page(client, model) -> str:
    response = client.get(reverse("registry:model_detail", args=[model.name]))
    assert response.status_code == 200
    return response.content.decode()


def test_joining_and_leaving_the_team_shows_at_once(
    client, outsider, admin_user, team, model, version
):
    client.force_login(outsider)
    assert 'id="edit-card"' not in version_page(client, model)
    assert 'id="edit-model"' not in model_page(client, model)
    team_member_add(actor=admin_user, team=team, user=outsider)
    assert 'id="edit-card"' in version_page(client, model)
    assert 'id="edit-model"' in model_page(client, model)
    team_member_remove(actor=admin_user, team=team, user=outsider)
    assert 'id="edit-card"' not in version_page(client, model)
    assert 'id="edit-model"' not in model_page(client, model)


def test_a_grant_and_its_revocation_show_at_once(client, outsider, member, model, version):
    client.force_login(outsider)
    model_permission_grant(actor=member, model=model, user=outsider)
    assert 'id="edit-card"' in version_page(client, model)
    assert 'id="edit-model"' in model_page(client, model)
    model_permission_revoke(actor=member, model=model, user=outsider)
    assert 'id="edit-card"' not in version_page(client, model)
    assert 'id="edit-model"' not in model_page(client, model)


def test_a_restricted_artifact_opens_to_a_grant_at_once(
    client, outsider, member, model, make_version
):
    from django.core.files.base import ContentFile

    make_version(model, artifact=ContentFile(b"weights", name="model.pkl"), artifact_uri="")
    url = reverse("registry:artifact_download", args=[model.name, 1])
    client.force_login(outsider)
    assert client.get(url).status_code == 403
    assert 'id="artifact-restricted"' in version_page(client, model)
    model_permission_grant(actor=member, model=model, user=outsider)
    assert client.get(url).status_code == 200
    assert 'id="artifact-download"' in version_page(client, model)


def test_a_new_permission_shows_in_the_navigation_at_once(client, outsider, model, version):
    client.force_login(outsider)
    audit_link = 'href="/audit/'
    assert audit_link not in version_page(client, model)
    outsider.user_permissions.add(Permission.objects.get(codename="export_auditevent"))
    assert audit_link in version_page(client, model)


def test_a_deactivated_user_is_signed_out_at_once(client, outsider, model, version):
    client.force_login(outsider)
    version_page(client, model)
    type(outsider).objects.filter(pk=outsider.pk).update(is_active=False)
    response = client.get(reverse("registry:version_detail", args=[model.name, 1]))
    assert response.status_code == 302 and "/login" in response["Location"]
