"""Emails about transition requests: who gets which, and what they say.

requested    -> every eligible approver: a review is waiting for them
rejected     -> the requester, with the reviewer's comment
applied      -> the requester and the approvers
rolled_back  -> the model's approvers for Production: a rollback review is waiting
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.urls import reverse

from registry.stages import STAGE_LABELS

from .models import RequestKind, TransitionRequest
from .status import eligible_approver_ids, request_status


def _link(request: TransitionRequest) -> str:
    return settings.MODELGATE_BASE_URL + reverse("approvals:request", args=[request.pk])


def _recipients(request: TransitionRequest, what: str) -> list[str]:
    User = get_user_model()
    if what == "rejected":
        ids = {request.requester_id}
    elif what == "applied":
        ids = {request.requester_id} | {r.reviewer_id for r in request_status(request).counted}
    else:
        ids = eligible_approver_ids(request, request.policy)
    return sorted(
        User.objects.filter(pk__in=ids, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )


def _message(request: TransitionRequest, what: str) -> tuple[str, str]:
    name = f"{request.model.name} v{request.version.number} ({request.version.label})"
    stage = STAGE_LABELS[request.to_stage]
    subjects = {
        "requested": f"Review requested: {name} to {stage}",
        "rejected": f"Rejected: {name} to {stage}",
        "applied": f"Applied: {name} is now in {stage}",
        "rolled_back": f"Emergency rollback to review: {name} is back in {stage}",
    }
    asked = f"move {name} to {stage}"
    if request.kind == RequestKind.ALIAS:
        target = f"{request.model.name}@{request.alias}"
        subjects.update(
            requested=f"Review requested: {target} to v{request.version.number}",
            rejected=f"Rejected: {target} to v{request.version.number}",
            applied=f"Applied: {target} now points at v{request.version.number}",
        )
        asked = f"point the protected alias {target} at {name}"
    lines = [
        f"{request.requester.get_username()} asked to {asked}.",
        "",
        f"Reason: {request.reason}",
    ]
    if what == "requested":
        failing = [g for g in request.gate_results if not g["passed"]]
        lines += ["", "Gates: all pass." if not failing else f"Gates: {len(failing)} failing."]
    if what == "rejected":
        lines += ["", f"{request.closed_by.get_username()} rejected it: {request.close_comment}"]
    lines += ["", f"Request #{request.pk}: {_link(request)}"]
    return f"[Modelgate] {subjects[what]}", "\n".join(lines)


def notify(request_id: int, what: str) -> int:
    request = (
        TransitionRequest.objects.select_related(
            "model", "version", "requester", "closed_by", "policy"
        )
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        return 0
    to = _recipients(request, what)
    if not to:
        return 0
    subject, body = _message(request, what)
    # One message per person: approvers do not see each other's addresses.
    return send_mass_mail([(subject, body, None, [address]) for address in to])
