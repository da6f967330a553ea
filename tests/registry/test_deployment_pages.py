"""The deployment pages: targets created, edited and rotated through forms, a secret
shown once, deliveries filtered and paged, a delivery's attempts, the redeliver and
test buttons (audited), who may open what, and the model page's warning when its
Production version's notification is not getting through.

Targets point at the real receiver on 127.0.0.1 (tests/registry/conftest.py); sends
run in-process through services.delivery_send, the same call the Celery task makes."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from audit.models import AuditEvent
from registry import deployment_urls
from registry.audit_actions import Action
from registry.models import Delivery, DeliveryAttempt, DeploymentTarget
from registry.services import (
    delivery_send,
    deployment_target_create,
    deployment_target_rotate_secret,
    deployment_target_test,
)

pytestmark = pytest.mark.django_db

SECRET_PREFIX = "whsec_"


def _form(receiver, **overrides):
    data = {
        "name": "argo-prod-eu",
        "environment": "production",
        "url": receiver.url if receiver else "",
        "events": ["version.promoted.production", "test"],
        "scope": "models",
        "models": "fraud-scorer",
        "active": "on",
    }
    data.update(overrides)
    return data


@pytest.fixture
def fraud_target(member, model, receiver, webhook_settings):
    """A production target for fraud-scorer, defined by its team's member alice."""
    target, _ = deployment_target_create(
        actor=member,
        name="argo-prod-eu",
        environment="production",
        url=receiver.url,
        events=["version.promoted.production", "test"],
        scope="models",
        models=[model],
    )
    return target


def _sent(target, actor):
    """A test event to `target`, sent in-process; returns the delivery afterwards."""
    delivery = deployment_target_test(actor=actor, target=target)
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


# --- Creating a target and its secret ---------------------------------------------------


def test_a_created_targets_secret_is_shown_once_and_never_again(
    client, member, model, receiver, webhook_settings
):
    client.force_login(member)
    response = client.post(reverse("deployments:create"), _form(receiver))

    assert response.status_code == 200
    page = response.content.decode()
    target = DeploymentTarget.objects.get()
    assert target.secret.startswith(SECRET_PREFIX)
    assert f'value="{target.secret}"' in page
    assert "Copy it now: it won't be shown again." in page
    assert "no-store" in response["Cache-Control"]
    assert list(target.chosen_models.values_list("name", flat=True)) == ["fraud-scorer"]
    event = AuditEvent.objects.get(action=Action.TARGET_CREATED)
    assert target.secret not in str(event.changes)

    for url in (
        reverse("deployments:list"),
        reverse("deployments:target", args=[target.pk]),
        reverse("deployments:edit", args=[target.pk]),
        reverse("deployments:rotate", args=[target.pk]),
    ):
        later = client.get(url)
        assert later.status_code == 200, url
        assert target.secret not in later.content.decode(), url
        assert "argo-prod-eu" in later.content.decode()


def test_bad_input_is_refused_on_its_fields_and_creates_nothing(
    client, member, model, receiver, webhook_settings
):
    client.force_login(member)
    response = client.post(
        reverse("deployments:create"),
        _form(receiver, name="", url="ftp://deploy.example.com/hook", events=[]),
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing has been saved yet." in page
    assert 'id="field-name"' in page and "This field is required." in page
    assert 'class="field has-error" id="field-events"' in page
    assert DeploymentTarget.objects.count() == 0


def test_the_services_refusals_show_on_their_fields(client, member, model, settings):
    """A loopback address (without the tests' allowance) and an unknown model."""
    settings.MODELGATE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    client.force_login(member)
    response = client.post(
        reverse("deployments:create"),
        {
            **_form(None, url="http://127.0.0.1:9/hook"),
            "models": "fraud-scorer, no-such-model",
        },
    )
    assert response.status_code == 400
    assert "No model is named no-such-model." in response.content.decode()

    response = client.post(reverse("deployments:create"), _form(None, url="http://127.0.0.1:9/"))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="field has-error" id="field-url"' in page
    assert "127.0.0.1" in page
    assert DeploymentTarget.objects.count() == 0


def test_a_member_may_not_define_a_target_for_all_models(
    client, member, model, receiver, webhook_settings
):
    client.force_login(member)
    response = client.post(reverse("deployments:create"), _form(receiver, scope="all"))
    assert response.status_code == 403
    assert "Only platform admins define targets for all models." in response.content.decode()
    assert DeploymentTarget.objects.count() == 0


def test_a_target_is_edited_through_its_form(client, member, fraud_target, receiver):
    client.force_login(member)
    edit = client.get(reverse("deployments:edit", args=[fraud_target.pk])).content.decode()
    assert 'value="argo-prod-eu"' in edit
    assert "fraud-scorer</textarea>" in edit

    response = client.post(
        reverse("deployments:edit", args=[fraud_target.pk]),
        _form(receiver, name="argo-prod-eu-2", environment="staging", active=""),
    )
    assert response.status_code == 302
    fraud_target.refresh_from_db()
    assert (fraud_target.name, fraud_target.environment, fraud_target.active) == (
        "argo-prod-eu-2",
        "staging",
        False,
    )
    page = client.get(response["Location"]).content.decode()
    assert "Saved target argo-prod-eu-2." in page
    assert 'id="target-inactive"' in page


# --- Rotating the secret ------------------------------------------------------------------


def test_rotation_shows_the_new_secret_once_and_says_both_sign_until_it_ends(
    client, member, fraud_target
):
    client.force_login(member)
    old = fraud_target.secret
    response = client.post(reverse("deployments:rotate", args=[fraud_target.pk]))

    assert response.status_code == 200
    fraud_target.refresh_from_db()
    page = response.content.decode()
    assert f'value="{fraud_target.secret}"' in page and fraud_target.secret != old
    assert old not in page
    assert "carries two signatures" in page

    detail = client.get(reverse("deployments:target", args=[fraud_target.pk])).content.decode()
    assert fraud_target.secret not in detail and old not in detail
    assert "the old and the new secret both sign until" in detail

    response = client.post(reverse("deployments:rotation_end", args=[fraud_target.pk]))
    assert response.status_code == 302
    fraud_target.refresh_from_db()
    assert fraud_target.previous_secret == ""
    assert "previous secret is retired" in client.get(response["Location"]).content.decode()
    # Ending it twice says why nothing happened.
    again = client.post(reverse("deployments:rotation_end", args=[fraud_target.pk]), follow=True)
    assert "This target&#x27;s secret is not being rotated." in again.content.decode()


# --- Test events, deliveries and redelivery ------------------------------------------------


def test_the_test_button_queues_a_signed_test_event_and_is_audited(
    client, member, fraud_target, receiver
):
    client.force_login(member)
    response = client.post(reverse("deployments:test", args=[fraud_target.pk]))

    delivery = Delivery.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("deployments:delivery", args=[delivery.pk])
    assert (delivery.event, delivery.model, delivery.version) == ("test", None, None)
    event = AuditEvent.objects.get(action=Action.TARGET_TESTED)
    assert event.changes == {"name": "argo-prod-eu", "delivery": delivery.webhook_id}
    assert event.actor_name == member.get_username()

    delivery_send(delivery_id=delivery.pk)  # what the worker does
    [got] = receiver.wait_for(1)
    payload = got.verify(fraud_target.secret)
    assert payload["type"] == "test"
    assert payload["data"]["by"] == "alice"
    page = client.get(response["Location"]).content.decode()
    assert "Test event queued for argo-prod-eu." in page
    assert 'id="delivery-state">Delivered' in page
    assert 'id="attempt-1"' in page and ">200<" in page


def test_a_delivery_page_shows_every_attempt_with_the_response_escaped(
    client, member, fraud_target, receiver, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    delivery = deployment_target_test(actor=member, target=fraud_target)
    receiver.answer(500, 503)
    delivery_send(delivery_id=delivery.pk)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
    delivery_send(delivery_id=delivery.pk)
    DeliveryAttempt.objects.filter(delivery=delivery, number=2).update(
        response_body="<script>alert(1)</script>" + "x" * 2000
    )

    client.force_login(member)
    page = client.get(reverse("deployments:delivery", args=[delivery.pk])).content.decode()
    assert 'id="delivery-state">Exhausted' in page
    assert "Gave up after 2 attempts. The receiver answered 503." in page
    assert 'id="attempt-1"' in page and 'id="attempt-2"' in page
    assert ">500<" in page and ">503<" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "x" * 600 not in page  # truncated


def test_redelivery_keeps_the_webhook_id_numbers_on_and_is_audited(
    client, member, fraud_target, receiver
):
    receiver.answer(400)
    delivery = _sent(fraud_target, member)
    assert delivery.state == "failed"

    client.force_login(member)
    response = client.post(reverse("deployments:redeliver", args=[delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("pending", 0, "")
    event = AuditEvent.objects.get(action=Action.DELIVERY_REDELIVERED)
    assert event.changes["delivery"] == delivery.webhook_id
    assert event.changes["previous_state"] == "failed"

    delivery_send(delivery_id=delivery.pk)
    first, second = receiver.wait_for(2)
    assert first.webhook_id == second.webhook_id == delivery.webhook_id
    delivery.refresh_from_db()
    assert delivery.state == "delivered"
    assert list(delivery.attempt_log.values_list("number", "status_code")) == [
        (1, 400),
        (2, 200),
    ]
    page = client.get(response["Location"]).content.decode()
    assert f"Sending {delivery.webhook_id} again to argo-prod-eu." in page


def test_a_pending_delivery_is_not_sent_twice_at_once(client, member, fraud_target):
    delivery = deployment_target_test(actor=member, target=fraud_target)
    client.force_login(member)
    response = client.post(reverse("deployments:redeliver", args=[delivery.pk]), follow=True)
    assert "This delivery is still being sent" in response.content.decode()
    assert not AuditEvent.objects.filter(action=Action.DELIVERY_REDELIVERED).exists()


def test_deliveries_are_filtered_and_paged_newest_first(
    client, member, fraud_target, receiver, promote_now, version, monkeypatch
):
    receiver.answer(400)
    failed = _sent(fraud_target, member)
    promote_now(version)
    promoted = Delivery.objects.get(event="version.promoted.production")
    delivered = [_sent(fraud_target, member) for _ in range(3)]
    client.force_login(member)
    url = reverse("deployments:target", args=[fraud_target.pk])

    def shown(query):
        response = client.get(url, query)
        assert response.status_code == 200
        page = response.content.decode()
        found = [
            (page.find(f'id="delivery-{pk}"'), pk)
            for pk in Delivery.objects.values_list("pk", flat=True)
        ]
        return [pk for at, pk in sorted(found) if at >= 0], page  # in the page's order

    assert shown({"state": "failed"})[0] == [failed.pk]
    assert shown({"event": "version.promoted.production"})[0] == [promoted.pk]
    assert shown({"model": "FRAUD-scorer"})[0] == [promoted.pk]
    assert shown({"model": "churn"})[1].count('id="no-deliveries"') == 1
    today = failed.created_at.date().isoformat()
    assert len(shown({"since": today, "until": today})[0]) == 5
    assert shown({"until": "2000-01-01"})[0] == []

    monkeypatch.setattr("registry.views.deployments.DELIVERIES_PER_PAGE", 2)
    first, page = shown({"event": "test"})
    newest = sorted([*delivered, failed], key=lambda d: (d.created_at, d.pk), reverse=True)
    assert first == [d.pk for d in newest[:2]]
    older = int(page.split("after=")[1].split('"')[0])
    second, page = shown({"event": "test", "after": older})
    assert second == [d.pk for d in newest[2:4]]
    assert 'id="newest-deliveries"' in page


def test_bad_filters_are_a_400_that_says_which(client, member, fraud_target):
    client.force_login(member)
    response = client.get(
        reverse("deployments:target", args=[fraud_target.pk]),
        {"state": "lost", "since": "2026-05-02", "until": "2026-05-01"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Select a valid choice. lost is not one of the available choices." in page


# --- The model page's warning ----------------------------------------------------------------


def test_the_model_page_warns_when_productions_notification_is_exhausted(
    client, member, outsider, fraud_target, receiver, promote_now, version, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    receiver.answer(503)
    promote_now(version)
    delivery = Delivery.objects.get(event="version.promoted.production")
    delivery_send(delivery_id=delivery.pk)

    client.force_login(member)
    page = client.get(reverse("registry:model_detail", args=["fraud-scorer"])).content.decode()
    assert 'id="deploy-warning"' in page
    assert "Production v1 may not be deployed" in page
    assert "argo-prod-eu: exhausted" in page
    assert reverse("deployments:delivery", args=[delivery.pk]) in page
    # Others see the warning, without a link to a target they may not see.
    client.force_login(outsider)
    page = client.get(reverse("registry:model_detail", args=["fraud-scorer"])).content.decode()
    assert 'id="deploy-warning"' in page
    assert reverse("deployments:delivery", args=[delivery.pk]) not in page


def test_the_warning_shows_a_failing_retry_and_goes_once_it_is_delivered(
    client, member, fraud_target, receiver, promote_now, version
):
    receiver.answer(500)
    promote_now(version)
    delivery = Delivery.objects.get(event="version.promoted.production")
    delivery_send(delivery_id=delivery.pk)
    client.force_login(member)
    url = reverse("registry:model_detail", args=["fraud-scorer"])
    assert "argo-prod-eu: pending (retrying)" in client.get(url).content.decode()

    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
    delivery_send(delivery_id=delivery.pk)
    assert 'id="deploy-warning"' not in client.get(url).content.decode()


def test_no_warning_for_a_staging_target(
    client, member, model, receiver, webhook_settings, promote_now, version, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    deployment_target_create(
        actor=member,
        name="serving-staging",
        environment="staging",
        url=receiver.url,
        events=["version.promoted.production"],
        scope="models",
        models=[model],
    )
    receiver.answer(503)
    promote_now(version)
    delivery_send(delivery_id=Delivery.objects.get().pk)
    client.force_login(member)
    page = client.get(reverse("registry:model_detail", args=["fraud-scorer"])).content.decode()
    assert 'id="deploy-warning"' not in page


# --- Who may open what -----------------------------------------------------------------------

TEAM = "any team member"
MANAGER = "who may manage the target"
# (url name, method, who, what success looks like)
MATRIX = [
    ("list", "get", TEAM, 200),
    ("create", "get", TEAM, 200),
    ("create", "post", MANAGER, 200),
    ("target", "get", MANAGER, 200),
    ("edit", "get", MANAGER, 200),
    ("edit", "post", MANAGER, 302),
    ("rotate", "get", MANAGER, 200),
    ("rotate", "post", MANAGER, 200),
    ("rotation_end", "post", MANAGER, 302),
    ("test", "post", MANAGER, 302),
    ("delivery", "get", MANAGER, 200),
    ("redeliver", "post", MANAGER, 302),
]
USERS = ["anonymous", "loner", "outsider", "member", "admin"]


def test_the_matrix_covers_every_deployment_url():
    assert {p.name for p in deployment_urls.urlpatterns} == {name for name, *_ in MATRIX}


@pytest.fixture
def loner(db):
    """Signed in, in no team at all."""
    return get_user_model().objects.create_user("erin", "erin@example.com", "pw")


def _state():
    return (
        sorted(DeploymentTarget.objects.values_list("name", "secret", "previous_secret")),
        sorted(Delivery.objects.values_list("webhook_id", "state", "attempts")),
        AuditEvent.objects.count(),
    )


@pytest.mark.parametrize("user_kind", USERS)
@pytest.mark.parametrize("name,method,who,ok", MATRIX)
def test_permission_matrix(
    client, request, fraud_target, member, receiver, name, method, who, ok, user_kind
):
    deployment_target_rotate_secret(actor=member, target=fraud_target)
    delivery = _sent(fraud_target, member)
    if user_kind != "anonymous":
        fixture = "admin_user" if user_kind == "admin" else user_kind
        client.force_login(request.getfixturevalue(fixture))
    args = {"list": [], "create": [], "delivery": [delivery.pk], "redeliver": [delivery.pk]}
    url = reverse(f"deployments:{name}", args=args.get(name, [fraud_target.pk]))
    data = _form(receiver, name="argo-prod-2") if name in ("create", "edit") else {}
    before = _state()
    response = client.get(url) if method == "get" else client.post(url, data)

    refused = user_kind == "loner" or (user_kind == "outsider" and who == MANAGER)
    if user_kind == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
    elif refused:
        assert response.status_code == 403
        assert "You can't do that here" in response.content.decode()
    else:
        assert response.status_code == ok, response.content.decode()[:2000]
    if user_kind == "anonymous" or refused or method == "get":
        assert _state() == before
    else:
        assert _state() != before


def test_the_nav_links_the_deployment_pages_for_those_who_may_manage_targets(client, member, loner):
    client.force_login(member)
    assert 'id="nav-deployments"' in client.get(reverse("registry:catalog")).content.decode()
    client.force_login(loner)
    assert 'id="nav-deployments"' not in client.get(reverse("registry:catalog")).content.decode()


def test_the_list_shows_only_the_targets_the_user_may_manage(
    client, member, outsider, fraud_target, admin_user, receiver
):
    deployment_target_create(
        actor=admin_user,
        name="everything-prod",
        environment="production",
        url=receiver.url,
        events=["test"],
    )
    client.force_login(member)
    page = client.get(reverse("deployments:list")).content.decode()
    assert "argo-prod-eu" in page and "everything-prod" not in page
    client.force_login(outsider)
    page = client.get(reverse("deployments:list")).content.decode()
    assert 'id="no-targets"' in page
    client.force_login(admin_user)
    page = client.get(reverse("deployments:list")).content.decode()
    assert "argo-prod-eu" in page and "everything-prod" in page


def test_the_target_and_delivery_pages_query_the_same_whatever_the_number_of_deliveries(
    client, member, fraud_target, receiver
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(member)
    url = reverse("deployments:target", args=[fraud_target.pk])

    def queries(path):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    one = _sent(fraud_target, member)
    few = (queries(url), queries(reverse("deployments:delivery", args=[one.pk])))
    receiver.answer(500, 500, 500)
    for _ in range(5):
        _sent(fraud_target, member)
    many = (queries(url), queries(reverse("deployments:delivery", args=[one.pk])))
    assert many == few
