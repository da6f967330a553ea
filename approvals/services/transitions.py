"""Transition requests, reviews and applying them: the only way a version's stage changes.

Every function here runs in one transaction that first locks the model's row, so that
requests, reviews and applications for one model happen one at a time (two approvers
clicking at once, or two versions approved at once, are serialised), then checks state,
changes it, and writes its audit event. Notifications are queued after commit.
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import event_record
from registry.deployments.models import DeliveryEvent
from registry.errors import Conflict
from registry.models import ModelVersion, RegisteredModel
from registry.permissions import can_edit_model
from registry.services import alias_set, deliveries_enqueue
from registry.stages import (
    STAGE_LABELS,
    TARGET_STAGES,
    Stage,
    StageChangeKind,
    stage_set,
    transition_problem,
)

from ..approvers import approver_ids, approvers
from ..audit_actions import ApprovalAction
from ..digests import PART_LABELS
from ..errors import ApprovalError
from ..export import export_row_write
from ..gates import as_rows
from ..models import (
    PENDING_STATES,
    Decision,
    Policy,
    RequestKind,
    RequestState,
    Review,
    TransitionRequest,
)
from ..policies import policy_for
from ..status import (
    RequestStatus,
    previous_production,
    production_version,
    request_status,
)
from ..tasks import request_notify

ROLLBACK_PERMISSION = "approvals.rollback_emergency"

logger = logging.getLogger("modelgate.approvals")


# --- Helpers -------------------------------------------------------------------------


def _lock_model(model_id: int) -> RegisteredModel:
    return (
        RegisteredModel.objects.select_for_update(of=("self",))
        .select_related("team")
        .get(pk=model_id)
    )


def _lock_request(request: TransitionRequest) -> TransitionRequest:
    model = _lock_model(request.model_id)
    locked = (
        TransitionRequest.objects.select_for_update(of=("self",))
        .select_related("version", "version__model", "requester", "policy")
        .get(pk=request.pk)
    )
    locked.model = model
    locked.version.model = model
    return locked


def _require_pending(request: TransitionRequest) -> None:
    if request.state not in PENDING_STATES:
        raise ApprovalError(
            f"Request #{request.pk} is already {request.get_state_display().lower()}; "
            "nothing more can be done with it."
        )


def _clean_reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    least = settings.APPROVAL_REASON_MIN_CHARS
    if len(reason) < least or len(reason.split()) < 3:
        raise ValidationError(
            {
                field: [
                    f"Say why in at least {least} characters and three words; it is kept for ever."
                ]
            }
        )
    if len(reason) > settings.APPROVAL_REASON_MAX_CHARS:
        raise ValidationError(
            {field: [f"Keep it under {settings.APPROVAL_REASON_MAX_CHARS} characters."]}
        )
    return reason


def _clean_comment(comment: str, *, required: bool) -> str:
    comment = (comment or "").strip()
    if required and not comment:
        raise ValidationError({"comment": ["Say why you reject it; the requester reads this."]})
    if len(comment) > settings.APPROVAL_REASON_MAX_CHARS:
        raise ValidationError(
            {"comment": [f"Keep it under {settings.APPROVAL_REASON_MAX_CHARS} characters."]}
        )
    return comment


def _policy_ref(policy: Policy) -> dict:
    return {"id": policy.pk, "number": policy.number, "where": policy.where}


def _event(action, *, actor, request: TransitionRequest, **fields):
    return event_record(
        actor=actor,
        action=action,
        model=request.model,
        version=request.version,
        object_type="transition_request",
        object_id=request.pk,
        request_id=request.pk,
        **fields,
    )


def _store_status(request: TransitionRequest, status: RequestStatus) -> None:
    request.policy = status.policy
    request.gate_results = as_rows(status.gates)
    request.gates_passed = status.gates_passed
    request.gates_checked_at = timezone.now()


def _notify(request: TransitionRequest, what: str) -> None:
    pk = request.pk
    transaction.on_commit(lambda: _queue_notification(pk, what))


def _queue_notification(pk: int, what: str) -> None:
    # After the commit the change is made whatever the broker says: a broker that is
    # down must not turn its response into an error. The e-mail is lost, and logged.
    try:
        request_notify.apply_async(args=[pk, what], retry=False)
    except Exception as exc:  # any broker failure
        logger.error("E-mail about request %s (%s) not queued: %s", pk, what, exc)


# --- Requesting ---------------------------------------------------------------------


@transaction.atomic
def transition_request(
    *, actor, version: ModelVersion, to_stage: str, reason: str
) -> TransitionRequest:
    """File a request to move `version` to `to_stage`, with the gates evaluated now.

    Only people who may edit the model request. The move must be one the state machine
    (registry.stages) and the policy allow; gates may fail (the request is filed so
    reviewers see it, but cannot apply until they pass). One pending request per version
    and stage. With a policy that needs no approvals, it applies at once if the gates pass.
    """
    model = _lock_model(version.model_id)
    version = ModelVersion.objects.select_related("model").get(pk=version.pk)
    version.model = model
    if not can_edit_model(actor, model):
        raise PermissionDenied(
            f"Only members of team {model.team.name} can request stage changes of {model.name}."
        )
    if to_stage not in TARGET_STAGES:
        names = ", ".join(STAGE_LABELS[s] for s in TARGET_STAGES)
        raise ValidationError({"to_stage": [f"Choose one of: {names}."]})
    reason = _clean_reason(reason)
    applied = policy_for(model, to_stage)
    problem = transition_problem(
        version.stage, to_stage, allow_skip_staging=applied.policy.allow_skip_staging
    )
    if problem:
        raise ValidationError({"to_stage": [problem]})
    pending = (
        TransitionRequest.objects.filter(
            version=version, to_stage=to_stage, state__in=PENDING_STATES
        )
        .exclude(kind=RequestKind.ALIAS)
        .first()
    )
    if pending is not None:
        raise Conflict(
            f"Request #{pending.pk} to move v{version.number} to {STAGE_LABELS[to_stage]} "
            "is already waiting; withdraw it first or add to it."
        )
    baseline = production_version(model)
    request = TransitionRequest(
        model=model,
        version=version,
        from_stage=version.stage,
        to_stage=to_stage,
        reason=reason,
        requester=actor,
        policy=applied.policy,
        baseline=baseline if baseline and baseline.pk != version.pk else None,
    )
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:
        raise Conflict(
            "A request for this version and stage was filed at the same moment."
        ) from None
    status = request_status(request)
    _store_status(request, status)
    request.save()
    _event(
        ApprovalAction.REQUESTED,
        actor=actor,
        request=request,
        from_stage=request.from_stage,
        to_stage=to_stage,
        reason=reason,
        changes={
            "policy": _policy_ref(status.policy),
            "gates": request.gate_results,
            "gates_passed": status.gates_passed,
        },
    )
    if status.policy.required_approvals == 0:
        _try_apply(request, status, actor=actor)
        export_row_write(request)
    else:
        _notify(request, "requested")
    return request


@transaction.atomic
def transition_withdraw(
    *, actor, request: TransitionRequest, comment: str = ""
) -> TransitionRequest:
    """The requester takes back a pending request."""
    request = _lock_request(request)
    if actor.pk != request.requester_id and not actor.is_superuser:
        raise PermissionDenied("Only the person who filed a request can withdraw it.")
    _require_pending(request)
    comment = _clean_comment(comment, required=False)
    request.state = RequestState.WITHDRAWN
    request.closed_at, request.closed_by, request.close_comment = timezone.now(), actor, comment
    event = _event(
        ApprovalAction.WITHDRAWN, actor=actor, request=request, changes={"comment": comment}
    )
    request.event_hash = event.hash
    request.save()
    export_row_write(request)
    return request


# --- Reviewing ------------------------------------------------------------------------


def _require_may_review(actor, request: TransitionRequest, policy: Policy) -> None:
    model = request.model
    if actor.pk == request.requester_id:
        raise PermissionDenied("You filed this request: someone else must review it.")
    if policy.separation_of_duties and actor.pk == request.version.created_by_id:
        raise PermissionDenied(
            f"You registered v{request.version.number}: under separation of duties its "
            "author cannot review its promotion."
        )
    if actor.pk not in approver_ids(model, request.to_stage):
        names = ", ".join(u.get_username() for u in approvers(model, request.to_stage))
        raise PermissionDenied(
            f"You are not a named approver for {STAGE_LABELS[request.to_stage]} of "
            f"{model.name}. Who may approve: {names or 'nobody yet; ask governance staff'}."
        )


@transaction.atomic
def review_approve(*, actor, request: TransitionRequest, comment: str = "") -> TransitionRequest:
    """Record `actor`'s approval, bound to the digests of what the request is about now,
    and apply the transition when the approvals are complete and the gates pass."""
    request = _lock_request(request)
    _require_pending(request)
    status = request_status(request)
    _require_may_review(actor, request, status.policy)
    if any(a.review.reviewer_id == actor.pk and not a.stale for a in status.approvals):
        raise ApprovalError("You have already approved this request; each approver counts once.")
    comment = _clean_comment(comment, required=False)
    Review.objects.create(
        request=request,
        reviewer=actor,
        decision=Decision.APPROVE,
        comment=comment,
        digests=status.digests,
    )
    _event(
        ApprovalAction.APPROVED,
        actor=actor,
        request=request,
        changes={"comment": comment, "digests": status.digests},
    )
    _try_apply(request, request_status(request), actor=actor)
    export_row_write(request)  # closed, or a rollback's review that gained an approval
    return request


@transaction.atomic
def review_reject(*, actor, request: TransitionRequest, comment: str) -> TransitionRequest:
    """A named approver turns the request down, saying why; it is closed."""
    request = _lock_request(request)
    _require_pending(request)
    status = request_status(request)
    _require_may_review(actor, request, status.policy)
    comment = _clean_comment(comment, required=True)
    Review.objects.create(
        request=request,
        reviewer=actor,
        decision=Decision.REJECT,
        comment=comment,
        digests=status.digests,
    )
    request.state = RequestState.REJECTED
    request.closed_at, request.closed_by, request.close_comment = timezone.now(), actor, comment
    event = _event(
        ApprovalAction.REJECTED, actor=actor, request=request, changes={"comment": comment}
    )
    request.event_hash = event.hash
    request.save()
    export_row_write(request)
    _notify(request, "rejected")
    return request


# --- Applying ---------------------------------------------------------------------------


def _block(request: TransitionRequest, status: RequestStatus, why: str, *, actor) -> None:
    _store_status(request, status)
    changed = request.state != RequestState.BLOCKED or request.blocked_reason != why
    request.state, request.blocked_reason = RequestState.BLOCKED, why
    request.save()
    if changed:
        _event(
            ApprovalAction.BLOCKED,
            actor=actor,
            request=request,
            changes={"why": why, "gates": request.gate_results},
        )


def _stale_why(status: RequestStatus) -> str:
    parts = sorted({p for a in status.approvals for p in a.stale}, key=list(PART_LABELS).index)
    return ", ".join(PART_LABELS[p] for p in parts)


def _try_apply(request: TransitionRequest, status: RequestStatus, *, actor) -> bool:
    """Apply `request` if its approvals are complete and its gates pass; otherwise store
    why not. The caller holds the model's lock."""
    if status.approvals_missing:
        _store_status(request, status)
        if request.state == RequestState.BLOCKED:
            request.state, request.blocked_reason = RequestState.OPEN, ""
        stale = _stale_why(status)
        if stale:
            request.blocked_reason = (
                f"Approvals given before {stale} changed no longer count; "
                f"{status.approvals_missing} more needed."
            )
        request.save()
        return False
    if not status.gates_passed:
        failing = "; ".join(f"{g.check}: {g.actual}" for g in status.gates if not g.passed)
        _block(request, status, f"Approved, but gates fail: {failing}", actor=actor)
        return False
    _apply(request, status, actor=actor)
    return True


def _apply(request: TransitionRequest, status: RequestStatus, *, actor) -> None:
    version = request.version
    archived = None
    stage_fields = {"from_stage": version.stage, "to_stage": request.to_stage}
    if request.kind == RequestKind.ALIAS:  # points the alias; no stage changes
        alias_set(
            actor=actor,
            model=request.model,
            name=request.alias,
            version=version,
            approved_request=request,
        )
        stage_fields = {}
    elif request.kind == RequestKind.PROMOTION:
        if request.to_stage == Stage.PRODUCTION and status.baseline is not None:
            archived = status.baseline
            stage_set(
                version=archived,
                to_stage=Stage.ARCHIVED,
                kind=StageChangeKind.SUPERSEDED,
                request_id=request.pk,
            )
        stage_set(
            version=version,
            to_stage=request.to_stage,
            kind=StageChangeKind.APPLIED,
            request_id=request.pk,
        )
    else:  # a rollback review confirms what the rollback already did
        stage_fields["from_stage"] = request.from_stage
    _store_status(request, status)
    request.state, request.blocked_reason = RequestState.APPLIED, ""
    request.closed_at, request.closed_by = timezone.now(), actor
    approvals = [
        {
            "user": r.reviewer.get_username(),
            "at": r.created_at.isoformat(),
            "comment": r.comment,
            "digests": r.digests,
        }
        for r in status.counted
    ]
    event = _event(
        ApprovalAction.APPLIED,
        actor=actor,
        request=request,
        reason=request.reason,
        **stage_fields,
        changes={
            "kind": request.kind,
            **({"alias": request.alias} if request.kind == RequestKind.ALIAS else {}),
            "requester": request.requester.get_username(),
            "approvers": approvals,
            "gates": request.gate_results,
            "policy": _policy_ref(status.policy),
            "digests": status.digests,
            "archived_version": archived.number if archived else None,
        },
    )
    request.event_hash = event.hash
    request.save()
    if request.kind == RequestKind.PROMOTION:  # a rollback review changes no stage
        deliveries_enqueue(
            version=version, from_stage=stage_fields["from_stage"], to_stage=request.to_stage,
            reason=request.reason, approvers=[a["user"] for a in approvals],
            request_id=request.pk, actor=actor, replaced_version=archived,
        )  # fmt: skip
    _notify(request, "applied")


@transaction.atomic
def transition_apply(*, actor, request: TransitionRequest) -> bool:
    """Try again to apply an approved request that was blocked: re-evaluates its gates and
    approvals now. Returns whether it applied. Open to the model's team and its approvers."""
    request = _lock_request(request)
    _require_pending(request)
    if not (
        can_edit_model(actor, request.model)
        or actor.pk in approver_ids(request.model, request.to_stage)
    ):
        raise PermissionDenied("Only the model's team and its approvers can apply a request.")
    applied = _try_apply(request, request_status(request), actor=actor)
    export_row_write(request)
    return applied


# --- Emergency rollback ------------------------------------------------------------------


@transaction.atomic
def rollback_emergency(*, actor, model: RegisteredModel, reason: str) -> TransitionRequest:
    """Break glass: put the previous Production version back at once, archiving the
    current one, with a mandatory reason. Opens a follow-up review that named approvers
    must close. Needs the approvals.rollback_emergency permission."""
    model = _lock_model(model.pk)
    if not actor.has_perm(ROLLBACK_PERMISSION):
        raise PermissionDenied("Only holders of the break-glass permission can roll back.")
    reason = _clean_reason(reason)
    current = production_version(model)
    previous = previous_production(model)
    if current is None or previous is None:
        raise ApprovalError(
            f"{model.name} has no earlier Production version to go back to."
            if current
            else f"{model.name} has no version in Production."
        )
    applied = policy_for(model, Stage.PRODUCTION)
    stage_set(version=current, to_stage=Stage.ARCHIVED, kind=StageChangeKind.ROLLED_BACK)
    stage_set(version=previous, to_stage=Stage.PRODUCTION, kind=StageChangeKind.ROLLBACK)
    previous.model = model
    request = TransitionRequest.objects.create(
        model=model,
        version=previous,
        kind=RequestKind.ROLLBACK_REVIEW,
        from_stage=Stage.ARCHIVED,
        to_stage=Stage.PRODUCTION,
        reason=reason,
        requester=actor,
        policy=applied.policy,
        baseline=current,
    )
    status = request_status(request)
    _store_status(request, status)
    request.save()
    event = _event(
        ApprovalAction.ROLLED_BACK,
        actor=actor,
        request=request,
        from_stage=Stage.ARCHIVED,
        to_stage=Stage.PRODUCTION,
        reason=reason,
        changes={"replaced_version": current.number, "review_request": request.pk},
    )
    request.rollback_event_hash = event.hash
    request.save(update_fields=["rollback_event_hash"])
    export_row_write(request)
    deliveries_enqueue(
        version=previous, from_stage=Stage.ARCHIVED, to_stage=Stage.PRODUCTION, reason=reason,
        approvers=[], request_id=request.pk, actor=actor, event=DeliveryEvent.ROLLED_BACK,
        replaced_version=current,
    )  # fmt: skip
    _notify(request, "rolled_back")
    return request
