"""Stale approvals reach the inbox after commit, also when a Celery worker finds them."""

import time

import pytest

from approvals.models import Review
from approvals.selectors import inbox_count
from approvals.services import policy_publish, review_approve, transition_request

from .conftest import REASON

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for(condition, seconds=20):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)
    return condition()


def test_a_card_edit_marks_the_approval_stale_once_it_commits(
    member, model, ready_version, approver, governance
):
    from registry.services import card_update

    policy_publish(
        actor=governance,
        model=model,
        stage="staging",
        rules={"required_approvals": 2},
        reason="Two people look at staging for this model.",
    )
    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    review_approve(actor=approver, request=request)
    assert inbox_count(approver) == 0
    card_update(actor=member, card=ready_version.card, sections={"intended_use": "Changed."})
    assert Review.objects.get(request=request).stale_at is not None
    assert inbox_count(approver) == 1


def test_a_worker_marks_approvals_stale_when_an_organisation_policy_changes(
    celery_worker, member, model, make_ready_version, approver, promote, governance
):
    version = make_ready_version(model)
    promote(version, "staging")
    request = transition_request(
        actor=member, version=version, to_stage="production", reason=REASON
    )
    review_approve(actor=approver, request=request)
    assert inbox_count(approver) == 0
    policy_publish(
        actor=governance,
        stage="production",
        risk_tier=model.risk_tier,
        rules={"required_approvals": 3},
        reason="Three approvals for production from now on.",
    )
    assert _wait_for(lambda: Review.objects.get(request=request).stale_at is not None)
    assert inbox_count(approver) == 1
