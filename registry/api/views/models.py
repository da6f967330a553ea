"""Teams and registered models: read, search, create, update."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import services
from ...models import Team
from ...permissions import prefetch_edit_permissions
from ...search import FACETS, CatalogQuery, catalog_search
from ...selectors import model_get, models_alias_names
from ..errors import error_responses
from ..openapi import MODEL_NAME_PATTERN
from ..pagination import PagePagination
from ..serializers.models import (
    CatalogPageSerializer,
    CatalogParamsSerializer,
    ModelCreateSerializer,
    ModelWriteSerializer,
    RegisteredModelSerializer,
    TeamSerializer,
    catalog_page,
)

User = get_user_model()

NAME = OpenApiParameter(
    "name",
    str,
    OpenApiParameter.PATH,
    description="Model name (any case).",
    pattern=MODEL_NAME_PATTERN,
)


def _model_response(request, name: str, *, status_code: int = status.HTTP_200_OK) -> Response:
    """After a change, called inside its transaction: the response is read before the
    commit, so a database lost after the commit cannot turn a saved change into an error."""
    model = model_get(name)
    data = RegisteredModelSerializer(model, context={"request": request}).data
    headers = {"Location": data["url"]} if status_code == status.HTTP_201_CREATED else None
    return Response(data, status=status_code, headers=headers)


@extend_schema_view(
    get=extend_schema(
        operation_id="teams_list",
        tags=["teams"],
        summary="List teams",
        responses={200: TeamSerializer(many=True), **error_responses(400, 404)},
    )
)
class TeamListView(generics.ListAPIView):
    """Every team, with its members. Models are registered for a team by its slug."""

    serializer_class = TeamSerializer
    pagination_class = PagePagination
    queryset = Team.objects.order_by("name").prefetch_related(
        Prefetch("members", queryset=User.objects.order_by("username"))
    )


class ModelListView(APIView):
    @extend_schema(
        operation_id="models_search",
        tags=["models"],
        summary="Search the catalog",
        parameters=[CatalogParamsSerializer],
        responses={200: CatalogPageSerializer, **error_responses(400)},
    )
    def get(self, request):
        """The same search, filters and facets as the catalog page."""
        CatalogParamsSerializer.check(request.query_params)
        result = catalog_search(CatalogQuery.from_params(request.query_params), viewer=request.user)
        page = result.page
        models = list(page.object_list)
        models_alias_names(models)  # their owner and team came with them
        prefetch_edit_permissions(request.user, models)
        data = {
            "count": page.paginator.count,
            "count_is_exact": result.total_is_exact,
            "facets_exact": {name: result.facet_exact.get(name, True) for name in FACETS},
            "exact_error": result.exact_error,
            "page": page.number,
            "num_pages": page.paginator.num_pages,
            "next": page.next_page_number() if page.has_next() else None,
            "previous": page.previous_page_number() if page.has_previous() else None,
            "sort": result.query.sort,
            "results": models,
            "facets": result.facets,
        }
        return Response(catalog_page(request, data))

    @extend_schema(
        operation_id="models_create",
        tags=["models"],
        summary="Register a model",
        request=ModelCreateSerializer,
        responses={201: RegisteredModelSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request):
        """Register a model for one of your teams, with all the shared metadata."""
        body = ModelCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            model = services.model_create(actor=request.user, **body.validated_data)
            return _model_response(request, model.name, status_code=status.HTTP_201_CREATED)


class ModelDetailView(APIView):
    @extend_schema(
        operation_id="models_retrieve",
        tags=["models"],
        summary="Get a model",
        parameters=[NAME],
        responses={200: RegisteredModelSerializer, **error_responses(404)},
    )
    def get(self, request, name):
        """The model's shared metadata, its tags and its most advanced stage."""
        return _model_response(request, name)

    @extend_schema(
        operation_id="models_update",
        tags=["models"],
        summary="Change a model's metadata",
        parameters=[NAME],
        request=ModelWriteSerializer(partial=True),
        responses={200: RegisteredModelSerializer, **error_responses(400, 403, 404, 409)},
    )
    def patch(self, request, name):
        """Send only the fields that change; `tags` replaces the whole list."""
        model = model_get(name)
        body = ModelWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            model = services.model_update(actor=request.user, model=model, **body.validated_data)
            return _model_response(request, model.name)
