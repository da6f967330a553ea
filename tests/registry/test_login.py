"""Signing in and out, and the lock-out after repeated failures (django-axes)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_signing_in_lands_on_the_catalog(client, member, password):
    response = sign_in(client, "alice", password)
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:catalog")


def test_a_wrong_password_is_refused_with_a_message(client, member):
    response = sign_in(client, "alice", "wrong")
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_the_account_for_a_while(client, member, password, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "alice", "wrong")
    # Even the right password is refused while locked out.
    response = sign_in(client, "alice", password)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_lock_out_is_per_user_and_address(client, member, outsider, password, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "bob", password).status_code == 302


def test_signing_out_needs_a_post_and_ends_the_session(client, member, password):
    client.force_login(member)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("registry:catalog")).status_code == 302


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("registry:catalog"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
