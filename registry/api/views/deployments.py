"""What deployment systems report back about the versions they run (issue 10 point 5)."""

from django.db import transaction
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import services
from ...deployments.models import Environment, ServingState
from ...models import ModelVersion, RegisteredModel
from ...selectors import target_get
from ...stages import Stage
from ..errors import MISSING, ErrorSerializer
from ..serializers.deployments import (
    REPORT_EXAMPLES,
    DeploymentReportInputSerializer,
    DeploymentReportSerializer,
)

TARGET = OpenApiParameter(
    "target",
    str,
    OpenApiParameter.PATH,
    description="The deployment target's name (any case) or id.",
    examples=[OpenApiExample("A target's name", value="argo-prod-eu")],
)


def _missing(field: str, message: str) -> Response:
    return Response(
        {"detail": MISSING, "errors": {field: [message]}}, status=status.HTTP_404_NOT_FOUND
    )


class TargetReportsView(APIView):
    @extend_schema(
        operation_id="targets_reports_create",
        tags=["deployments"],
        summary="Report the state of a version on a deployment target",
        parameters=[TARGET],
        request={"application/json": DeploymentReportInputSerializer},
        examples=REPORT_EXAMPLES,
        responses={
            201: DeploymentReportSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="A field is missing or invalid (`errors` names it: an unknown "
                "state, an endpoint URL that is not http(s), text with NUL, too long), or "
                "the target does not receive this model (its scope). Nothing was recorded.",
            ),
            401: OpenApiResponse(ErrorSerializer, description="No valid API token."),
            403: OpenApiResponse(
                ErrorSerializer,
                description="The token's user may not report this model's deployments: only "
                "its owning team, holders of its edit permission and platform admins may.",
            ),
            404: OpenApiResponse(
                ErrorSerializer,
                description="No such target (`detail`), or the body names a model or version "
                "that does not exist (`errors` names the field).",
            ),
            413: OpenApiResponse(ErrorSerializer, description="The body is too large."),
        },
    )
    def post(self, request, target):
        """A deployment system (Argo CD, a CD pipeline, a serving platform) says what it
        is doing with a version: `deploying`, `serving` (at `endpoint_url`), `failed` or
        `retired`. The target's latest report per model is what the model and version
        pages show; a production target serving another version than the Production
        one is shown there as drift. Every report is kept and audited."""
        # The body's shape first (400, 415), then what it names (404), then who asks (403).
        body = DeploymentReportInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        target = target_get(target)
        model = (
            RegisteredModel.objects.select_related("team")
            .filter(name__lower=data["model"].lower())
            .first()
        )
        if model is None:
            return _missing("model", f"No model named {data['model']!r}.")
        version = ModelVersion.objects.filter(model=model, number=data["version"]).first()
        if version is None:
            return _missing("version", f"{model.name} has no version {data['version']}.")
        version.model = model
        with transaction.atomic():  # the response is read before the commit
            report = services.deployment_report_record(
                actor=request.user,
                target=target,
                version=version,
                state=data["state"],
                endpoint_url=data.get("endpoint_url", ""),
                message=data.get("message", ""),
            )
            report.production_version = (
                ModelVersion.objects.filter(model=model, stage=Stage.PRODUCTION)
                .values_list("number", flat=True)
                .first()
            )
            report.drift = (
                report.target.environment == Environment.PRODUCTION
                and report.state == ServingState.SERVING
                and version.number != report.production_version
            )
            data = DeploymentReportSerializer(report, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)
