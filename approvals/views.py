"""The pages of the approval workflow: request a stage change, the inbox, and a request's
review page with its approve, reject, withdraw and apply buttons.

Every signed-in user may read a request (one registry per company); the buttons call one
service each, which decides who may do what and says why not.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from registry import compare
from registry.errors import Conflict, RegistryError
from registry.permissions import can_edit_model, require_edit_model
from registry.selectors import card_for, card_sections, model_get, version_get
from registry.views.errors import bad_request

from . import selectors, services
from .approvers import approvers
from .context_processors import ReviewsWaiting
from .digests import PART_LABELS
from .forms import TransitionRequestForm
from .models import Decision, RequestKind, RequestState, TransitionRequest
from .preview import stage_options
from .status import RequestStatus, eligible_approver_ids, request_status


@login_required
def request_new(request, name: str, number: int):
    """The form a model's team files a stage change with, showing for each move the
    state machine allows what its gates say now."""
    model = model_get(name)
    version = version_get(model, number)
    require_edit_model(request.user, model)
    options = stage_options(version)
    form = TransitionRequestForm(request.POST or None, options=options)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                tr = services.transition_request(
                    actor=request.user,
                    version=version,
                    to_stage=form.cleaned_data["to_stage"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                form.add_service_error(exc)
            except (PermissionDenied, RegistryError) as exc:
                messages.error(request, str(exc))
                status = 409 if isinstance(exc, Conflict) else 403
            else:
                messages.success(request, _filed_message(tr))
                return redirect("approvals:request", pk=tr.pk)
        if form.errors:
            status = 400
    return render(
        request,
        "approvals/request_new.html",
        {
            "nav": "catalog",
            "model": model,
            "version": version,
            "form": form,
            "options": options,
            "allowed": [o for o in options if o.allowed],
            "not_offered": [o for o in options if not o.allowed],
        },
        status=status,
    )


def _filed_message(tr: TransitionRequest) -> str:
    if tr.state == RequestState.APPLIED:
        return f"v{tr.version.number} is now in {tr.get_to_stage_display()}."
    if not tr.gates_passed:
        return (
            f"Request #{tr.pk} is filed. Some gates fail: reviewers see it, but it cannot "
            "apply until they pass."
        )
    return f"Request #{tr.pk} is filed; its approvers have been told."


class BadCursor(Exception):
    pass


def _cursor(request, name: str) -> int | None:
    """A list's continuation point from the query string: a request id, or None."""
    value = request.GET.get(name, "")
    if value == "":
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise BadCursor(name)
    return int(value)


@login_required
def inbox(request):
    """Requests waiting for the signed-in user's review, oldest first, and their own,
    newest first: a page of each, continued by request id (?after=, ?before=)."""
    try:
        after, before = _cursor(request, "after"), _cursor(request, "before")
    except BadCursor as exc:
        return bad_request(
            request, errors={str(exc): ["Give the number of a request to continue from."]}
        )
    size = selectors.INBOX_PAGE
    waiting, count = selectors.inbox(request.user, after=after, size=size)
    return render(
        request,
        "approvals/inbox.html",
        {
            "nav": "inbox",
            "waiting": waiting,
            "after": after,
            "mine": selectors.requests_of_user(request.user, before=before, size=size),
            "before": before,
            "page_size": size,
            # The count just read is the navigation's too.
            "reviews_waiting": ReviewsWaiting.known(count),
        },
    )


def _request(pk: int) -> TransitionRequest:
    return get_object_or_404(
        TransitionRequest.objects.select_related(
            "model",
            "model__team",
            "version",
            "version__model",
            "version__created_by",
            "requester",
            "policy",
            "closed_by",
            "baseline",
            "baseline__model",
        ),
        pk=pk,
    )


def _approver_rows(tr: TransitionRequest, status: RequestStatus) -> list[dict]:
    """Everyone named for the request's stage, with whether they may still approve."""
    approved = {a.review.reviewer_id: a for a in status.approvals}
    rows = []
    for user in approvers(tr.model, tr.to_stage):
        given = approved.get(user.pk)
        if user.pk == tr.requester_id:
            note, may = "filed this request", False
        elif status.policy.separation_of_duties and user.pk == tr.version.created_by_id:
            note, may = "registered this version (separation of duties)", False
        elif given is not None and not given.stale:
            note, may = "approved", False
        elif given is not None:
            note, may = "approved earlier, must approve again", True
        else:
            note, may = "may approve", True
        rows.append({"user": user, "note": note, "may": may and tr.is_pending})
    return rows


def _baseline(tr: TransitionRequest, status: RequestStatus) -> tuple:
    """The version to compare the request's version with, and what it is to the request."""
    if tr.kind == RequestKind.ROLLBACK_REVIEW:
        return tr.baseline, "the version the rollback replaced"
    if tr.is_pending:
        return status.baseline, "the current production version"
    return tr.baseline, "the production version when the request was filed"


@login_required
def request_detail(request, pk: int):
    tr = _request(pk)
    status = request_status(tr)
    eligible = eligible_approver_ids(tr, status.policy)
    version = tr.version
    baseline, baseline_is = _baseline(tr, status)
    context = {
        "nav": "inbox",
        "tr": tr,
        "model": tr.model,
        "version": version,
        "status": status,
        "gates": status.gates if tr.is_pending else tr.gate_results,
        "gates_passed": status.gates_passed if tr.is_pending else tr.gates_passed,
        "approvals": [
            {"review": a.review, "stale": [PART_LABELS[p] for p in a.stale]}
            for a in status.approvals
        ],
        "rejections": [r for r in tr.reviews.all() if r.decision == Decision.REJECT],
        "approver_rows": _approver_rows(tr, status),
        "can_review": tr.is_pending and request.user.pk in eligible,
        "has_approved": any(r.reviewer_id == request.user.pk for r in status.counted),
        "can_withdraw": tr.is_pending and request.user.pk == tr.requester_id,
        "can_apply": tr.state == RequestState.BLOCKED
        and (can_edit_model(request.user, tr.model) or request.user.pk in eligible),
        "baseline": baseline,
        "baseline_is": baseline_is,
        "card": card_for(version),
    }
    context["card_sections"] = card_sections(context["card"])
    if baseline is not None:
        context.update(
            a=baseline,
            b=version,
            metadata_rows=compare.metadata_rows(baseline, version),
            metric_rows=compare.metric_rows(baseline, version),
            param_rows=compare.param_rows(baseline, version),
            card_diffs=compare.card_diffs(baseline, version),
        )
    return render(request, "approvals/request_detail.html", context)


def _act(request, pk: int, action, success: str, **kwargs):
    tr = _request(pk)
    try:
        action(actor=request.user, request=tr, **kwargs)
    except (PermissionDenied, RegistryError) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        tr.refresh_from_db()
        if tr.state == RequestState.APPLIED and tr.kind == RequestKind.ALIAS:
            success += f" {tr.alias} now points at v{tr.version.number}."
        elif tr.state == RequestState.APPLIED:
            success += f" v{tr.version.number} is now in {tr.get_to_stage_display()}."
        elif tr.state == RequestState.BLOCKED:
            success += f" It cannot apply yet: {tr.blocked_reason}"
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
        "The request is rejected; the requester is told why.",
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
