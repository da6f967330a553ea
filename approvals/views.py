"""The pages of a transition request: read it, and approve, reject, withdraw or apply it.

Every signed-in user may read a request (one registry per company); the buttons call one
service each, which decides who may do what and says why not.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from registry.errors import RegistryError

from . import services
from .approvers import approvers
from .digests import PART_LABELS
from .models import TransitionRequest
from .status import eligible_approver_ids, request_status


def _request(pk: int) -> TransitionRequest:
    return get_object_or_404(
        TransitionRequest.objects.select_related(
            "model", "model__team", "version", "version__model", "requester", "policy", "closed_by"
        ),
        pk=pk,
    )


@login_required
def request_detail(request, pk: int):
    tr = _request(pk)
    status = request_status(tr)
    eligible = eligible_approver_ids(tr, status.policy)
    return render(
        request,
        "approvals/request_detail.html",
        {
            "nav": "inbox",
            "tr": tr,
            "model": tr.model,
            "status": status,
            "gates": status.gates if tr.is_pending else tr.gate_results,
            "approvals": [
                {"review": a.review, "stale": [PART_LABELS[p] for p in a.stale]}
                for a in status.approvals
            ],
            "rejections": tr.reviews.filter(decision="reject").select_related("reviewer"),
            "approvers": approvers(tr.model, tr.to_stage),
            "can_review": tr.is_pending and request.user.pk in eligible,
            "can_withdraw": tr.is_pending and request.user.pk == tr.requester_id,
        },
    )


def _act(request, pk: int, action, success: str, **kwargs):
    tr = _request(pk)
    try:
        action(actor=request.user, request=tr, **kwargs)
    except (PermissionDenied, RegistryError) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success)
    return redirect("approvals:request", pk=tr.pk)


@login_required
@require_POST
def request_approve(request, pk: int):
    return _act(
        request,
        pk,
        services.review_approve,
        "Your approval is recorded.",
        comment=request.POST.get("comment", ""),
    )


@login_required
@require_POST
def request_reject(request, pk: int):
    return _act(
        request,
        pk,
        services.review_reject,
        "The request is rejected.",
        comment=request.POST.get("comment", ""),
    )


@login_required
@require_POST
def request_withdraw(request, pk: int):
    return _act(
        request,
        pk,
        services.transition_withdraw,
        "The request is withdrawn.",
        comment=request.POST.get("comment", ""),
    )


@login_required
@require_POST
def request_apply(request, pk: int):
    return _act(request, pk, services.transition_apply, "The gates were checked again.")
