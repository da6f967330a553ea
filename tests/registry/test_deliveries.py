"""The webhook outbox, sent in this process against a real receiver on 127.0.0.1 (the
Celery worker's part is in test_webhooks_celery.py)."""

import json
import logging
import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.models import Delivery, DeliveryAttempt
from registry.services import (
    deliveries_claim,
    deliveries_due,
    delivery_send,
    deployment_target_rotate_secret,
)

pytestmark = pytest.mark.django_db


def _send(delivery) -> str:
    return delivery_send(delivery_id=delivery.pk)


def test_a_promotion_writes_one_delivery_per_subscribed_target(
    make_target, promote_now, version, make_model
):
    prod, _ = make_target()
    staging_only, _ = make_target(events=["version.promoted.staging"])
    make_target(events=["version.promoted.production"], active=False)
    promote_now(version)
    delivery = Delivery.objects.get()
    assert delivery.target == prod and delivery.state == "pending"
    assert delivery.event == "version.promoted.production"
    assert not Delivery.objects.filter(target=staging_only).exists()


def test_the_body_says_what_was_promoted_with_links(make_target, promote_now, version):
    make_target()
    request = promote_now(version)
    body = json.loads(Delivery.objects.get().body)
    assert body["type"] == "version.promoted.production"
    assert body["id"] == Delivery.objects.get().webhook_id
    data = body["data"]
    assert data["model"]["name"] == "fraud-scorer"
    assert data["version"] == {
        "number": 1,
        "label": "1.0.0",
        "artifact_uri": "s3://models/fraud-scorer/1/model.pkl",
        "artifact_sha256": version.artifact_sha256,
    }
    assert (data["from_stage"], data["to_stage"]) == ("none", "production")
    assert data["reason"] == "Beats the current model on the hold-out set."
    assert data["request_id"] == request.pk
    assert data["links"]["version"] == "https://modelgate.example.com/models/fraud-scorer/v/1/"


def test_a_promotion_that_rolls_back_leaves_no_delivery(make_target, promote_now, version):
    make_target()
    with pytest.raises(RuntimeError), transaction.atomic():
        promote_now(version)
        raise RuntimeError("the transaction fails after the promotion")
    assert not Delivery.objects.exists()


def test_a_target_scoped_to_another_team_gets_nothing(
    make_target, promote_now, version, other_team
):
    make_target(scope="team", team=other_team)
    promote_now(version)
    assert not Delivery.objects.exists()


def test_a_target_scoped_to_chosen_models_gets_only_theirs(
    make_target, promote_now, model, make_model, make_version
):
    other = make_model(name="churn-model")
    make_target(scope="models", models=[other])
    promote_now(make_version(model))
    assert not Delivery.objects.exists()
    promote_now(make_version(other))
    assert Delivery.objects.get().model == other


def test_a_delivered_webhook_verifies_and_is_logged(receiver, make_target, promote_now, version):
    _, secret = make_target()
    promote_now(version)
    delivery = Delivery.objects.get()
    assert _send(delivery) == "delivered"
    [got] = receiver.received
    assert got.webhook_id == delivery.webhook_id
    assert got.verify(secret)["data"]["version"]["number"] == 1
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code == 200 and attempt.response_body == "ok"
    assert attempt.latency_ms is not None
    assert _send(delivery) == "not due"  # delivered once
    assert len(receiver.received) == 1


def test_a_500_is_retried_with_the_same_webhook_id(receiver, make_target, promote_now, version):
    _, secret = make_target()
    receiver.answer(500)
    promote_now(version)
    delivery = Delivery.objects.get()
    assert _send(delivery) == "pending"
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_error == "The receiver answered 500."
    assert _send(delivery) == "delivered"  # base delay 0 in tests: due again at once
    first, second = receiver.received
    assert first.webhook_id == second.webhook_id == delivery.webhook_id
    assert second.verify(secret)
    assert list(DeliveryAttempt.objects.values_list("number", "status_code")) == [
        (1, 500),
        (2, 200),
    ]


def test_retry_after_is_honoured(receiver, make_target, promote_now, version):
    make_target()
    receiver.answer((429, {"Retry-After": "120"}))
    promote_now(version)
    delivery = Delivery.objects.get()
    before = timezone.now()
    assert _send(delivery) == "pending"
    delivery.refresh_from_db()
    assert delivery.next_attempt_at >= before + timedelta(seconds=119)
    assert _send(delivery) == "not due"


def test_a_hanging_receiver_times_out_and_is_retried(receiver, make_target, promote_now, version):
    make_target()
    receiver.answer((200, {}, 4))  # answers after 4 s; the total timeout is 2 s here
    promote_now(version)
    delivery = Delivery.objects.get()
    assert _send(delivery) == "pending"
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code is None and attempt.error == "No answer within 2 s."
    assert attempt.latency_ms < 3500
    assert _send(delivery) == "delivered"


def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_total(
    receiver, make_target, promote_now, version
):
    make_target()
    receiver.answer("trickle")  # each line comes well within the per-read timeout
    promote_now(version)
    assert _send(Delivery.objects.get()) == "pending"
    attempt = DeliveryAttempt.objects.get()
    assert attempt.error == "No answer within 2 s."
    assert 1900 <= attempt.latency_ms < 3000


def test_410_disables_the_target(receiver, make_target, promote_now, version, make_version):
    target, _ = make_target()
    receiver.answer(410)
    promote_now(version)
    assert _send(Delivery.objects.get()) == "failed"
    target.refresh_from_db()
    assert target.active is False
    assert "410" in target.disabled_reason
    event = AuditEvent.objects.get(action=Action.TARGET_DISABLED)
    assert event.actor_name == "system"
    promote_now(make_version(version.model))
    assert Delivery.objects.count() == 1  # nothing more for a disabled target


def test_other_4xx_fail_without_retry(receiver, make_target, promote_now, version):
    make_target()
    receiver.answer(400)
    promote_now(version)
    delivery = Delivery.objects.get()
    assert _send(delivery) == "failed"
    delivery.refresh_from_db()
    assert delivery.last_error == "The receiver answered 400; not retried."
    assert delivery.next_attempt_at is None
    assert _send(delivery) == "not due"


def test_the_last_retryable_failure_exhausts_the_delivery(
    receiver, make_target, promote_now, version, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    make_target()
    receiver.answer(503, 503, 503)
    promote_now(version)
    delivery = Delivery.objects.get()
    assert [_send(delivery) for _ in range(3)] == ["pending", "pending", "exhausted"]
    delivery.refresh_from_db()
    assert delivery.last_error == "Gave up after 3 attempts. The receiver answered 503."
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 3


def test_an_unreachable_receiver_is_retried(make_target, promote_now, version):
    from tests.servers import free_port

    make_target(url=f"http://127.0.0.1:{free_port()}/nobody-listens")
    promote_now(version)
    delivery = Delivery.objects.get()
    assert _send(delivery) == "pending"
    assert DeliveryAttempt.objects.get().error.startswith("Connection failed")


def test_an_address_refused_at_send_time_fails_without_retry(
    receiver, make_target, promote_now, version, settings
):
    """The target was saved while private addresses were allowed (or its name resolved
    elsewhere then): the attempt checks again and sends nothing."""
    make_target()
    promote_now(version)
    settings.MODELGATE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    delivery = Delivery.objects.get()
    assert _send(delivery) == "failed"
    assert "127.0.0.1 is a loopback address" in DeliveryAttempt.objects.get().error
    assert receiver.received == []


def test_a_name_that_rebinds_to_an_internal_address_is_refused_on_connect(
    receiver, make_target, promote_now, version, settings, monkeypatch
):
    """DNS said "public" when the URL was checked and "127.0.0.1" when the attempt
    connected: the connection itself refuses the peer, before anything is sent."""
    make_target()
    promote_now(version)
    settings.MODELGATE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    monkeypatch.setattr("registry.deployments.sending.url_check", lambda url: None)
    assert _send(Delivery.objects.get()) == "failed"
    error = DeliveryAttempt.objects.get().error
    assert error == "The receiver's address is refused: 127.0.0.1 is a loopback address."
    assert receiver.received == []


def test_during_a_rotation_both_secrets_sign(
    receiver, make_target, promote_now, version, admin_user
):
    target, old_secret = make_target()
    target, new_secret = deployment_target_rotate_secret(actor=admin_user, target=target)
    promote_now(version)
    assert _send(Delivery.objects.get()) == "delivered"
    [got] = receiver.received
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert got.verify(old_secret) == got.verify(new_secret)


def test_secrets_never_reach_the_logs(
    receiver, make_target, promote_now, version, admin_user, caplog
):
    caplog.set_level(logging.DEBUG)
    target, first = make_target()
    target, second = deployment_target_rotate_secret(actor=admin_user, target=target)
    receiver.answer(500)
    promote_now(version)
    delivery = Delivery.objects.get()
    _send(delivery), _send(delivery)
    assert len(receiver.received) == 2
    logged = caplog.text + repr([r.__dict__ for r in caplog.records])
    assert delivery.webhook_id in logged  # the sending was logged
    for secret in (first, second):
        assert secret not in logged and secret.removeprefix("whsec_") not in logged
    events = " ".join(str(e.changes) for e in AuditEvent.objects.all())
    assert first not in events and second not in events


def test_the_sweep_finds_only_due_deliveries(make_target, promote_now, version, make_version):
    make_target()
    promote_now(version)
    due = Delivery.objects.get()
    assert deliveries_due() == [due.pk]
    Delivery.objects.filter(pk=due.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))
    assert deliveries_due() == []


def test_a_claimed_delivery_is_leased(make_target, promote_now, version, settings):
    make_target()
    promote_now(version)
    [claim] = deliveries_claim()
    assert claim.attempt == 1
    assert deliveries_claim() == []  # leased: nobody else takes it
    assert "whsec_" not in repr(claim)
    # The worker died: once the lease runs out, the delivery is due again.
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    [again] = deliveries_claim()
    assert again.attempt == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_claimers_never_get_the_same_row(make_target, promote_now, make_model, make_version):
    for n in range(3):
        make_target(name=f"target-{n}")
    for n in range(4):
        promote_now(make_version(make_model(name=f"model-{n}")))
    assert Delivery.objects.count() == 12
    holding, release = threading.Event(), threading.Event()
    claimed: dict[str, list[int]] = {}

    def first():
        from django.db import connection

        with transaction.atomic():  # holds its row locks until released
            claimed["first"] = [c.delivery_id for c in deliveries_claim(limit=5)]
            holding.set()
            release.wait(10)
        connection.close()

    def second():
        from django.db import connection

        holding.wait(10)
        claimed["second"] = [c.delivery_id for c in deliveries_claim(limit=20)]
        release.set()
        connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(claimed["first"]) == 5
    assert len(claimed["second"]) == 7
    assert not set(claimed["first"]) & set(claimed["second"])


def test_an_emergency_rollback_is_announced(
    make_target, promote_now, model, make_version, django_user_model
):
    from django.contrib.auth.models import Group

    from approvals.services import rollback_emergency

    make_target(events=["version.rolled_back"])
    first, second = make_version(model), make_version(model)
    promote_now(first)
    promote_now(second)
    assert not Delivery.objects.exists()  # not subscribed to promotions
    breaker = django_user_model.objects.create_user("bree")
    breaker.groups.add(Group.objects.get(name="Break-glass"))
    breaker = django_user_model.objects.get(pk=breaker.pk)
    rollback_emergency(actor=breaker, model=model, reason="v2 blocks every payment from one bank.")
    data = json.loads(Delivery.objects.get(event="version.rolled_back").body)["data"]
    assert data["version"]["number"] == first.number
    assert data["replaced_version"]["number"] == second.number
    assert (data["by"], data["reason"]) == ("bree", "v2 blocks every payment from one bank.")


def test_a_production_promotion_names_the_version_it_replaces(
    make_target, promote_now, model, make_version
):
    make_target()
    first, second = make_version(model), make_version(model)
    promote_now(first)
    promote_now(second)
    latest = json.loads(Delivery.objects.order_by("-pk").first().body)["data"]
    assert latest["version"]["number"] == second.number
    assert latest["replaced_version"] == {"number": first.number, "label": first.label}


def test_without_a_broker_a_promotion_is_delivered_in_process(
    receiver, make_target, promote_now, version, django_capture_on_commit_callbacks
):
    """The embedded default (`rundemo`, no CELERY_BROKER_URL) runs tasks eagerly."""
    from config.celery import app

    _, secret = make_target()
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            promote_now(version)
    finally:
        app.conf.task_always_eager = eager
    assert Delivery.objects.get().state == "delivered"
    [got] = receiver.received
    assert got.verify(secret)["type"] == "version.promoted.production"
