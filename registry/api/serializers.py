"""API serializers. Input serializers check the shape of a request and nothing more:
the services decide what is valid (names, SPDX licenses, semantic versions, commit SHAs,
lineage cycles) so the browser and the API reject the same things the same way.

`stage` is read-only everywhere; only the approvals app changes it.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from ..choices import DataClassification, Framework, LineageRelation, Stage
from ..models import ModelCard, ModelVersion, RegisteredModel, Team
from ..permissions import can_edit_model
from ..selectors import SORTS
from ..services import parse_parent_ref
from .fields import JSONDictField, JSONListSerializer, StrictInputMixin

User = get_user_model()


def _reverse(context, name, *args):
    return reverse(name, args=args, request=context.get("request"))


# --- Teams ---------------------------------------------------------------------------


class TeamRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["slug", "name"]


class TeamSerializer(serializers.ModelSerializer):
    members = serializers.SlugRelatedField(many=True, read_only=True, slug_field="username")

    class Meta:
        model = Team
        fields = ["slug", "name", "description", "members"]


# --- Registered models -----------------------------------------------------------


class RegisteredModelSerializer(serializers.ModelSerializer):
    team = TeamRefSerializer(read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    stage = serializers.ChoiceField(
        source="current_stage",
        choices=Stage.choices,
        read_only=True,
        help_text="The most advanced stage any version is in. Changes only through approvals.",
    )
    latest_version = serializers.IntegerField(source="last_version_number", read_only=True)
    can_edit = serializers.SerializerMethodField(
        help_text="Whether you may change this model and register versions of it."
    )
    url = serializers.SerializerMethodField()
    web_url = serializers.SerializerMethodField()

    class Meta:
        model = RegisteredModel
        fields = [
            "name",
            "team",
            "owner",
            "description",
            "purpose",
            "license",
            "data_classification",
            "evaluation_coverage",
            "tags",
            "stage",
            "latest_version",
            "latest_framework",
            "can_edit",
            "created_at",
            "updated_at",
            "url",
            "web_url",
        ]
        read_only_fields = fields

    def get_can_edit(self, model) -> bool:
        return can_edit_model(self.context["request"].user, model)

    def get_url(self, model) -> str:
        return _reverse(self.context, "api:model-detail", model.name)

    def get_web_url(self, model) -> str:
        return _reverse(self.context, "registry:model_detail", model.name)


class ModelWriteSerializer(StrictInputMixin, serializers.Serializer):
    """Every field of the shared metadata standard; PATCH sends only what changes."""

    name = serializers.CharField(max_length=100)
    team = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Team.objects.all(),
        help_text="The owning team's slug (see /api/teams/).",
        error_messages={"does_not_exist": "No team with slug {value}; see /api/teams/."},
    )
    owner = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.filter(is_active=True),
        help_text="Username of the person accountable for the model.",
        error_messages={"does_not_exist": "No active user named {value}."},
    )
    description = serializers.CharField()
    purpose = serializers.CharField(help_text="The business decision or product it serves.")
    license = serializers.CharField(
        max_length=200, help_text="An SPDX license identifier or expression, or 'proprietary'."
    )
    data_classification = serializers.ChoiceField(choices=DataClassification.choices)
    evaluation_coverage = serializers.CharField(
        help_text="Which slices and datasets were evaluated."
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list
    )


# --- Catalog search ----------------------------------------------------------------


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    selected = serializers.BooleanField()


class FacetsSerializer(serializers.Serializer):
    team = FacetValueSerializer(many=True)
    stage = FacetValueSerializer(many=True)
    license = FacetValueSerializer(many=True)
    classification = FacetValueSerializer(many=True)
    framework = FacetValueSerializer(many=True)
    tag = FacetValueSerializer(many=True)


class PageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Results on all pages.")
    page = serializers.IntegerField()
    num_pages = serializers.IntegerField()
    next = serializers.IntegerField(allow_null=True, help_text="Next page number, or null.")
    previous = serializers.IntegerField(allow_null=True, help_text="Previous page number.")


class CatalogPageSerializer(PageSerializer):
    sort = serializers.ChoiceField(choices=list(SORTS))
    results = RegisteredModelSerializer(many=True)
    facets = FacetsSerializer(help_text="Counts per value, ignoring the facet's own filter.")


# --- Versions: parts that are both sent and returned --------------------------------


class MetricSerializer(StrictInputMixin, serializers.Serializer):
    name = serializers.CharField(max_length=100)
    value = serializers.FloatField()
    dataset = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="dataset / split"
    )
    higher_is_better = serializers.BooleanField(required=False, default=True)

    class Meta:
        list_serializer_class = JSONListSerializer


# The same choices as a model's data_classification. Pointing at that field's enum
# component keeps drf-spectacular from naming one choice set twice (a warning); the
# alternative is an ENUM_NAME_OVERRIDES entry in settings.
@extend_schema_field({"$ref": "#/components/schemas/DataClassificationEnum"})
class ClassificationField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=DataClassification.choices, **kwargs)


class DataVersionSerializer(StrictInputMixin, serializers.Serializer):
    dataset = serializers.CharField(max_length=200)
    version_or_uri = serializers.CharField(max_length=1000)
    content_hash = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    classification = ClassificationField()

    class Meta:
        list_serializer_class = JSONListSerializer


class ParentRefSerializer(StrictInputMixin, serializers.Serializer):
    model = serializers.CharField(max_length=100, help_text="The parent's model name.")
    version = serializers.IntegerField(min_value=1, help_text="The parent's version number.")
    relation = serializers.ChoiceField(choices=LineageRelation.choices)

    class Meta:
        list_serializer_class = JSONListSerializer


def resolve_parents(refs):
    """[{"model", "version", "relation"}] -> [(ModelVersion, relation)], or a 400."""
    try:
        return [parse_parent_ref(ref) for ref in refs]
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.message_dict.get("parents", exc.messages)) from None


class LineageEdgeSerializer(serializers.Serializer):
    model = serializers.CharField()
    version = serializers.IntegerField()
    label = serializers.CharField()
    relation = serializers.ChoiceField(choices=LineageRelation.choices)


def _edge(version: ModelVersion, relation: str) -> dict:
    return {
        "model": version.model.name,
        "version": version.number,
        "label": version.label,
        "relation": relation,
    }


def lineage_parents(version: ModelVersion) -> list[dict]:
    return [_edge(link.parent, link.relation) for link in version.parent_links.all()]


def lineage_children(version: ModelVersion) -> list[dict]:
    return [_edge(link.child, link.relation) for link in version.child_links.all()]


class LineageSerializer(serializers.Serializer):
    """A version's lineage edges (read from a ModelVersion fetched by version_get)."""

    parents = serializers.SerializerMethodField()
    children = serializers.SerializerMethodField()

    @extend_schema_field(LineageEdgeSerializer(many=True))
    def get_parents(self, version):
        return lineage_parents(version)

    @extend_schema_field(LineageEdgeSerializer(many=True))
    def get_children(self, version):
        return lineage_children(version)


# --- Versions: output ---------------------------------------------------------------


class ArtifactSerializer(serializers.Serializer):
    filename = serializers.CharField(source="artifact_filename", allow_blank=True)
    size = serializers.IntegerField(source="artifact_size", allow_null=True)
    sha256 = serializers.CharField(
        source="artifact_sha256", allow_blank=True, help_text="Computed by Modelgate on upload."
    )
    uri = serializers.CharField(
        source="artifact_uri", allow_blank=True, help_text="Where an external artifact lives."
    )
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, version) -> str | None:
        if not version.has_artifact:
            return None
        return _reverse(self.context, "api:version-artifact", version.model.name, version.number)


class VersionSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.name", read_only=True)
    stage = serializers.ChoiceField(
        choices=Stage.choices,
        read_only=True,
        help_text="Changes only through an approved transition request.",
    )
    artifact = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    card_completeness = serializers.SerializerMethodField(
        help_text="Percentage of model card sections filled in."
    )
    url = serializers.SerializerMethodField()
    web_url = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "model",
            "number",
            "label",
            "stage",
            "framework",
            "flavor",
            "artifact",
            "run_system",
            "run_id",
            "run_url",
            "code_repository",
            "code_commit",
            "release_notes",
            "created_by",
            "created_at",
            "card_completeness",
            "url",
            "web_url",
        ]
        read_only_fields = fields

    @extend_schema_field(ArtifactSerializer(allow_null=True))
    def get_artifact(self, version):
        if not version.has_artifact:
            return None
        return ArtifactSerializer(version, context=self.context).data

    def get_card_completeness(self, version) -> int | None:
        try:
            return version.card.completeness
        except ModelCard.DoesNotExist:
            return None

    def get_url(self, version) -> str:
        return _reverse(self.context, "api:version-detail", version.model.name, version.number)

    def get_web_url(self, version) -> str:
        return _reverse(self.context, "registry:version_detail", version.model.name, version.number)


class VersionDetailSerializer(VersionSerializer):
    hyperparameters = serializers.DictField(child=serializers.JSONField(), read_only=True)
    metrics = MetricSerializer(many=True, read_only=True)
    data_versions = DataVersionSerializer(many=True, read_only=True)
    parents = serializers.SerializerMethodField()
    children = serializers.SerializerMethodField()

    class Meta(VersionSerializer.Meta):
        fields = [
            *VersionSerializer.Meta.fields,
            "hyperparameters",
            "metrics",
            "data_versions",
            "parents",
            "children",
        ]
        read_only_fields = fields

    @extend_schema_field(LineageEdgeSerializer(many=True))
    def get_parents(self, version):
        return lineage_parents(version)

    @extend_schema_field(LineageEdgeSerializer(many=True))
    def get_children(self, version):
        return lineage_children(version)


# --- Versions: input ------------------------------------------------------------------


class _ArtifactInput(serializers.Serializer):
    artifact = serializers.FileField(
        required=False, help_text="The artifact file (multipart requests only)."
    )
    artifact_uri = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        help_text="Instead of a file: where the artifact lives, e.g. s3://bucket/path.",
    )
    sha256 = serializers.CharField(
        source="expected_sha256",
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="The SHA-256 you computed; the upload is rejected if it does not match ours.",
    )


class VersionRegisterSerializer(StrictInputMixin, _ArtifactInput):
    """Multipart (with an `artifact` file, structured fields JSON-encoded) or JSON."""

    label = serializers.CharField(
        max_length=100, help_text="A semantic version such as 1.4.0, unique per model."
    )
    framework = serializers.ChoiceField(choices=Framework.choices)
    flavor = serializers.CharField(max_length=100, required=False, allow_blank=True)
    run_system = serializers.CharField(
        max_length=50, required=False, allow_blank=True, help_text="e.g. mlflow, wandb"
    )
    run_id = serializers.CharField(max_length=200, required=False, allow_blank=True)
    run_url = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    code_repository = serializers.CharField(max_length=500, required=False, allow_blank=True)
    code_commit = serializers.CharField(
        required=False, allow_blank=True, help_text="The full 40-character commit SHA."
    )
    release_notes = serializers.CharField(required=False, allow_blank=True)
    hyperparameters = JSONDictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Name: value pairs (string, number, boolean or null).",
    )
    metrics = MetricSerializer(many=True, required=False)
    data_versions = DataVersionSerializer(many=True, required=False)
    parents = ParentRefSerializer(many=True, required=False)

    def validate_parents(self, refs):
        return resolve_parents(refs)


class ArtifactAttachSerializer(StrictInputMixin, _ArtifactInput):
    """Multipart with an `artifact` file (and optional `sha256`), or JSON with `artifact_uri`."""


class VersionUpdateSerializer(StrictInputMixin, serializers.Serializer):
    release_notes = serializers.CharField(allow_blank=True)


class MetricsSerializer(StrictInputMixin, serializers.Serializer):
    metrics = MetricSerializer(many=True)


class ParamsSerializer(StrictInputMixin, serializers.Serializer):
    hyperparameters = serializers.DictField(
        child=serializers.JSONField(), help_text="Name: value pairs; existing names are kept."
    )


class DataVersionsSerializer(StrictInputMixin, serializers.Serializer):
    data_versions = DataVersionSerializer(many=True)


class LineageInputSerializer(StrictInputMixin, serializers.Serializer):
    parents = ParentRefSerializer(many=True)

    def validate_parents(self, refs):
        return resolve_parents(refs)


class ArtifactLinkSerializer(serializers.Serializer):
    uri = serializers.CharField(help_text="Fetch the artifact from here yourself.")
    sha256 = serializers.CharField(allow_blank=True)
