"""A model's owner belongs to its owning team: in the form, the API and the services,
when the model is registered, when the owner changes and when the team changes."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from registry.models import RegisteredModel, TeamMembership
from registry.services import model_update, team_member_add, team_member_remove

pytestmark = pytest.mark.django_db

CREATE = reverse("registry:model_create")
NOT_IN_TEAM = "bob is not a member of Fraud Detection: the owner must belong to the owning team"


def form_data(team, owner, **overrides):
    return {
        "name": "churn-predictor",
        "team": team.pk,
        "owner": owner.pk,
        "description": "Predicts which subscribers cancel next month.",
        "purpose": "Target retention offers.",
        "license": "MIT",
        "data_classification": "internal",
        "evaluation_coverage": "Last quarter, per plan type.",
        "risk_tier": "medium",
        "tags": "churn",
        **overrides,
    }


def field_errors(response, field: str) -> str:
    html = response.content.decode()
    block = re.search(rf'<div class="field has-error" id="field-{field}">(.*?)</div>', html, re.S)
    return re.sub(r"<[^>]+>", " ", block.group(1)) if block else ""


def api_payload(team, owner):
    return {
        "name": "churn-predictor",
        "team": team.slug,
        "owner": owner.username,
        "description": "Predicts which subscribers cancel next month.",
        "purpose": "Target retention offers.",
        "license": "MIT",
        "data_classification": "internal",
        "evaluation_coverage": "Last quarter, per plan type.",
        "risk_tier": "medium",
    }


# --- services -------------------------------------------------------------------------


def test_registering_with_an_owner_from_another_team_is_refused(make_model, outsider):
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        make_model(name="churn", owner=outsider)
    assert NOT_IN_TEAM in caught.value.message_dict["owner"][0]
    assert not RegisteredModel.objects.filter(name="churn").exists()
    assert AuditEvent.objects.count() == events


def test_handing_a_model_to_someone_outside_the_team_is_refused(model, member, outsider):
    with pytest.raises(ValidationError) as caught:
        model_update(actor=member, model=model, owner=outsider)
    assert NOT_IN_TEAM in caught.value.message_dict["owner"][0]
    model.refresh_from_db()
    assert model.owner == member


def test_moving_a_model_to_a_team_its_owner_is_not_in_is_refused(
    model, member, admin_user, other_team
):
    with pytest.raises(ValidationError) as caught:
        model_update(actor=admin_user, model=model, team=other_team)
    assert "alice is not a member of Search Ranking" in caught.value.message_dict["owner"][0]
    model.refresh_from_db()
    assert model.team.name == "Fraud Detection"


def test_moving_a_model_with_an_owner_from_the_new_team_works(
    model, admin_user, other_team, outsider
):
    model_update(actor=admin_user, model=model, team=other_team, owner=outsider)
    model.refresh_from_db()
    assert (model.team, model.owner) == (other_team, outsider)


def test_an_owner_stays_in_the_team_until_their_models_have_another_owner(
    model, admin_user, team, member, django_user_model
):
    with pytest.raises(ValidationError) as caught:
        team_member_remove(actor=admin_user, team=team, user=member)
    assert "alice owns models of Fraud Detection (fraud-scorer)" in caught.value.messages[0]
    assert TeamMembership.objects.filter(team=team, user=member).exists()

    carol = django_user_model.objects.create_user("carol")
    team_member_add(actor=admin_user, team=team, user=carol)
    model_update(actor=admin_user, model=model, owner=carol)
    team_member_remove(actor=admin_user, team=team, user=member)
    assert not TeamMembership.objects.filter(team=team, user=member).exists()


# --- browser form ---------------------------------------------------------------------


def test_the_form_offers_owners_from_the_users_teams_only(client, member, outsider, team):
    client.force_login(member)
    html = client.get(CREATE).content.decode()
    owner_select = re.search(r'<select name="owner".*?</select>', html, re.S).group(0)
    assert re.findall(r"<option[^>]*>([^<]+)</option>", owner_select) == ["alice"]


def test_the_form_refuses_an_owner_outside_the_team(client, member, outsider, team):
    client.force_login(member)
    response = client.post(CREATE, form_data(team, outsider))
    assert response.status_code == 200
    assert NOT_IN_TEAM in field_errors(response, "owner")
    assert not RegisteredModel.objects.exists()


def test_the_form_refuses_an_owner_of_another_of_the_users_teams(
    client, member, admin_user, other_team, outsider, team
):
    """Both teams are offered, so the owner list holds both teams' members: the service
    decides, and its message lands on the owner field."""
    team_member_add(actor=admin_user, team=other_team, user=member)
    client.force_login(member)
    response = client.post(CREATE, form_data(team, outsider))
    assert response.status_code == 200
    assert NOT_IN_TEAM in field_errors(response, "owner")
    assert not RegisteredModel.objects.exists()


def test_the_edit_form_refuses_a_team_the_owner_is_not_in(
    client, model, member, admin_user, other_team, team, django_user_model
):
    team_member_add(actor=admin_user, team=other_team, user=member)
    carol = django_user_model.objects.create_user("carol")
    team_member_add(actor=admin_user, team=team, user=carol)
    model_update(actor=admin_user, model=model, owner=carol)
    client.force_login(member)

    data = form_data(other_team, carol, name=model.name)
    response = client.post(reverse("registry:model_edit", args=[model.name]), data)
    assert response.status_code == 200
    assert "carol is not a member of Search Ranking" in field_errors(response, "owner")
    model.refresh_from_db()
    assert model.team == team


# --- API ------------------------------------------------------------------------------


@pytest.fixture
def api(member):
    from rest_framework.test import APIClient

    from registry.services import token_create

    _, secret = token_create(actor=member, name="pipeline")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_the_api_refuses_an_owner_outside_the_team(api, team, outsider):
    response = api.post("/api/models/", api_payload(team, outsider), format="json")
    assert response.status_code == 400
    assert NOT_IN_TEAM in response.json()["errors"]["owner"][0]
    assert not RegisteredModel.objects.exists()


def test_the_api_refuses_moving_a_model_away_from_its_owners_team(
    api, model, admin_user, member, other_team
):
    team_member_add(actor=admin_user, team=other_team, user=member)
    carol = type(member).objects.create_user("carol")
    team_member_add(actor=admin_user, team=other_team, user=carol)
    model_update(actor=admin_user, model=model, team=other_team, owner=carol)

    response = api.patch(f"/api/models/{model.name}/", {"team": "fraud-detection"}, format="json")
    assert response.status_code == 400
    assert "carol is not a member of Fraud Detection" in response.json()["errors"]["owner"][0]
    model.refresh_from_db()
    assert model.team == other_team
