"""The approvals API: request a stage change, dry-run its gates, list and read requests,
approve, reject, withdraw, and check a blocked one again. Every write is one service
call (approvals.services), which decides who may do what and says why not; the answer
is read inside the same transaction, so a committed change is never reported as failed.

Reading is open to every signed-in user and token holder, as the pages are (one registry
per company); the services refuse writes with a 403, 400 or 409 in the API's error shape.
"""

from django.db import transaction
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.api.errors import error_responses
from registry.api.openapi import MODEL_NAME_PATTERN
from registry.api.pagination import PagePagination
from registry.api.serializers.models import api_reverse
from registry.permissions import can_edit_model
from registry.selectors import model_get, version_get
from registry.stages import STAGE_LABELS

from .. import services
from ..approvers import approvers
from ..digests import PART_LABELS
from ..gates import as_rows
from ..models import Decision, Policy, RequestState, TransitionRequest
from ..policies import describe
from ..preview import stage_preview
from ..status import eligible_approver_ids, request_status
from .filters import TransitionRequestFilter
from .serializers import (
    CommentSerializer,
    GatesParamsSerializer,
    GatesPreviewSerializer,
    RejectSerializer,
    TransitionRequestCreateSerializer,
    TransitionRequestDetailSerializer,
    TransitionRequestSerializer,
)

VERSION_PATH = [
    OpenApiParameter(
        "name",
        str,
        OpenApiParameter.PATH,
        description="Model name (any case).",
        pattern=MODEL_NAME_PATTERN,
    ),
    OpenApiParameter("number", int, OpenApiParameter.PATH, description="Version number, from 1."),
]
REQUEST_PATH = [
    OpenApiParameter("id", int, OpenApiParameter.PATH, description="The request's number.")
]
TAGS = ["transition requests"]


# --- Reads --------------------------------------------------------------------------------


def _request_get(pk: int) -> TransitionRequest:
    request = (
        TransitionRequest.objects.select_related(
            "model", "model__team", "version", "version__model", "requester", "policy", "closed_by"
        )
        .filter(pk=pk)
        .first()
    )
    if request is None:
        raise Http404(f"No transition request #{pk}.")
    return request


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


def _detail(http_request, tr: TransitionRequest) -> dict:
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


def _detail_response(http_request, pk: int, *, status_code=status.HTTP_200_OK) -> Response:
    data = TransitionRequestDetailSerializer(_detail(http_request, _request_get(pk))).data
    headers = {"Location": data["url"]} if status_code == status.HTTP_201_CREATED else None
    return Response(data, status=status_code, headers=headers)


@extend_schema_view(
    get=extend_schema(
        operation_id="transition_requests_list",
        tags=TAGS,
        summary="List transition requests",
        responses={200: TransitionRequestSerializer(many=True), **error_responses(400, 404)},
    )
)
class TransitionRequestListView(generics.ListAPIView):
    """Requests, newest first, filtered by state, target stage, model, or to those
    waiting for your review (`waiting_for_me=true`). Paginated."""

    serializer_class = TransitionRequestSerializer
    pagination_class = PagePagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = TransitionRequestFilter
    queryset = TransitionRequest.objects.none()  # the filter set asks the selector


class TransitionRequestDetailView(APIView):
    @extend_schema(
        operation_id="transition_requests_retrieve",
        tags=TAGS,
        summary="Get a transition request",
        parameters=REQUEST_PATH,
        responses={200: TransitionRequestDetailSerializer, **error_responses(404)},
    )
    def get(self, request, pk):
        """The request with its policy, gates, approvals (and whether each still counts),
        who may approve it, and what you may do with it."""
        return _detail_response(request, pk)


class VersionGatesView(APIView):
    @extend_schema(
        operation_id="versions_gates_preview",
        tags=TAGS,
        summary="Dry-run the gates of a stage change",
        parameters=[*VERSION_PATH, GatesParamsSerializer],
        responses={200: GatesPreviewSerializer, **error_responses(400, 404)},
    )
    def get(self, request, name, number):
        """What a request to move this version to `stage` would be judged on if filed now,
        and everything that keeps it from getting there. Files nothing: a pipeline runs
        it to show why a promotion is blocked."""
        params = GatesParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        to_stage = params.validated_data["stage"]
        version = version_get(model_get(name), number)
        preview, baseline = stage_preview(version, to_stage)
        policy, named = preview.policy, preview.approvers
        excluded = {request.user.pk}
        if policy.separation_of_duties:
            excluded.add(version.created_by_id)
        eligible = [u.get_username() for u in named if u.pk not in excluded]
        may_request = can_edit_model(request.user, version.model)
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
        context = {"request": request}
        data = {
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
        return Response(GatesPreviewSerializer(data).data)


class VersionTransitionRequestView(APIView):
    @extend_schema(
        operation_id="transition_requests_create",
        tags=TAGS,
        summary="Request a stage change",
        parameters=VERSION_PATH,
        request=TransitionRequestCreateSerializer,
        responses={
            201: TransitionRequestDetailSerializer,
            **error_responses(400, 403, 404, 409),
        },
    )
    def post(self, request, name, number):
        """File a request to move this version to `to_stage`, with a reason. The gates are
        evaluated at once; a request whose gates fail is still filed (reviewers see it)
        but cannot apply until they pass. The named approvers are emailed. Under a policy
        that needs no approvals it applies at once when the gates pass (state `applied`)."""
        version = version_get(model_get(name), number)
        body = TransitionRequestCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            tr = services.transition_request(
                actor=request.user, version=version, **body.validated_data
            )
            return _detail_response(request, tr.pk, status_code=status.HTTP_201_CREATED)


def _act(http_request, pk: int, service, body_class=None) -> Response:
    tr = _request_get(pk)
    values = {}
    if body_class is not None:
        body = body_class(data=http_request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
    with transaction.atomic():
        service(actor=http_request.user, request=tr, **values)
        return _detail_response(http_request, pk)


ACTION_ERRORS = error_responses(400, 403, 404, 409)


class ApproveView(APIView):
    @extend_schema(
        operation_id="transition_requests_approve",
        tags=TAGS,
        summary="Approve a request",
        parameters=REQUEST_PATH,
        request=CommentSerializer,
        responses={200: TransitionRequestDetailSerializer, **ACTION_ERRORS},
    )
    def post(self, request, pk):
        """Approve as a named approver, bound to what the request is about now (artifact,
        card, metrics, metadata, policy, production version): if any of it changes, the
        approval stops counting. The requester, and under separation of duties the
        version's author, cannot approve; nobody approves twice. With the last approval
        needed the transition applies, or stays `blocked` saying why."""
        return _act(request, pk, services.review_approve, CommentSerializer)


class RejectView(APIView):
    @extend_schema(
        operation_id="transition_requests_reject",
        tags=TAGS,
        summary="Reject a request",
        parameters=REQUEST_PATH,
        request=RejectSerializer,
        responses={200: TransitionRequestDetailSerializer, **ACTION_ERRORS},
    )
    def post(self, request, pk):
        """Reject as a named approver, saying why; the request is closed and the requester
        is emailed."""
        return _act(request, pk, services.review_reject, RejectSerializer)


class WithdrawView(APIView):
    @extend_schema(
        operation_id="transition_requests_withdraw",
        tags=TAGS,
        summary="Withdraw a request",
        parameters=REQUEST_PATH,
        request=CommentSerializer,
        responses={200: TransitionRequestDetailSerializer, **ACTION_ERRORS},
    )
    def post(self, request, pk):
        """The requester takes back a pending request."""
        return _act(request, pk, services.transition_withdraw, CommentSerializer)


class ApplyView(APIView):
    @extend_schema(
        operation_id="transition_requests_apply",
        tags=TAGS,
        summary="Check a blocked request again",
        parameters=REQUEST_PATH,
        request=None,
        responses={200: TransitionRequestDetailSerializer, **error_responses(403, 404, 409)},
    )
    def post(self, request, pk):
        """Re-evaluate an approved request that was blocked (its gates failed, or its
        approvals went stale) and apply it if it now may. Open to the model's team and its
        approvers. The answer's `state` says whether it applied."""
        return _act(request, pk, services.transition_apply)
