"""What the approvals API answers, built from the approvals reads (status, preview):
plain dicts that the serializers in .serializers describe and check."""

from registry.api.serializers.models import api_reverse
from registry.models import ModelVersion
from registry.permissions import can_edit_model
from registry.stages import STAGE_LABELS

from ..approvers import approvers
from ..digests import PART_LABELS
from ..gates import as_rows
from ..models import Decision, Policy, RequestState, TransitionRequest
from ..policies import describe
from ..preview import stage_preview
from ..status import eligible_approver_ids, request_status
from .serializers import TransitionRequestSerializer


def _usernames(user_ids: set[int], named: list) -> list[str]:
    return [u.get_username() for u in named if u.pk in user_ids]


def _policy_data(policy: Policy, why: str) -> dict:
    return {
        "id": policy.pk,
        "number": policy.number,
        "where": policy.where,
        "why": why,
        "required_approvals": policy.required_approvals,
        "separation_of_duties": policy.separation_of_duties,
        "rules": [{"rule": r, "requirement": q} for r, q in describe(policy)],
    }


def request_detail(http_request, tr: TransitionRequest) -> dict:
    """The request as the detail endpoint shows it (a fixed number of queries)."""
    user = http_request.user
    named = approvers(tr.model, tr.to_stage)
    context = {"request": http_request}
    reviews = list(tr.reviews.select_related("reviewer").order_by("created_at", "id"))
    if tr.is_pending:
        status_now = request_status(tr)
        policy = _policy_data(status_now.policy, status_now.policy_why)
        gates, gates_passed = as_rows(status_now.gates), status_now.gates_passed
        approvals = [
            {
                "reviewer": a.review.reviewer.get_username(),
                "at": a.review.created_at,
                "comment": a.review.comment,
                "counts": not a.stale,
                "stale": [PART_LABELS[p] for p in a.stale],
            }
            for a in status_now.approvals
        ]
        counted = {a.review.reviewer_id for a in status_now.approvals if not a.stale}
        eligible = eligible_approver_ids(tr, status_now.policy)
        may_still = eligible - counted
        missing = status_now.approvals_missing
        required = status_now.policy.required_approvals
        replaces = status_now.baseline.number if status_now.baseline else None
    else:
        why = f"The policy it was judged under when it was {tr.get_state_display().lower()}."
        policy = _policy_data(tr.policy, why)
        gates, gates_passed = tr.gate_results, tr.gates_passed
        latest = {}
        for review in reviews:
            latest[review.reviewer_id] = review
        approvals = [
            {
                "reviewer": r.reviewer.get_username(),
                "at": r.created_at,
                "comment": r.comment,
                "counts": None,
                "stale": [],
            }
            for r in latest.values()
            if r.decision == Decision.APPROVE
        ]
        eligible, may_still, missing = set(), set(), None
        required = tr.policy.required_approvals
        replaces = tr.baseline.number if tr.baseline_id else None
    may_apply = tr.state == RequestState.BLOCKED and (
        can_edit_model(user, tr.model) or user.pk in {u.pk for u in named}
    )
    base = TransitionRequestSerializer(tr, context=context).data
    return {
        **base,
        "policy": policy,
        "gates": gates,
        "gates_passed": gates_passed,
        "gates_checked_at": tr.gates_checked_at,
        "replaces_version": replaces,
        "approvals_required": required,
        "approvals_missing": missing,
        "approvals": approvals,
        "rejections": [
            {"reviewer": r.reviewer.get_username(), "at": r.created_at, "comment": r.comment}
            for r in reviews
            if r.decision == Decision.REJECT
        ],
        "approvers": [u.get_username() for u in named],
        "may_still_approve": _usernames(may_still, named),
        "you": {
            "approve": user.pk in may_still,
            "reject": user.pk in eligible,
            "withdraw": tr.is_pending and (user.pk == tr.requester_id or user.is_superuser),
            "apply": may_apply,
        },
        "event_hash": tr.event_hash,
        "links": {
            "version": api_reverse(context, "api:version-detail", tr.model.name, tr.version.number),
            "model": api_reverse(context, "api:model-detail", tr.model.name),
            **{
                action: api_reverse(context, f"approvals_api:request-{action}", tr.pk)
                for action in ("approve", "reject", "withdraw", "apply")
            },
        },
    }


def gates_preview(http_request, version: ModelVersion, to_stage: str) -> dict:
    """The dry run of a request by the caller to move `version` to `to_stage`: the
    policy and gates it would be judged on, and every problem in its way."""
    preview, baseline = stage_preview(version, to_stage)
    policy, named = preview.policy, preview.approvers
    excluded = {http_request.user.pk}
    if policy.separation_of_duties:
        excluded.add(version.created_by_id)
    eligible = [u.get_username() for u in named if u.pk not in excluded]
    may_request = can_edit_model(http_request.user, version.model)
    problems = []
    if not may_request:
        problems.append(
            f"Only members of team {version.model.team.name} can request stage changes "
            f"of {version.model.name}."
        )
    problems += [
        f"{g.check}: requires {g.required}; has {g.actual.rstrip('.')}."
        for g in preview.gates
        if not g.passed
    ]
    if len(eligible) < policy.required_approvals:
        problems.append(
            f"{policy.required_approvals} approval(s) needed, but only {len(eligible)} "
            f"named approver(s) could give one: {', '.join(eligible) or 'nobody'}. "
            "Ask governance staff to name approvers."
        )
    if preview.pending is not None:
        problems.append(
            f"Request #{preview.pending.pk} to move v{version.number} to "
            f"{STAGE_LABELS[to_stage]} is already waiting."
        )
    context = {"request": http_request}
    return {
        "model": version.model.name,
        "version": version.number,
        "from_stage": version.stage,
        "to_stage": to_stage,
        "policy": _policy_data(policy, preview.policy_why),
        "gates": as_rows(preview.gates),
        "gates_passed": preview.gates_passed,
        "replaces_version": baseline.number if baseline else None,
        "approvals_required": policy.required_approvals,
        "approvers": [u.get_username() for u in named],
        "eligible_approvers": eligible,
        "can_request": may_request,
        "pending_request": {
            "id": preview.pending.pk,
            "url": api_reverse(context, "approvals_api:request-detail", preview.pending.pk),
        }
        if preview.pending
        else None,
        "problems": problems,
    }
