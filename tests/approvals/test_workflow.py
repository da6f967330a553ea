"""Requesting, reviewing and applying stage transitions through the services."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from approvals.audit_actions import ApprovalAction
from approvals.errors import ApprovalError
from approvals.models import RequestKind, RequestState
from approvals.services import (
    review_approve,
    review_reject,
    rollback_emergency,
    transition_apply,
    transition_request,
    transition_withdraw,
)
from audit.models import AuditEvent
from registry.errors import Conflict
from registry.stages import Stage

from .conftest import REASON

pytestmark = pytest.mark.django_db


def _last_event(action):
    return AuditEvent.objects.filter(action=action).order_by("-sequence").first()


def test_a_request_records_its_reason_policy_and_gates(member, ready_version, approver):
    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    assert request.state == RequestState.OPEN
    assert request.reason == REASON
    assert request.policy.stage == "staging" and request.policy.risk_tier == "medium"
    assert request.gates_passed is True
    assert request.gate_results[0]["check"] == "Allowed move"
    event = _last_event(ApprovalAction.REQUESTED)
    assert event.request_id == request.pk and event.reason == REASON
    assert event.to_stage == "staging" and event.changes["gates_passed"] is True


@pytest.mark.parametrize("reason", ["", "ok", "ship it now please", "   " + "x" * 30])
def test_a_request_needs_a_meaningful_reason(member, ready_version, reason):
    with pytest.raises(ValidationError) as exc:
        transition_request(actor=member, version=ready_version, to_stage="staging", reason=reason)
    assert "reason" in exc.value.message_dict


def test_outsiders_cannot_request(outsider, ready_version):
    with pytest.raises(PermissionDenied, match="Only members of team Fraud Detection"):
        transition_request(actor=outsider, version=ready_version, to_stage="staging", reason=REASON)


def test_medium_risk_versions_go_to_staging_before_production(member, ready_version):
    with pytest.raises(ValidationError, match="request Staging first"):
        transition_request(
            actor=member, version=ready_version, to_stage="production", reason=REASON
        )


def test_moves_outside_the_state_machine_are_refused(member, ready_version, promote):
    promote(ready_version, "staging")
    assert ready_version.stage == Stage.STAGING
    with pytest.raises(ValidationError, match="already in Staging"):
        transition_request(actor=member, version=ready_version, to_stage="staging", reason=REASON)
    with pytest.raises(ValidationError, match="Choose one of"):
        transition_request(actor=member, version=ready_version, to_stage="none", reason=REASON)


def test_a_second_pending_request_for_the_same_move_is_a_conflict(member, ready_version):
    transition_request(actor=member, version=ready_version, to_stage="staging", reason=REASON)
    with pytest.raises(Conflict, match="already waiting"):
        transition_request(actor=member, version=ready_version, to_stage="staging", reason=REASON)


def test_the_requester_cannot_approve_their_own_request(member, ready_version, admin_user, model):
    from approvals.services import approver_grant

    approver_grant(actor=admin_user, stage="staging", model=model, user=member)
    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    with pytest.raises(PermissionDenied, match="You filed this request"):
        review_approve(actor=member, request=request)
    request.refresh_from_db()
    assert request.state == RequestState.OPEN and not request.reviews.exists()


def test_the_versions_author_cannot_approve_under_separation_of_duties(
    member, ready_version, admin_user, model
):
    from approvals.services import approver_grant

    approver_grant(actor=admin_user, stage="staging", model=model, user=member)
    request = transition_request(
        actor=admin_user, version=ready_version, to_stage="staging", reason=REASON
    )
    with pytest.raises(PermissionDenied, match="You registered v1"):
        review_approve(actor=member, request=request)


def test_only_named_approvers_approve_and_the_refusal_names_them(
    member, outsider, ready_version, approver
):
    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    with pytest.raises(PermissionDenied, match="Who may approve: carol"):
        review_approve(actor=outsider, request=request)


def test_each_approver_counts_once(member, ready_version, approver, second_approver, model):
    ready_version.refresh_from_db()
    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    # medium staging needs one approval: publish a stricter model policy first
    assert request.policy.required_approvals == 1
    review_approve(actor=approver, request=request)
    request.refresh_from_db()
    assert request.state == RequestState.APPLIED
    with pytest.raises(ApprovalError, match="already applied"):
        review_approve(actor=second_approver, request=request)


def test_two_approvals_take_a_version_to_production_and_archive_the_old_one(
    member, model, make_ready_version, promote, approver, second_approver
):
    v1 = make_ready_version(model)
    promote(v1, "staging")
    first = promote(v1, "production")
    assert first.state == RequestState.APPLIED
    v1.refresh_from_db()
    assert v1.stage == Stage.PRODUCTION

    v2 = make_ready_version(model)
    promote(v2, "staging")
    request = transition_request(actor=member, version=v2, to_stage="production", reason=REASON)
    review_approve(actor=approver, request=request, comment="Metrics hold up.")
    request.refresh_from_db()
    assert request.state == RequestState.OPEN  # one of two
    with pytest.raises(ApprovalError, match="already approved"):
        review_approve(actor=approver, request=request)
    review_approve(actor=second_approver, request=request)
    request.refresh_from_db()
    v1.refresh_from_db()
    v2.refresh_from_db()
    model.refresh_from_db()
    assert request.state == RequestState.APPLIED
    assert (v1.stage, v2.stage, model.current_stage) == ("archived", "production", "production")

    event = _last_event(ApprovalAction.APPLIED)
    assert event.hash == request.event_hash
    assert (event.from_stage, event.to_stage, event.reason) == ("staging", "production", REASON)
    assert event.changes["requester"] == "alice"
    assert [a["user"] for a in event.changes["approvers"]] == ["carol", "dave"]
    assert event.changes["approvers"][0]["comment"] == "Metrics hold up."
    assert event.changes["archived_version"] == 1
    assert set(event.changes["digests"]) == {
        "artifact",
        "card",
        "metrics",
        "metadata",
        "policy",
        "baseline",
    }
    assert all(g["passed"] for g in event.changes["gates"])


def test_a_rejection_needs_a_comment_and_closes_the_request(member, ready_version, approver):
    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    with pytest.raises(ValidationError, match="Say why you reject it"):
        review_reject(actor=approver, request=request, comment="  ")
    review_reject(actor=approver, request=request, comment="The card misses the Q3 slices.")
    request.refresh_from_db()
    assert request.state == RequestState.REJECTED
    assert request.close_comment == "The card misses the Q3 slices."
    ready_version.refresh_from_db()
    assert ready_version.stage == Stage.NONE
    with pytest.raises(ApprovalError, match="already rejected"):
        review_approve(actor=approver, request=request)


def test_only_the_requester_withdraws(member, outsider, ready_version):
    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    with pytest.raises(PermissionDenied, match="Only the person who filed"):
        transition_withdraw(actor=outsider, request=request)
    transition_withdraw(actor=member, request=request, comment="Found a bug.")
    request.refresh_from_db()
    assert request.state == RequestState.WITHDRAWN
    assert _last_event(ApprovalAction.WITHDRAWN).changes == {"comment": "Found a bug."}


def test_an_approval_goes_stale_when_the_metrics_change(
    member, model, make_ready_version, promote, approver, second_approver
):
    from registry.services import metrics_attach

    version = make_ready_version(model)
    promote(version, "staging")
    request = transition_request(
        actor=member, version=version, to_stage="production", reason=REASON
    )
    review_approve(actor=approver, request=request)
    metrics_attach(
        actor=member,
        version=version,
        metrics=[{"name": "recall", "value": 0.7, "dataset": "holdout"}],
    )
    review_approve(actor=second_approver, request=request)
    request.refresh_from_db()
    version.refresh_from_db()
    assert request.state == RequestState.OPEN
    assert version.stage == Stage.STAGING
    assert "the metrics changed no longer count" in request.blocked_reason
    # carol looks again and approves what is there now
    review_approve(actor=approver, request=request)
    request.refresh_from_db()
    assert request.state == RequestState.APPLIED


def test_failing_gates_block_an_approved_request_until_they_pass(
    member, model, make_version, approver
):
    from registry.services import card_update

    version = make_version(model)  # an empty card: the staging gates fail
    request = transition_request(actor=member, version=version, to_stage="staging", reason=REASON)
    assert request.gates_passed is False
    failing = [g["check"] for g in request.gate_results if not g["passed"]]
    assert failing == ["Card: Model details", "Card: Intended use"]
    review_approve(actor=approver, request=request)
    request.refresh_from_db()
    assert request.state == RequestState.BLOCKED
    assert "Card: Model details: empty" in request.blocked_reason
    version.refresh_from_db()
    assert version.stage == Stage.NONE

    card_update(
        actor=member,
        card=version.card,
        sections={"model_details": "A GBM.", "intended_use": "Checkout scoring."},
    )
    # the card changed, so carol's approval no longer counts: she approves again
    assert transition_apply(actor=member, request=request) is False
    review_approve(actor=approver, request=request)
    request.refresh_from_db()
    version.refresh_from_db()
    assert request.state == RequestState.APPLIED and version.stage == Stage.STAGING


def test_archiving_a_medium_risk_version_needs_no_approval(member, ready_version):
    request = transition_request(
        actor=member, version=ready_version, to_stage="archived", reason=REASON
    )
    ready_version.refresh_from_db()
    assert request.state == RequestState.APPLIED
    assert ready_version.stage == Stage.ARCHIVED


def test_emergency_rollback_restores_the_previous_production_version(
    member, model, make_ready_version, promote, approver, second_approver, django_user_model
):
    from django.contrib.auth.models import Group

    v1, v2 = make_ready_version(model), make_ready_version(model)
    for v in (v1, v2):
        promote(v, "staging")
        promote(v, "production")
    breaker = django_user_model.objects.create_user("bree", "bree@example.com", "pw")
    with pytest.raises(PermissionDenied, match="break-glass"):
        rollback_emergency(actor=breaker, model=model, reason="v2 doubles the false positives")
    breaker.groups.add(Group.objects.get(name="Break-glass"))
    breaker = django_user_model.objects.get(pk=breaker.pk)
    review = rollback_emergency(actor=breaker, model=model, reason="v2 doubles the false positives")
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.stage, v2.stage) == (Stage.PRODUCTION, Stage.ARCHIVED)
    assert review.kind == RequestKind.ROLLBACK_REVIEW and review.state == RequestState.OPEN
    event = _last_event(ApprovalAction.ROLLED_BACK)
    assert event.reason == "v2 doubles the false positives"
    assert event.changes["replaced_version"] == 2
    for reviewer in (approver, second_approver):
        review_approve(actor=reviewer, request=review)
    review.refresh_from_db()
    v1.refresh_from_db()
    assert review.state == RequestState.APPLIED and v1.stage == Stage.PRODUCTION


def test_the_inbox_lists_what_waits_for_each_approver(
    member, ready_version, approver, second_approver, django_assert_max_num_queries
):
    from approvals.selectors import inbox, inbox_count

    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    with django_assert_max_num_queries(3):
        page, count = inbox(approver)
        assert [r.pk for r in page.rows] == [request.pk] and count == 1
        assert inbox_count(approver) == 1
    assert inbox(member)[0].rows == [] and inbox_count(member) == 0
    review_reject(actor=second_approver, request=request, comment="Not yet.")
    assert inbox(approver)[0].rows == [] and inbox_count(approver) == 0
