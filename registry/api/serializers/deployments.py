"""Serializers of what deployment systems report back (issue 10 point 5)."""

from drf_spectacular.utils import OpenApiExample, extend_schema_field
from rest_framework import serializers

from ...deployments.models import DeploymentReport, ServingState
from ...services.deployment_reports import ENDPOINT_URL_MAX_CHARS, MESSAGE_MAX_CHARS
from ..fields import StrictInputMixin
from .models import ModelNameField, api_reverse

# What the service accepts, as far as a JSON Schema can say it; Django's URLValidator
# (a host it can read, a valid port) decides the rest, with a 400 naming the field.
ENDPOINT_URL_PATTERN = "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s\\u0000]+$"


@extend_schema_field(
    {
        "type": "string",
        "format": "uri",
        "maxLength": ENDPOINT_URL_MAX_CHARS,
        "pattern": ENDPOINT_URL_PATTERN,
    }
)
class EndpointURLField(serializers.CharField):
    """Checked by the service (http or https only); stated in the schema here."""


class DeploymentReportInputSerializer(StrictInputMixin, serializers.Serializer):
    model = ModelNameField(max_length=100, help_text="The model's name (any case).")
    version = serializers.IntegerField(
        min_value=1, max_value=2_147_483_647, help_text="The version number, from 1."
    )
    state = serializers.ChoiceField(
        choices=ServingState.choices,
        help_text="deploying: rolling out; serving: answering requests; failed: the "
        "rollout or the running version failed; retired: no longer served.",
    )
    endpoint_url = EndpointURLField(
        required=False,
        allow_blank=True,
        max_length=ENDPOINT_URL_MAX_CHARS,
        help_text="Where clients reach the version on this target (http or https).",
    )
    message = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MESSAGE_MAX_CHARS,
        help_text="A note for people, e.g. the rollout id or why it failed.",
    )


class DeploymentReportSerializer(serializers.ModelSerializer):
    target = serializers.CharField(source="target.name")
    environment = serializers.CharField(source="target.environment")
    model = serializers.CharField(source="model.name")
    version = serializers.IntegerField(source="version.number")
    version_label = serializers.CharField(source="version.label")
    production_version = serializers.IntegerField(
        allow_null=True,
        help_text="The model's Production version when the report was recorded (null: none).",
    )
    drift = serializers.BooleanField(
        help_text="Whether this production target now serves another version than the "
        "Production one."
    )
    reported_by = serializers.CharField(source="reported_by.username")
    endpoint_url = serializers.CharField(help_text="Empty when none was reported.")
    web_url = serializers.SerializerMethodField()

    class Meta:
        model = DeploymentReport
        fields = [
            "id",
            "target",
            "environment",
            "model",
            "version",
            "version_label",
            "state",
            "endpoint_url",
            "message",
            "reported_by",
            "reported_at",
            "production_version",
            "drift",
            "web_url",
        ]
        read_only_fields = fields

    def get_web_url(self, report) -> str:
        return api_reverse(
            self.context, "registry:version_detail", report.model.name, report.version.number
        )


REPORT_EXAMPLES = [
    OpenApiExample(
        "Serving",
        request_only=True,
        value={
            "model": "card-fraud-scorer",
            "version": 2,
            "state": "serving",
            "endpoint_url": "https://serving.example.com/card-fraud-scorer",
            "message": "Rollout 2291 complete.",
        },
    ),
    OpenApiExample(
        "Failed",
        request_only=True,
        value={
            "model": "card-fraud-scorer",
            "version": 3,
            "state": "failed",
            "message": "Readiness probe failed.",
        },
    ),
    OpenApiExample(
        "Recorded",
        response_only=True,
        status_codes=["201"],
        value={
            "id": 412,
            "target": "argo-prod-eu",
            "environment": "production",
            "model": "card-fraud-scorer",
            "version": 2,
            "version_label": "1.1.0",
            "state": "serving",
            "endpoint_url": "https://serving.example.com/card-fraud-scorer",
            "message": "Rollout 2291 complete.",
            "reported_by": "argo-bot",
            "reported_at": "2026-12-02T15:04:05.123456Z",
            "production_version": 2,
            "drift": False,
            "web_url": "https://modelgate.example.com/models/card-fraud-scorer/v/2/",
        },
    ),
]
