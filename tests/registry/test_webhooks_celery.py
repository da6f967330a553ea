"""Promotions reach a real receiver on 127.0.0.1 (and a Git target's bare repository on
disk) through a real Celery worker and the Redis broker; retries come from the beat
sweep, as in production."""

import time

import pytest

from registry.models import Delivery, DeliveryAttempt
from registry.tasks import deliveries_sweep, delivery_send

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for_state(delivery, state, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery.refresh_from_db()
        if delivery.state == state:
            return delivery
        time.sleep(0.1)
    raise AssertionError(f"delivery {delivery.webhook_id} is {delivery.state}, not {state}")


def _wait_for_attempts(delivery, count, timeout=20):
    deadline = time.monotonic() + timeout
    while DeliveryAttempt.objects.filter(delivery=delivery).count() < count:
        assert time.monotonic() < deadline, f"fewer than {count} attempts logged"
        time.sleep(0.1)


def test_beat_sweeps_the_outbox():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["deliveries-sweep"]
    assert entry["task"] == deliveries_sweep.name
    assert entry["schedule"] == settings.WEBHOOK_SWEEP_INTERVAL_SECONDS > 0


def test_a_promotion_arrives_signed(celery_worker, receiver, make_target, promote_now, version):
    _, secret = make_target()
    promote_now(version)
    [got] = receiver.wait_for(1)
    payload = got.verify(secret)
    assert payload["type"] == "version.promoted.production"
    assert payload["data"]["model"]["name"] == "fraud-scorer"
    assert payload["data"]["version"]["label"] == "1.0.0"
    _wait_for_state(Delivery.objects.get(), "delivered")


def test_500_then_200_arrives_twice_with_the_same_id(
    celery_worker, receiver, make_target, promote_now, version
):
    _, secret = make_target()
    receiver.answer(500)
    promote_now(version)
    receiver.wait_for(1)
    delivery = Delivery.objects.get()
    _wait_for_attempts(delivery, 1)
    deliveries_sweep.delay()  # what beat does every WEBHOOK_SWEEP_INTERVAL_SECONDS
    first, second = receiver.wait_for(2)
    assert first.webhook_id == second.webhook_id == delivery.webhook_id
    assert second.verify(secret)
    _wait_for_state(delivery, "delivered")
    assert delivery.attempts == 2


def test_a_hanging_receiver_times_out_and_the_retry_delivers(
    celery_worker, receiver, make_target, promote_now, version
):
    make_target()
    receiver.answer((200, {}, 5))  # 5 s; the total timeout is 2 s in these tests
    promote_now(version)
    delivery = Delivery.objects.get()
    _wait_for_attempts(delivery, 1)
    assert DeliveryAttempt.objects.get().error == "No answer within 2 s."
    deliveries_sweep.delay()
    _wait_for_state(delivery, "delivered")
    assert len(receiver.received) == 2


def test_410_disables_the_target(celery_worker, receiver, make_target, promote_now, version):
    target, _ = make_target()
    receiver.answer(410)
    promote_now(version)
    _wait_for_state(Delivery.objects.get(), "failed")
    target.refresh_from_db()
    assert target.active is False


def test_a_promotion_while_the_broker_is_down_is_delivered_later(
    celery_worker_later, receiver, make_target, promote_now, version, monkeypatch, caplog
):
    """Queueing after commit goes to a broker address nothing listens on, so it fails as
    it does when Redis is down; the promotion stands, the outbox row waits, and the
    sweep delivers it once a worker runs."""
    from config.celery import app

    _, secret = make_target()
    real_apply_async = delivery_send.apply_async

    def unreachable_broker(*args, **kwargs):
        with app.connection_for_write("redis://127.0.0.1:1/0") as dead:
            return real_apply_async(*args, connection=dead, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(delivery_send, "apply_async", unreachable_broker)
        promote_now(version)
    version.refresh_from_db()
    assert version.stage == "production"
    delivery = Delivery.objects.get()
    assert delivery.state == "pending" and delivery.attempts == 0
    assert "the sweep will send them" in caplog.text
    time.sleep(0.5)
    assert receiver.received == []

    with celery_worker_later():
        deliveries_sweep.delay()
        [got] = receiver.wait_for(1)
        assert got.verify(secret)["data"]["to_stage"] == "production"
        _wait_for_state(delivery, "delivered")


def test_a_promotion_reaches_a_git_target_through_the_worker(
    celery_worker, make_git_target, bare_repo, promote_now, version
):
    make_git_target()
    request = promote_now(version)
    delivery = _wait_for_state(Delivery.objects.get(), "delivered")
    assert bare_repo.commits() == ["Deploy fraud-scorer v1 (1.0.0) to production"]
    assert f"Modelgate-Request: {request.pk}" in bare_repo.message()
    assert bare_repo.manifest()["models"]["fraud-scorer"]["version"] == 1
    assert delivery.attempts == 1
