"""The admin shows the catalog but cannot change it: writes go through the services."""

import pytest
from django.urls import reverse

from registry.models import ModelVersion, RegisteredModel

pytestmark = pytest.mark.django_db


def test_admins_can_read_a_version_but_not_change_its_stage(client, admin_user, version):
    client.force_login(admin_user)
    url = reverse("admin:registry_modelversion_change", args=[version.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    response = client.post(url, {"stage": "production", "label": "9.9.9"})
    assert response.status_code == 403
    version.refresh_from_db()
    assert (version.stage, version.label) == ("none", "1.0.0")


@pytest.mark.parametrize(
    "name",
    [
        "registry_registeredmodel_add",
        "registry_team_add",
        "registry_modelversion_add",
        "registry_modelalias_add",
    ],
)
def test_nothing_can_be_added_through_the_admin(client, admin_user, name):
    client.force_login(admin_user)
    assert client.get(reverse(f"admin:{name}")).status_code == 403


def test_models_cannot_be_deleted_through_the_admin(client, admin_user, model):
    client.force_login(admin_user)
    url = reverse("admin:registry_registeredmodel_delete", args=[model.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert RegisteredModel.objects.filter(pk=model.pk).exists()
    assert ModelVersion.objects.count() == 0


def test_aliases_are_listed_but_cannot_be_moved_through_the_admin(
    client, admin_user, member, model, make_version
):
    from registry.models import ModelAlias
    from registry.services import alias_set

    v1, v2 = make_version(model), make_version(model)
    alias = alias_set(actor=member, model=model, name="challenger", version=v1)
    client.force_login(admin_user)

    listing = client.get(reverse("admin:registry_modelalias_changelist"))
    assert listing.status_code == 200 and b"challenger" in listing.content
    url = reverse("admin:registry_modelalias_change", args=[alias.pk])
    assert client.post(url, {"version": v2.pk, "name": "challenger"}).status_code == 403
    assert ModelAlias.objects.get(pk=alias.pk).version == v1
