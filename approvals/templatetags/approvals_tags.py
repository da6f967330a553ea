"""Approvals shown on registry pages: registry templates load this library, so the
registry app never imports approvals (approvals -> registry stays the only direction).

The version page shows its stage history; the model page, per target stage, the policy
that applies and why, who may approve and the open requests, and the emergency-rollback
flag and button. Each tag's queries are fixed, whatever the number of versions,
requests or approvers."""

from django import template

from registry.stages import STAGE_LABELS

from ..approvers import approver_names_by_stage
from ..models import RequestKind, TransitionRequest
from ..policies import TARGET_STAGES, PolicyMissing, describe, policies_for
from ..selectors import model_pending_requests, open_rollback_review, version_requests
from ..services.transitions import ROLLBACK_PERMISSION
from ..status import previous_production

register = template.Library()


@register.inclusion_tag("approvals/_stage_history.html")
def stage_history(version, *, can_request: bool = False) -> dict:
    """A version's stage history (its requests, newest first, with their reviews) and,
    for its team, the way to request the next move. Two queries."""
    return {
        "version": version,
        "model": version.model,
        "requests": version_requests(version),
        "can_request": can_request,
    }


def _pending(model) -> list[TransitionRequest]:
    """The model's pending requests, read once per page whichever tag asks first."""
    if not hasattr(model, "_approvals_pending"):
        model._approvals_pending = model_pending_requests(model)
    return model._approvals_pending


@register.inclusion_tag("approvals/_model_alerts.html", takes_context=True)
def model_approval_alerts(context, model, production=None):
    """The flag of an open emergency-rollback review, and for break-glass holders the
    button that rolls production back to the previous version."""
    user = context["request"].user
    previous = None
    if production is not None and user.has_perm(ROLLBACK_PERMISSION):
        previous = previous_production(model)
    return {
        "model": model,
        "rollback_review": open_rollback_review(model, _pending(model)),
        "previous": previous,
        "production": production,
    }


@register.inclusion_tag("approvals/_model_approvals.html", takes_context=True)
def model_approvals(context, model):
    """Per target stage: the policy that applies and where it comes from, its rules, who
    may approve, and the open requests; and the model's risk tier (three queries)."""
    try:
        applied = policies_for(model)
    except PolicyMissing as exc:
        applied, problem = {}, str(exc)
    else:
        problem = ""
    names = approver_names_by_stage(model)
    pending = _pending(model)
    stages = [
        {
            "value": stage,
            "label": STAGE_LABELS[stage],
            "applied": applied.get(stage),
            "rules": describe(applied[stage].policy) if stage in applied else [],
            "approvers": names[stage],
            "requests": [r for r in pending if r.to_stage == stage],
        }
        for stage in TARGET_STAGES
    ]
    return {
        "model": model,
        "stages": stages,
        "problem": problem,
        "rollback_kind": RequestKind.ROLLBACK_REVIEW,
        "user": context["request"].user,
    }
