"""The audit page shows when the chain was last verified and lets an auditor start a
verification (a Celery task); one runs at a time. The real-worker run is in
tests/test_celery.py."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.audit_actions import Action
from audit.models import AuditEvent, VerificationRun, VerificationState
from audit.tasks import audit_verify_chain
from audit.verification import chain_verify

pytestmark = pytest.mark.django_db

PAGE = reverse("audit:events")
START = reverse("audit:verification_start")
STATUS = reverse("audit:verification_status")


@pytest.fixture
def eager_tasks():
    """Tasks queued on commit run in-process, as without a broker."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor)
    return client


def _started_events():
    return list(AuditEvent.objects.filter(action=Action.AUDIT_VERIFICATION_STARTED))


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for response in (client.post(START), client.get(STATUS)):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["member", "outsider"])
def test_only_auditors_and_admins_may_start_or_watch_one(client, request, who, version):
    client.force_login(request.getfixturevalue(who))
    assert client.post(START).status_code == 403
    assert client.get(STATUS).status_code == 403
    assert not VerificationRun.objects.exists()
    assert not _started_events()


def test_an_auditor_starts_a_verification_and_sees_the_result(
    auditor_client, auditor, version, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = auditor_client.post(START)
    assert response.status_code == 302
    assert response["Location"] == PAGE + "#verification"
    run = VerificationRun.objects.get()
    assert (run.state, run.ok, run.requested_by_name) == ("finished", True, "erin")
    assert run.started_at <= run.finished_at

    html = auditor_client.get(PAGE).content.decode()
    assert "Chain intact" in html
    assert f"{run.events_checked} events checked" in html
    assert "Last verified" in html and "started by erin" in html
    assert 'id="verified-at"' in html
    assert timezone.localtime(run.finished_at).strftime("%Y-%m-%d %H:%M:%S") in html
    [event] = _started_events()
    assert (event.actor_name, event.object_id) == ("erin", str(run.pk))
    # Its own start event is part of what it checked.
    assert run.head_sequence == event.sequence


def test_admins_may_start_one_too(
    client, admin_user, eager_tasks, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(START).status_code == 302
    assert VerificationRun.objects.get().ok is True


def test_it_is_a_post_only(auditor_client):
    assert auditor_client.get(START).status_code == 405
    assert not VerificationRun.objects.exists()


def test_a_running_verification_shows_as_running_and_another_start_piles_nothing_up(
    auditor_client, version, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        auditor_client.post(START)
        response = auditor_client.post(START, follow=True)
    assert len(queued) == 1  # one task queued, not two
    assert "is already running" in response.content.decode()
    [run] = VerificationRun.objects.all()
    assert run.state == VerificationState.RUNNING
    assert len(_started_events()) == 1

    html = auditor_client.get(PAGE).content.decode()
    assert 'data-state="running"' in html
    assert "Verification running" in html and "started by erin" in html
    assert 'id="verify-now" disabled' in html
    assert "audit-verification.js" in html

    status = auditor_client.get(STATUS).json()
    assert status["running"] is True
    assert status["current"]["requested_by"] == "erin"
    assert status["last"] is None

    # The worker gets to it: the page and the status show the result.
    audit_verify_chain(run.pk)
    status = auditor_client.get(STATUS).json()
    assert status["running"] is False
    assert status["last"]["ok"] is True and status["last"]["state"] == "finished"
    html = auditor_client.get(PAGE).content.decode()
    assert 'data-state="idle"' in html and "Chain intact" in html
    assert 'id="verify-now" disabled' not in html


def test_the_status_is_json_and_never_cached(auditor_client, version):
    chain_verify()
    response = auditor_client.get(STATUS)
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    body = response.json()
    assert body["last"]["events_checked"] == VerificationRun.objects.get().events_checked


def test_a_run_whose_worker_died_does_not_block_the_next_one(
    auditor_client, version, settings, django_capture_on_commit_callbacks
):
    settings.AUDIT_VERIFY_TIMEOUT_SECONDS = 600
    lost = VerificationRun.objects.create(
        state=VerificationState.RUNNING,
        started_at=timezone.now() - dt.timedelta(seconds=601),
        requested_by_name="somebody",
    )
    html = auditor_client.get(PAGE).content.decode()
    assert 'data-state="idle"' in html
    assert "did not finish" in html and "the worker stopped" in html
    with django_capture_on_commit_callbacks(execute=False) as queued:
        auditor_client.post(START)
    assert len(queued) == 1
    lost.refresh_from_db()
    assert lost.state == VerificationState.ABANDONED
    assert VerificationRun.objects.filter(state=VerificationState.RUNNING).count() == 1


def test_the_schedule_skips_while_one_is_running(auditor, version):
    from audit.services import verification_start

    run, started = verification_start(actor=auditor)
    assert started
    assert audit_verify_chain() == {"skipped": "a verification is already running"}
    assert VerificationRun.objects.count() == 1
    result = audit_verify_chain(run.pk)
    assert result["ok"] is True
    # Delivered again (acks_late): nothing runs twice.
    assert audit_verify_chain(run.pk) == {"run": run.pk, "skipped": "not running"}


def test_a_verification_that_crashes_is_shown_as_not_finished(
    auditor_client, auditor, version, monkeypatch
):
    from audit import verification
    from audit.services import verification_start

    def broken(**kwargs):
        raise ConnectionError("database went away")

    run, _ = verification_start(actor=auditor)
    monkeypatch.setattr(verification, "chain_check", broken)
    with pytest.raises(ConnectionError):
        audit_verify_chain(run.pk)
    run.refresh_from_db()
    assert run.state == VerificationState.ABANDONED
    html = auditor_client.get(PAGE).content.decode()
    assert "did not finish" in html and "ConnectionError" in html
    assert 'id="verify-now" disabled' not in html
