"""Model version aliases over the API: list, read, set (or request), delete.

Here rather than in registry's API because setting a protected alias files an approvals
request (approvals.services.alias_assign), and the registry does not import approvals.
"""

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.api.errors import error_responses
from registry.api.openapi import MODEL_NAME_PATTERN
from registry.api.serializers.models import api_reverse
from registry.models import ModelVersion
from registry.selectors import alias_get, model_aliases, model_get
from registry.services import alias_delete
from registry.validators import ALIAS_NAME_MAX_CHARS

from .. import services
from .serializers import AliasRequestedSerializer, AliasSerializer, AliasSetSerializer

# What a schema can state of an alias name; 'latest' and v<number> are refused with a 400.
ALIAS_NAME_PATTERN = f"^[A-Za-z0-9][A-Za-z0-9_-]{{0,{ALIAS_NAME_MAX_CHARS - 1}}}$"
NAME = OpenApiParameter(
    "name", str, OpenApiParameter.PATH, description="Model name (any case).",
    pattern=MODEL_NAME_PATTERN,
)  # fmt: skip
ALIAS = OpenApiParameter(
    "alias",
    str,
    OpenApiParameter.PATH,
    description="Alias name (any case), e.g. champion: 1-64 letters, digits, '_' or '-', "
    "starting with a letter or digit; not 'latest' and not v<number>.",
    pattern=ALIAS_NAME_PATTERN,
)
TAGS = ["aliases"]


class AliasListView(APIView):
    @extend_schema(
        operation_id="aliases_list",
        tags=TAGS,
        summary="List a model's aliases",
        parameters=[NAME],
        responses={200: AliasSerializer(many=True), **error_responses(404)},
    )
    def get(self, request, name):
        """Every alias of the model by name, with the version it points at."""
        aliases = model_aliases(model_get(name))
        return Response(AliasSerializer(aliases, many=True, context={"request": request}).data)


class AliasDetailView(APIView):
    @extend_schema(
        operation_id="aliases_retrieve",
        tags=TAGS,
        summary="Resolve an alias",
        parameters=[NAME, ALIAS],
        responses={200: AliasSerializer, **error_responses(404)},
    )
    def get(self, request, name, alias):
        """The alias and the version it points at (`version`, `version_url`)."""
        found = alias_get(model_get(name), alias)
        return Response(AliasSerializer(found, context={"request": request}).data)

    @extend_schema(
        operation_id="aliases_set",
        tags=TAGS,
        summary="Set or move an alias",
        parameters=[NAME, ALIAS],
        request=AliasSetSerializer,
        responses={
            200: AliasSerializer,
            202: OpenApiResponse(
                AliasRequestedSerializer,
                description="A protected alias: a request was filed; it is set once approved.",
            ),
            **error_responses(400, 403, 404, 409),
        },
    )
    def put(self, request, name, alias):
        """Point the alias at `version`, creating or moving it (200). A protected alias
        (`champion` unless configured otherwise) is not set at once: a request with your
        `reason` is filed for the model's Production approvers (202), and the alias is set
        when it is approved. Needs edit rights on the model."""
        model = model_get(name)
        body = AliasSetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        number = body.validated_data["version"]
        version = ModelVersion.objects.filter(model=model, number=number).first()
        if version is None:
            missing = ErrorDetail(f"{model.name} has no version {number}.", "does_not_exist")
            raise serializers.ValidationError({"version": [missing]})
        with transaction.atomic():
            found, filed = services.alias_assign(
                actor=request.user,
                model=model,
                name=alias,
                version=version,
                reason=body.validated_data["reason"],
            )
            if filed is None:
                found = alias_get(model, found.name)
                return Response(AliasSerializer(found, context={"request": request}).data)
            context = {"request": request}
            data = {
                "detail": (
                    f"{filed.alias!r} is protected: request #{filed.pk} to point it at "
                    f"v{version.number} awaits approval by the Production approvers of "
                    f"{model.name}."
                    if filed.is_pending
                    else f"{filed.alias!r} is protected: request #{filed.pk} was filed and "
                    f"is {filed.get_state_display().lower()}."
                ),
                "request": {
                    "id": filed.pk,
                    "url": api_reverse(context, "approvals_api:request-detail", filed.pk),
                    "web_url": api_reverse(context, "approvals:request", filed.pk),
                },
            }
            return Response(
                AliasRequestedSerializer(data).data,
                status=status.HTTP_202_ACCEPTED,
                headers={"Location": data["request"]["url"]},
            )

    @extend_schema(
        operation_id="aliases_delete",
        tags=TAGS,
        summary="Delete an alias",
        parameters=[NAME, ALIAS],
        responses={204: None, **error_responses(403, 404)},
    )
    def delete(self, request, name, alias):
        """Remove the alias; the version stays as it is. A protected alias cannot be
        deleted (403): move it through a request instead. Needs edit rights on the model."""
        alias_delete(actor=request.user, model=model_get(name), name=alias)
        return Response(status=status.HTTP_204_NO_CONTENT)
