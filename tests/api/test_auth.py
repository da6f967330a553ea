"""Who may call the API: personal tokens (Bearer) or a signed-in session."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import ActorKind, AuditEvent
from registry.models import APIToken
from registry.services import token_create, token_revoke

pytestmark = pytest.mark.django_db

URL = "/api/models/"


def test_it_answers_401_without_credentials():
    response = APIClient().get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert "/accounts/tokens/" in response.json()["detail"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer mg_00000000_not-a-real-token",
        "Bearer not-even-our-format",
        "Bearer",
        "Bearer two parts",
    ],
)
def test_it_answers_401_for_an_invalid_token(header, member):
    response = APIClient().get(URL, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_it_answers_401_for_a_revoked_token(member):
    token, secret = token_create(actor=member, name="old")
    token_revoke(actor=member, token=token)
    response = APIClient().get(URL, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_it_answers_401_for_the_token_of_a_deactivated_user(member):
    _, secret = token_create(actor=member, name="pipeline")
    member.is_active = False
    member.save()
    response = APIClient().get(URL, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 401


def test_a_valid_token_works_and_records_its_last_use(member):
    token, secret = token_create(actor=member, name="pipeline")
    assert token.last_used_at is None
    before = timezone.now()

    response = APIClient().get(URL, HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_at >= before


def test_a_signed_in_session_works(client, member):
    client.force_login(member)
    assert client.get(URL).status_code == 200


def test_a_session_write_needs_the_csrf_token(member, team):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(member)
    response = client.post(URL, {"name": "no-csrf"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_writes_by_token_are_audited_as_token_actions(api, model):
    response = api.patch(f"/api/models/{model.name}/", {"purpose": "New purpose."})
    assert response.status_code == 200
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event.actor_kind == ActorKind.TOKEN
    assert APIToken.objects.get().last_used_at is not None
