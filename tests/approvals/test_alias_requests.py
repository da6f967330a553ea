"""A protected alias ("champion") is set the way a version reaches Production: a request
that the model's named Production approvers approve; unprotected aliases are set at once."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from approvals.audit_actions import ApprovalAction
from approvals.models import RequestKind, RequestState, TransitionExportRow
from approvals.selectors import inbox
from approvals.services import (
    alias_assign,
    alias_request,
    review_approve,
    review_reject,
    transition_request,
)
from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.errors import Conflict
from registry.models import ModelAlias
from registry.selectors import alias_resolve
from registry.stages import Stage

from .conftest import REASON

pytestmark = pytest.mark.django_db


def test_an_unprotected_alias_is_set_at_once(member, model, ready_version):
    alias, request = alias_assign(
        actor=member, model=model, name="challenger", version=ready_version
    )

    assert request is None
    assert alias.name == "challenger"
    assert alias_resolve(model, "challenger") == ready_version


def test_a_protected_alias_files_a_request_and_changes_nothing_yet(
    member, approver, model, ready_version
):
    alias, request = alias_assign(
        actor=member, model=model, name="champion", version=ready_version, reason=REASON
    )

    assert alias is None
    assert request.kind == RequestKind.ALIAS and request.alias == "champion"
    assert request.state == RequestState.OPEN
    assert not ModelAlias.objects.exists()
    # Waiting in the Production approver's inbox, not the requester's.
    page, count = inbox(approver)
    assert [r.pk for r in page.rows] == [request.pk] and count == 1
    event = AuditEvent.objects.get(action=ApprovalAction.REQUESTED, request_id=request.pk)
    assert event.changes["alias"] == "champion" and event.to_stage == ""


def test_a_protected_alias_needs_a_reason(member, approver, model, ready_version):
    with pytest.raises(ValidationError) as exc:
        alias_assign(actor=member, model=model, name="champion", version=ready_version)

    assert "Say why" in " ".join(exc.value.message_dict["reason"])
    assert not ModelAlias.objects.exists()


def test_approval_by_the_production_approvers_sets_it_and_keeps_the_stage(
    member, approver, second_approver, model, ready_version
):
    _, request = alias_assign(
        actor=member, model=model, name="champion", version=ready_version, reason=REASON
    )
    review_approve(actor=approver, request=request)
    request.refresh_from_db()
    if request.is_pending:  # the medium-risk default may want two approvals
        review_approve(actor=second_approver, request=request)
        request.refresh_from_db()

    assert request.state == RequestState.APPLIED
    assert alias_resolve(model, "champion") == ready_version
    assert ModelAlias.objects.get(name="champion").set_by == member  # who asked for it
    ready_version.refresh_from_db()
    assert ready_version.stage == Stage.NONE
    set_event = AuditEvent.objects.get(action=Action.ALIAS_SET)
    assert set_event.changes["request"] == request.pk
    applied = AuditEvent.objects.get(action=ApprovalAction.APPLIED, request_id=request.pk)
    assert applied.changes["alias"] == "champion" and applied.to_stage == ""
    # Alias requests change no stage: the transitions export does not list them.
    assert not TransitionExportRow.objects.filter(request=request).exists()


def test_moving_champion_goes_through_a_request_too(
    member, approver, second_approver, model, make_ready_version
):
    v1, v2 = make_ready_version(model), make_ready_version(model)
    for version in (v1, v2):
        _, request = alias_assign(
            actor=member, model=model, name="champion", version=version, reason=REASON
        )
        for reviewer in (approver, second_approver):
            request.refresh_from_db()
            if request.is_pending:
                review_approve(actor=reviewer, request=request)

    assert alias_resolve(model, "champion") == v2
    moved = AuditEvent.objects.get(action=Action.ALIAS_MOVED)
    assert moved.changes["version"] == [v1.number, v2.number]


def test_the_requester_never_approves_their_own_alias_request(
    member, approver, model, ready_version, admin_user
):
    from approvals.services import approver_grant

    approver_grant(actor=admin_user, stage="production", model=model, user=member)
    _, request = alias_assign(
        actor=member, model=model, name="champion", version=ready_version, reason=REASON
    )

    with pytest.raises(PermissionDenied) as exc:
        review_approve(actor=member, request=request)
    assert "someone else must review it" in str(exc.value)
    assert not ModelAlias.objects.exists()


def test_only_named_production_approvers_review_it(member, outsider, model, ready_version):
    _, request = alias_assign(
        actor=member, model=model, name="champion", version=ready_version, reason=REASON
    )

    with pytest.raises(PermissionDenied) as exc:
        review_approve(actor=outsider, request=request)
    assert "not a named approver for Production" in str(exc.value)


def test_a_rejected_alias_request_sets_nothing(member, approver, model, ready_version):
    _, request = alias_assign(
        actor=member, model=model, name="champion", version=ready_version, reason=REASON
    )
    review_reject(actor=approver, request=request, comment="Not before the fraud review")

    request.refresh_from_db()
    assert request.state == RequestState.REJECTED
    assert not ModelAlias.objects.exists()


def test_one_pending_request_per_alias(member, approver, model, make_ready_version):
    v1, v2 = make_ready_version(model), make_ready_version(model)
    _, first = alias_assign(actor=member, model=model, name="champion", version=v1, reason=REASON)

    with pytest.raises(Conflict) as exc:
        alias_request(actor=member, version=v2, alias="Champion", reason=REASON)
    assert f"Request #{first.pk}" in exc.value.message


def test_an_alias_request_does_not_block_a_promotion_of_the_same_version(
    member, model, ready_version, promote
):
    promote(ready_version, "staging")
    _, alias_req = alias_assign(
        actor=member, model=model, name="champion", version=ready_version, reason=REASON
    )

    # Both are judged by the Production policy; only the promotion moves a stage.
    promotion = transition_request(
        actor=member, version=ready_version, to_stage="production", reason=REASON
    )
    assert promotion.to_stage == alias_req.to_stage == "production"
    assert promotion.kind == RequestKind.PROMOTION and promotion.is_pending


def test_outsiders_cannot_file_alias_requests(outsider, model, ready_version):
    with pytest.raises(PermissionDenied):
        alias_assign(
            actor=outsider, model=model, name="champion", version=ready_version, reason=REASON
        )
    with pytest.raises(PermissionDenied):
        alias_assign(actor=outsider, model=model, name="challenger", version=ready_version)
