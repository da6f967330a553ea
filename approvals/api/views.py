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
from registry.selectors import model_get, version_get

from .. import services
from ..models import TransitionRequest
from .filters import TransitionRequestFilter
from .representations import gates_preview, request_detail
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


def _detail_response(http_request, pk: int, *, status_code=status.HTTP_200_OK) -> Response:
    data = TransitionRequestDetailSerializer(request_detail(http_request, _request_get(pk))).data
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
        version = version_get(model_get(name), number)
        data = gates_preview(request, version, params.validated_data["stage"])
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
