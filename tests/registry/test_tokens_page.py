"""The API tokens page: create (secret shown once), list with last use, revoke."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.models import APIToken
from registry.services import token_authenticate, token_create, token_revoke

pytestmark = pytest.mark.django_db

URL = "/accounts/tokens/"


def test_it_requires_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_shows_an_empty_state(client, member):
    client.force_login(member)
    response = client.get(URL)
    assert response.status_code == 200
    assert b"You have no API tokens yet" in response.content


def test_it_creates_a_token_and_shows_the_secret_once(client, member):
    client.force_login(member)
    response = client.post(URL, {"name": "training pipeline"})

    assert response.status_code == 200
    token = APIToken.objects.get(user=member)
    assert token.name == "training pipeline"
    secret = response.context["secret"]
    assert secret.startswith("mg_") and secret.encode() in response.content
    assert b"Copy it now: it won't be shown again." in response.content
    assert "no-store" in response["Cache-Control"]
    # The secret works and only its digest is stored.
    assert token_authenticate(secret) == token
    assert secret not in (token.digest, token.prefix)

    again = client.get(URL)
    assert secret.encode() not in again.content
    assert b"training pipeline" in again.content


def test_it_rejects_a_blank_name(client, member):
    client.force_login(member)
    response = client.post(URL, {"name": "  "})
    assert response.status_code == 400
    assert b"Name the token" in response.content
    assert not APIToken.objects.exists()


def test_it_lists_only_my_tokens_with_their_last_use(client, member, outsider):
    mine, secret = token_create(actor=member, name="nightly evaluation")
    token_create(actor=outsider, name="bobs secret pipeline")
    client.force_login(member)

    before = client.get(URL).content
    assert b"nightly evaluation" in before
    assert b"Never" in before
    assert b"bobs secret pipeline" not in before

    token_authenticate(secret)
    after = client.get(URL).content
    assert b"Never" not in after
    assert f"mg_{mine.prefix}_".encode() in after


def test_the_revoke_button_asks_for_confirmation_and_revokes_nothing(client, member):
    token, secret = token_create(actor=member, name="old pipeline")
    client.force_login(member)
    listing = client.get(URL).content.decode()
    revoke_url = reverse("token_revoke", args=[token.pk])
    # The list's button is a link to the confirmation page, not a form that revokes.
    assert f'href="{revoke_url}" aria-label="Revoke old pipeline"' in listing
    assert f'action="{revoke_url}"' not in listing

    response = client.get(revoke_url)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Revoke “old pipeline”?" in html
    assert 'name="confirm" value="revoke"' in html
    assert f'href="{URL}" id="cancel-revoke"' in html
    token.refresh_from_db()
    assert token.revoked_at is None
    assert token_authenticate(secret) == token
    assert not AuditEvent.objects.filter(action=Action.TOKEN_REVOKED).exists()


def test_a_post_without_the_confirmation_revokes_nothing(client, member):
    """A form that posts straight to the revoke URL (one click) only gets the question."""
    token, secret = token_create(actor=member, name="old pipeline")
    client.force_login(member)

    response = client.post(reverse("token_revoke", args=[token.pk]))

    assert response.status_code == 200
    assert "Revoke “old pipeline”?" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None
    assert token_authenticate(secret) == token


def test_confirming_revokes_the_token(client, member):
    token, secret = token_create(actor=member, name="old pipeline")
    client.force_login(member)

    response = client.post(
        reverse("token_revoke", args=[token.pk]), {"confirm": "revoke"}, follow=True
    )

    assert response.status_code == 200
    assert b"was revoked" in response.content
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token_authenticate(secret) is None
    assert AuditEvent.objects.filter(action=Action.TOKEN_REVOKED, object_id=str(token.pk)).exists()
    assert b"Revoke old pipeline" not in response.content


def test_revoking_needs_a_csrf_token(member, password):
    from django.test import Client

    token, _ = token_create(actor=member, name="pipeline")
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    response = client.post(reverse("token_revoke", args=[token.pk]), {"confirm": "revoke"})
    assert response.status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_does_not_show_or_revoke_someone_elses_token(client, member, outsider, method):
    theirs, secret = token_create(actor=outsider, name="bobs pipeline")
    client.force_login(member)

    response = getattr(client, method)(
        reverse("token_revoke", args=[theirs.pk]), {"confirm": "revoke"}
    )

    assert response.status_code == 404
    assert b"bobs pipeline" not in response.content
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert token_authenticate(secret) == theirs


def test_a_revoked_token_is_not_asked_about_again(client, member):
    token, _ = token_create(actor=member, name="pipeline")
    client.force_login(member)
    client.post(reverse("token_revoke", args=[token.pk]), {"confirm": "revoke"})

    url = reverse("token_revoke", args=[token.pk])
    asked = client.get(url, follow=True)
    assert b"already revoked" in asked.content
    again = client.post(url, {"confirm": "revoke"}, follow=True)
    assert b"already revoked" in again.content
    assert AuditEvent.objects.filter(action=Action.TOKEN_REVOKED).count() == 1


def test_it_lists_active_tokens_first_and_leaves_out_the_oldest_revoked(client, member):
    from registry.views.accounts import TOKENS_SHOWN

    # Revoked tokens pile up: the page shows the active ones first, then the most
    # recently revoked, up to TOKENS_SHOWN rows, and says that older ones are left out.
    client.force_login(member)
    for n in range(TOKENS_SHOWN):
        token, _ = token_create(actor=member, name=f"rotated-{n:02d}")
        token_revoke(actor=member, token=token)
        if n == 0:
            assert 'id="older-revoked"' not in client.get(URL).content.decode()
    token_create(actor=member, name="current pipeline")
    page = client.get(URL).content.decode()
    rows = page.split("<tbody>")[1].split("</tbody>")[0].count("<tr>")
    assert rows == TOKENS_SHOWN
    assert page.index("current pipeline") < page.index(f"rotated-{TOKENS_SHOWN - 1:02d}")
    assert "rotated-00" not in page  # the oldest revocation is the one left out
    assert 'id="older-revoked"' in page
