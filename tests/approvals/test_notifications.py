"""Eligible approvers hear about a request by email; the requester about its outcome."""

import pytest
from django.core import mail

from approvals.services import review_approve, review_reject, transition_request

from .conftest import REASON

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_tasks():
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_eligible_approvers_are_emailed_when_a_request_is_filed(
    member,
    ready_version,
    approver,
    second_approver,
    eager_tasks,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        request = transition_request(
            actor=member, version=ready_version, to_stage="staging", reason=REASON
        )
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["carol@example.com", "dave@example.com"]  # not alice, the requester
    message = mail.outbox[0]
    assert "Review requested: fraud-scorer v1 (1.0.0) to Staging" in message.subject
    assert REASON in message.body
    assert f"/approvals/requests/{request.pk}/" in message.body


def test_the_requester_hears_of_a_rejection_with_its_comment(
    member, ready_version, approver, eager_tasks, django_capture_on_commit_callbacks
):
    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    with django_capture_on_commit_callbacks(execute=True):
        review_reject(actor=approver, request=request, comment="Card lacks the Q3 slices.")
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert "carol rejected it: Card lacks the Q3 slices." in mail.outbox[0].body


def test_requester_and_approver_hear_when_it_is_applied(
    member, ready_version, approver, eager_tasks, django_capture_on_commit_callbacks
):
    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    with django_capture_on_commit_callbacks(execute=True):
        review_approve(actor=approver, request=request)
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "carol@example.com"]
    assert "Applied: fraud-scorer v1 (1.0.0) is now in Staging" in mail.outbox[0].subject


def test_a_broker_that_is_down_loses_the_email_but_not_the_request(
    client, member, ready_version, approver, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from django.urls import reverse
    from kombu.exceptions import OperationalError

    from approvals.models import TransitionRequest
    from approvals.tasks import request_notify

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(request_notify, "apply_async", broker_down)
    client.force_login(member)
    url = reverse("approvals:request_new", args=[ready_version.model.name, ready_version.number])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"to_stage": "staging", "reason": REASON})
    assert response.status_code == 302  # filed, and said so: not a 500 after the commit
    request = TransitionRequest.objects.get(version=ready_version)
    assert f"E-mail about request {request.pk} (requested) not queued" in caplog.text
    assert mail.outbox == []
