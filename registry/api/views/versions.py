"""Model versions: register, read, search, attach metrics/params/data/lineage/artifact."""

from django.db import transaction
from django.http import FileResponse, Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiRequest,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import services
from ...models import ModelVersion
from ...permissions import require_edit_model
from ...selectors import (
    alias_names_by_number,
    alias_names_prefetch,
    model_get,
    version_get,
    version_read,
    version_rows,
)
from ..errors import error_responses
from ..filters import VersionFilter
from ..openapi import MODEL_NAME_PATTERN
from ..pagination import PagePagination
from ..serializers.versions import (
    ArtifactAttachSerializer,
    ArtifactLinkInputSerializer,
    ArtifactLinkSerializer,
    ArtifactUploadSerializer,
    DataVersionsSerializer,
    LineageInputSerializer,
    LineageSerializer,
    MetricsSerializer,
    ParamsSerializer,
    VersionDetailSerializer,
    VersionRegisterJSONSerializer,
    VersionRegisterSerializer,
    VersionRegisterUploadSerializer,
    VersionSerializer,
    VersionUpdateSerializer,
    version_detail,
)
from ..serializers.versions import version_rows as serialize_version_rows
from .uploads import JSONWhateverAccepted, StreamedUploadMixin

NAME = OpenApiParameter(
    "name",
    str,
    OpenApiParameter.PATH,
    description="Model name (any case).",
    pattern=MODEL_NAME_PATTERN,
)
NUMBER = OpenApiParameter(
    "number", int, OpenApiParameter.PATH, description="Version number, from 1."
)
VERSION_PATH = [NAME, NUMBER]
# In a multipart registration the structured fields are JSON: an object per part (an
# array as one JSON array, or one part per item).
JSON_ENCODED_PARTS = {
    field: {"contentType": "application/json"}
    for field in ("hyperparameters", "metrics", "data_versions", "parents")
}


def _version_response(request, version: ModelVersion, *, status_code=status.HTTP_200_OK):
    """The version as `version_get` returns it, serialized without touching the database.

    Writes either get their version from a service that read it before its commit, or
    re-read it inside the transaction of the change: once the change
    is committed, nothing may fail because the database went away in the meantime.
    """
    data = VersionDetailSerializer(version, context={"request": request}).data
    headers = {"Location": data["url"]} if status_code == status.HTTP_201_CREATED else None
    return Response(data, status=status_code, headers=headers)


class VersionListView(StreamedUploadMixin, generics.GenericAPIView):
    pagination_class = PagePagination
    serializer_class = VersionSerializer

    @extend_schema(
        operation_id="versions_list",
        tags=["versions"],
        summary="List a model's versions",
        parameters=[NAME],
        responses={200: VersionSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request, name):
        """The model's versions, newest first."""
        model = model_get(name)
        # Version numbers run 1..last_version_number without gaps (versions are never
        # deleted), so a page is a range of numbers: no COUNT, no OFFSET.
        numbers = self.paginate_queryset(range(model.last_version_number, 0, -1))
        rows = version_rows(model, numbers)
        if rows and "alias_names" not in rows[0]:  # not PostgreSQL: one more query
            aliases = alias_names_by_number(model, numbers)
            for row in rows:
                row["alias_names"] = aliases.get(row["number"], [])
        return self.get_paginated_response(serialize_version_rows(request, model, rows))

    @extend_schema(
        operation_id="versions_register",
        tags=["versions"],
        summary="Register a version",
        parameters=[NAME],
        request={
            "multipart/form-data": OpenApiRequest(
                VersionRegisterUploadSerializer, encoding=JSON_ENCODED_PARTS
            ),
            "application/json": VersionRegisterJSONSerializer,
        },
        responses={201: VersionDetailSerializer, **error_responses(400, 403, 404, 409, 413)},
    )
    def post(self, request, name):
        """Register the next version: multipart with an `artifact` file (metrics, params,
        data_versions and parents as JSON-encoded fields), or JSON with `artifact_uri`.
        The stage starts at `none`."""
        model = model_get(name)
        # Refuse before the (possibly large) upload is read; the service checks again.
        require_edit_model(request.user, model)
        body = VersionRegisterSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = services.version_register(actor=request.user, model=model, **body.validated_data)
        # Read by the service before its commit (it must be the outermost transaction, so
        # that a failed commit also deletes the stored file).
        data = version_detail(request, version.snapshot)
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": data["url"]})


class VersionDetailView(APIView):
    @extend_schema(
        operation_id="versions_retrieve",
        tags=["versions"],
        summary="Get a version with its metrics, data and lineage",
        parameters=VERSION_PATH,
        responses={200: VersionDetailSerializer, **error_responses(404)},
    )
    def get(self, request, name, number):
        """The version with everything attached to it."""
        return _version_response(request, version_read(name, number))

    @extend_schema(
        operation_id="versions_update",
        tags=["versions"],
        summary="Edit the release notes",
        parameters=VERSION_PATH,
        request=VersionUpdateSerializer,
        responses={200: VersionDetailSerializer, **error_responses(400, 403, 404)},
    )
    def patch(self, request, name, number):
        """Only the release notes change; everything else about a version is history.
        A body without them changes nothing."""
        version = version_get(model_get(name), number)
        body = VersionUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        with transaction.atomic():  # the response is read before the commit
            if body.validated_data:
                services.version_update(actor=request.user, version=version, **body.validated_data)
            else:
                require_edit_model(request.user, version.model)  # as if something had changed
            return _version_response(request, version_get(version.model, version.number))


class _VersionPartView(generics.GenericAPIView):
    """GET one part of a version; POST adds to it through `service` and answers 201 with
    the part's new state. `input_serializer_class` checks the body's shape."""

    input_serializer_class = None
    service = None  # a registry service, wrapped in staticmethod

    def get(self, request, name, number):
        return Response(self.get_serializer(version_read(name, number)).data)

    def post(self, request, name, number):
        version = version_get(model_get(name), number)
        body = self.input_serializer_class(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():  # the response is read before the commit
            self.service(actor=request.user, version=version, **body.validated_data)
            fresh = version_get(version.model, version.number)
            data = self.get_serializer(fresh).data
        return Response(data, status=status.HTTP_201_CREATED)


def _part_schema(part: str, title: str, body, output):
    return extend_schema_view(
        get=extend_schema(
            operation_id=f"versions_{part}_retrieve",
            tags=["versions"],
            summary=f"Get the {title}",
            parameters=VERSION_PATH,
            responses={200: output, **error_responses(404)},
        ),
        post=extend_schema(
            operation_id=f"versions_{part}_attach",
            tags=["versions"],
            summary=f"Add to the {title}",
            parameters=VERSION_PATH,
            # Nested lists and objects: JSON is the body type that carries them as they are.
            request={"application/json": body},
            responses={201: output, **error_responses(400, 403, 404, 409)},
        ),
    )


@_part_schema("metrics", "metrics", MetricsSerializer, MetricsSerializer)
class VersionMetricsView(_VersionPartView):
    """Evaluation metrics. A metric already recorded on a dataset is not overwritten (409)."""

    serializer_class = input_serializer_class = MetricsSerializer
    service = staticmethod(services.metrics_attach)


@_part_schema("params", "hyper-parameters", ParamsSerializer, ParamsSerializer)
class VersionParamsView(_VersionPartView):
    """Hyper-parameters. New names are added; a recorded name with another value is 409."""

    serializer_class = input_serializer_class = ParamsSerializer
    service = staticmethod(services.params_attach)


@_part_schema("data_versions", "data versions", DataVersionsSerializer, DataVersionsSerializer)
class VersionDataVersionsView(_VersionPartView):
    """The dataset versions the model was trained and evaluated on."""

    serializer_class = input_serializer_class = DataVersionsSerializer
    service = staticmethod(services.data_versions_attach)


@_part_schema("lineage", "lineage", LineageInputSerializer, LineageSerializer)
class VersionLineageView(_VersionPartView):
    """Which versions this one was fine-tuned or derived from, and which derive from it.
    A link that would make a cycle is refused (400)."""

    serializer_class = LineageSerializer
    input_serializer_class = LineageInputSerializer
    service = staticmethod(services.lineage_attach)


class VersionArtifactView(StreamedUploadMixin, APIView):
    content_negotiation_class = JSONWhateverAccepted

    @extend_schema(
        operation_id="versions_artifact_download",
        tags=["versions"],
        summary="Download the artifact",
        parameters=VERSION_PATH,
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The file, with Content-Disposition and X-Checksum-SHA256 headers.",
            ),
            (200, "application/json"): OpenApiResponse(
                ArtifactLinkSerializer, description="For an artifact stored elsewhere: its URI."
            ),
            **error_responses(403, 404),
        },
    )
    def get(self, request, name, number):
        """A stored file, or a link to one stored elsewhere. The files of confidential and
        restricted models are for the owning team, the model's approvers and users granted
        access (403 for others), and each download is recorded in the audit log."""
        version = version_read(name, number, viewer=request.user)
        if version.artifact:
            try:
                handle = services.artifact_download(actor=request.user, version=version, via="api")
            except FileNotFoundError:
                raise Http404(
                    f"The artifact of {version.model.name} v{version.number} could not be "
                    "found in artifact storage."
                ) from None
            response = FileResponse(
                handle,
                # The bytes as uploaded, whatever their name suggests (as documented).
                content_type="application/octet-stream",
                as_attachment=True,
                filename=version.artifact_filename,
            )
            response["X-Checksum-SHA256"] = version.artifact_sha256
            return response
        if version.artifact_uri:
            return Response(
                ArtifactLinkSerializer(
                    {"uri": version.artifact_uri, "sha256": version.artifact_sha256}
                ).data
            )
        raise Http404(
            f"{version.model.name} v{version.number} has no artifact yet; attach one with "
            "POST to this URL."
        )

    @extend_schema(
        operation_id="versions_artifact_attach",
        tags=["versions"],
        summary="Attach the artifact of a version registered without one",
        parameters=VERSION_PATH,
        request={
            "multipart/form-data": ArtifactUploadSerializer,
            "application/json": ArtifactLinkInputSerializer,
        },
        responses={201: VersionDetailSerializer, **error_responses(400, 403, 404, 409, 413)},
    )
    def post(self, request, name, number):
        """A file (multipart, optional `sha256` to check) or an `artifact_uri` (JSON).
        An artifact, once attached, never changes (409)."""
        version = version_get(model_get(name), number)
        require_edit_model(request.user, version.model)  # before reading the upload
        body = ArtifactAttachSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = services.artifact_attach(
            actor=request.user, version=version, **body.validated_data
        )
        return _version_response(request, version.snapshot, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="versions_artifact_put",
        tags=["versions"],
        summary="Attach the artifact (same as POST)",
        parameters=VERSION_PATH,
        request={
            "multipart/form-data": ArtifactUploadSerializer,
            "application/json": ArtifactLinkInputSerializer,
        },
        responses={201: VersionDetailSerializer, **error_responses(400, 403, 404, 409, 413)},
    )
    def put(self, request, name, number):
        """The same as POST, for clients that upload with PUT."""
        return self.post(request, name, number)


@extend_schema_view(
    get=extend_schema(
        operation_id="versions_search",
        tags=["versions"],
        summary="Search versions across models",
        responses={200: VersionSerializer(many=True), **error_responses(400, 404)},
    )
)
class VersionSearchView(generics.ListAPIView):
    """Find versions by commit, run, artifact checksum, stage, framework and more."""

    serializer_class = VersionSerializer
    pagination_class = PagePagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = VersionFilter
    queryset = (
        ModelVersion.objects.select_related("model", "created_by", "card")
        .prefetch_related(alias_names_prefetch())
        .order_by("-created_at", "-pk")
    )
