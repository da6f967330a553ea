"""Every dashboard URL x every kind of user: who may read, who may write.

Everyone signed in reads everything (DESIGN invariant 7); only the owning team, users
granted the per-model change permission, and admins write, and download the artifacts
of a confidential model such as fraud-scorer (TEAM_READ). Anonymous visitors are sent
to sign in. A new URL in registry/urls.py must be added to the matrix below.
"""

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from registry import urls as registry_urls
from registry.models import ModelCard, RegisteredModel
from registry.services import model_permission_grant

pytestmark = pytest.mark.django_db

READ = "read"
TEAM_READ = "team-read"
WRITE = "write"

# (url name, method, kind). Writes are the model edit form, the card editor and
# registering a model for the owning team (which the outsider is not in).
MATRIX = [
    ("catalog", "get", READ),
    ("model_detail", "get", READ),
    ("version_detail", "get", READ),
    ("version_compare", "get", READ),
    ("artifact_download", "get", TEAM_READ),
    ("model_create", "get", READ),
    ("model_create", "post", WRITE),
    ("model_edit", "get", WRITE),
    ("model_edit", "post", WRITE),
    ("card_edit", "get", WRITE),
    ("card_edit", "post", WRITE),
]
USERS = ["anonymous", "outsider", "member", "admin"]


def test_the_matrix_covers_every_registry_url():
    names = {p.name for p in registry_urls.urlpatterns}
    assert names == {name for name, _, _ in MATRIX}


@pytest.fixture
def stored_version(model, make_version):
    return make_version(model, artifact=ContentFile(b"weights", name="model.pkl"), artifact_uri="")


def _url(name, model, version):
    if name in ("catalog", "model_create"):
        return reverse(f"registry:{name}")
    if name in ("model_detail", "model_edit", "version_compare"):
        url = reverse(f"registry:{name}", args=[model.name])
        return url + "?a=1&b=2" if name == "version_compare" else url
    return reverse(f"registry:{name}", args=[model.name, version.number])


def _post_data(name, team, owner):
    if name == "model_create":
        return {
            "name": "new-model",
            "team": team.pk,
            "owner": owner.pk,
            "description": "Ranks search results.",
            "purpose": "Order the results page.",
            "license": "MIT",
            "data_classification": "internal",
            "evaluation_coverage": "Offline NDCG on last week's queries.",
            "risk_tier": "medium",
            "tags": "search",
        }
    if name == "model_edit":
        return {
            "name": "fraud-scorer",
            "team": team.pk,
            "owner": owner.pk,
            "description": "Edited description.",
            "purpose": "Block or review risky payments at checkout.",
            "license": "proprietary",
            "data_classification": "confidential",
            "evaluation_coverage": "Hold-out of 2024-Q3 payments.",
            "risk_tier": "medium",
            "tags": "fraud",
        }
    return {"intended_use": "Edited intended use.", "revision": 1}


def _state():
    """What a write would change, to prove a refused write changed nothing."""
    return (
        sorted(RegisteredModel.objects.values_list("name", "description")),
        sorted(ModelCard.objects.values_list("intended_use", flat=True)),
    )


@pytest.mark.parametrize("user_kind", USERS)
@pytest.mark.parametrize("name,method,kind", MATRIX)
def test_permission_matrix(
    client,
    request,
    model,
    make_version,
    stored_version,
    team,
    member,
    name,
    method,
    kind,
    user_kind,
):
    make_version(model)  # v2, so that compare has two versions
    if user_kind != "anonymous":
        fixture = "admin_user" if user_kind == "admin" else user_kind
        client.force_login(request.getfixturevalue(fixture))
    url = _url(name, model, stored_version)
    before = _state()
    if method == "get":
        response = client.get(url)
    else:
        response = client.post(url, _post_data(name, team, member))

    if user_kind == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
        assert _state() == before
    elif user_kind == "outsider" and kind in (WRITE, TEAM_READ):
        assert response.status_code == 403
        assert "You can't do that here" in response.content.decode()
        assert _state() == before
    elif method == "get":
        assert response.status_code == 200
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert _state() != before


def test_outsider_may_register_a_model_for_their_own_team(client, outsider, other_team):
    client.force_login(outsider)
    response = client.post(
        reverse("registry:model_create"), _post_data("model_create", other_team, outsider)
    )
    assert response.status_code == 302
    assert RegisteredModel.objects.filter(team=other_team).count() == 1


def test_a_user_granted_edit_rights_on_one_model_can_edit_it(
    client, member, outsider, model, version, make_model
):
    other_model = make_model(name="churn")
    model_permission_grant(actor=member, model=model, user=outsider)
    client.force_login(outsider)

    assert client.get(reverse("registry:model_edit", args=[model.name])).status_code == 200
    response = client.post(
        reverse("registry:card_edit", args=[model.name, version.number]),
        {"intended_use": "Written by a granted outsider.", "revision": version.card.revision},
    )
    assert response.status_code == 302
    version.card.refresh_from_db()
    assert version.card.intended_use == "Written by a granted outsider."
    page = client.get(reverse("registry:model_detail", args=[model.name])).content.decode()
    assert 'id="edit-model"' in page
    # The grant is for that one model only.
    assert client.get(reverse("registry:model_edit", args=[other_model.name])).status_code == 403


def test_a_grant_to_one_of_the_users_groups_counts_too(client, outsider, model, make_model):
    """Platform admins may grant through guardian to a group (say, a review board)."""
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    board = Group.objects.create(name="Review board")
    outsider.groups.add(board)
    assign_perm("registry.change_registeredmodel", board, model)
    client.force_login(outsider)
    assert client.get(reverse("registry:model_edit", args=[model.name])).status_code == 200
    page = client.get(reverse("registry:model_detail", args=[model.name])).content.decode()
    assert 'id="edit-model"' in page
    other = make_model(name="churn")
    assert client.get(reverse("registry:model_edit", args=[other.name])).status_code == 403
    other_page = client.get(reverse("registry:model_detail", args=[other.name])).content.decode()
    assert 'id="edit-model"' not in other_page


def test_posts_without_a_csrf_token_are_refused(member, version, model):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    response = client.post(
        reverse("registry:card_edit", args=[model.name, version.number]),
        {"intended_use": "Forged.", "revision": version.card.revision},
    )
    assert response.status_code == 403
    version.card.refresh_from_db()
    assert version.card.intended_use == ""


@pytest.mark.parametrize(
    "path",
    [
        "/models/no-such-model/",
        "/models/no-such-model/edit/",
        "/models/no-such-model/compare/",
        "/models/fraud-scorer/v/99/",
        "/models/fraud-scorer/v/99/card/",
        "/models/fraud-scorer/v/99/artifact/",
    ],
)
def test_unknown_models_and_versions_are_404(client, member, version, path):
    client.force_login(member)
    assert client.get(path).status_code == 404
