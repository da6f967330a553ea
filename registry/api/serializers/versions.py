"""Serializers of model versions and what is attached to them.

Input serializers check the shape of a request and nothing more: the services decide
what is valid (semantic versions, commit SHAs, URIs, metric values, lineage cycles).
Structured fields may arrive JSON-encoded in multipart bodies, next to the artifact.
`stage` is read-only; only the approvals app changes it.
"""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from ...choices import DataClassification, Framework, LineageRelation
from ...limits import validate_markdown_size
from ...models import ModelCard, ModelVersion, completeness_percent
from ...services import parse_parent_ref
from ...stages import Stage
from ...validators import validate_artifact_uri_pattern, validate_commit_sha, validate_semver
from ..fields import (
    HyperparametersField,
    HyperparametersJSONField,
    JSONListSerializer,
    StrictInputMixin,
)
from .models import api_reverse, drf_datetime

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
        raise serializers.ValidationError(
            exc.message_dict.get("parents", exc.messages), code="does_not_exist"
        ) from None


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
        return api_reverse(self.context, "api:version-artifact", version.model.name, version.number)


class VersionSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.name", read_only=True)
    stage = serializers.ChoiceField(
        choices=Stage.choices,
        read_only=True,
        help_text="Changes only through an approved transition request.",
    )
    artifact = serializers.SerializerMethodField()
    aliases = serializers.SerializerMethodField(
        help_text="The model's aliases that point at this version, by name."
    )
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    # URLs, or "" when not given (a URLField would promise format: uri).
    run_url = serializers.CharField(read_only=True)
    code_repository = serializers.CharField(read_only=True)
    card_completeness = serializers.SerializerMethodField(
        help_text="Percentage of model card sections filled in for this version (text "
        "inherited from an earlier version counts once reviewed or edited)."
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
            "aliases",
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

    def get_aliases(self, version) -> list[str]:
        return sorted((a.name for a in version.aliases.all()), key=str.lower)

    def get_card_completeness(self, version) -> int | None:
        try:
            return version.card.completeness
        except ModelCard.DoesNotExist:
            return None

    def get_url(self, version) -> str:
        return api_reverse(self.context, "api:version-detail", version.model.name, version.number)

    def get_web_url(self, version) -> str:
        return api_reverse(
            self.context, "registry:version_detail", version.model.name, version.number
        )


def version_rows(request, model, rows: list[dict]) -> list[dict]:
    """VersionSerializer's output for rows of selectors.version_rows, built directly: a
    page of 100 versions through the serializer spent ~30 ms in DRF's per-field work and
    ~200 URL reversals. The rows are the same (tests/api/test_version_list.py compares
    them), so the documented schema is VersionSerializer's."""
    api_url = reverse("api:version-detail", args=[model.name, 1], request=request)[:-2]
    web_url = reverse("registry:version_detail", args=[model.name, 1], request=request)[:-2]
    download = reverse("api:version-artifact", args=[model.name, 1], request=request)
    download_head, download_tail = download.rsplit("/1/", 1)
    result = []
    for row in rows:
        number = row["number"]
        filled = row["card_filled_sections"]
        has_artifact = bool(row["artifact"]) or bool(row["artifact_uri"])
        result.append(
            {
                "model": model.name,
                "number": number,
                "label": row["label"],
                "stage": row["stage"],
                "aliases": row.get("alias_names", []),
                "framework": row["framework"],
                "flavor": row["flavor"],
                "artifact": {
                    "filename": row["artifact_filename"],
                    "size": row["artifact_size"],
                    "sha256": row["artifact_sha256"],
                    "uri": row["artifact_uri"],
                    "download_url": f"{download_head}/{number}/{download_tail}",
                }
                if has_artifact
                else None,
                "run_system": row["run_system"],
                "run_id": row["run_id"],
                "run_url": row["run_url"],
                "code_repository": row["code_repository"],
                "code_commit": row["code_commit"],
                "release_notes": row["release_notes"],
                "created_by": row["created_by_name"],
                "created_at": drf_datetime(row["created_at"]),
                "card_completeness": None if filled is None else completeness_percent(filled),
                "url": f"{api_url}{number}/",
                "web_url": f"{web_url}{number}/",
            }
        )
    return result


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


def version_detail(request, version: ModelVersion) -> dict:
    """VersionDetailSerializer's output for a version as version_get loads it, built
    directly: the registration answers with it, and DRF's construction of the serializer
    and its per-field work took more of a registration's Python time than anything else
    (bench/results/registration-notes.md). The same JSON byte for byte
    (tests/api/test_registration_path.py compares it with a GET, which uses the
    serializer), so the documented schema is VersionDetailSerializer's."""
    model_name, number = version.model.name, version.number
    artifact = None
    if version.has_artifact:
        artifact = {
            "filename": version.artifact_filename,
            "size": version.artifact_size,
            "sha256": version.artifact_sha256,
            "uri": version.artifact_uri,
            "download_url": reverse(
                "api:version-artifact", args=[model_name, number], request=request
            ),
        }
    try:
        completeness = version.card.completeness
    except ModelCard.DoesNotExist:
        completeness = None
    return {
        "model": model_name,
        "number": number,
        "label": version.label,
        "stage": str(version.stage),
        "aliases": sorted((a.name for a in version.aliases.all()), key=str.lower),
        "framework": str(version.framework),
        "flavor": version.flavor,
        "artifact": artifact,
        "run_system": version.run_system,
        "run_id": version.run_id,
        "run_url": version.run_url,
        "code_repository": version.code_repository,
        "code_commit": version.code_commit,
        "release_notes": version.release_notes,
        "created_by": version.created_by.username,
        "created_at": drf_datetime(version.created_at),
        "card_completeness": completeness,
        "url": reverse("api:version-detail", args=[model_name, number], request=request),
        "web_url": reverse("registry:version_detail", args=[model_name, number], request=request),
        "hyperparameters": {str(k): v for k, v in version.hyperparameters.items()},
        "metrics": [
            {
                "name": m.name,
                "value": float(m.value),
                "dataset": m.dataset,
                "higher_is_better": m.higher_is_better,
            }
            for m in version.metrics.all()
        ],
        "data_versions": [
            {
                "dataset": d.dataset,
                "version_or_uri": d.version_or_uri,
                "content_hash": d.content_hash,
                "classification": d.classification,
            }
            for d in version.data_versions.all()
        ],
        "parents": lineage_parents(version),
        "children": lineage_children(version),
    }


# --- Versions: input ------------------------------------------------------------------


def validate_param_count(params) -> None:
    """Refuse an oversized object before its entries are looked at (the service counts
    again, with the names the version already has)."""
    limit = settings.HYPERPARAMETERS_MAX_PER_VERSION
    if len(params) > limit:
        raise serializers.ValidationError(f"At most {limit:,} hyper-parameters per version.")


class _ArtifactInput(serializers.Serializer):
    artifact = serializers.FileField(
        required=False, help_text="The artifact file (multipart requests only)."
    )
    artifact_uri = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        validators=[validate_artifact_uri_pattern],
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
        max_length=settings.VERSION_LABEL_MAX_CHARS,
        validators=[validate_semver],
        help_text="A semantic version such as 1.4.0, unique per model.",
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
        required=False,
        allow_blank=True,
        validators=[validate_commit_sha],
        help_text="The full 40-character commit SHA.",
    )
    release_notes = serializers.CharField(
        required=False, allow_blank=True, validators=[validate_markdown_size]
    )
    hyperparameters = HyperparametersField(
        child=serializers.JSONField(allow_null=True),
        required=False,
        help_text="Name: value pairs (string, number, boolean or null).",
        validators=[validate_param_count],
    )
    metrics = MetricSerializer(
        many=True, required=False, max_length=settings.METRICS_MAX_PER_VERSION
    )
    data_versions = DataVersionSerializer(many=True, required=False)
    parents = ParentRefSerializer(many=True, required=False)

    def validate_parents(self, refs):
        return resolve_parents(refs)


class VersionRegisterUploadSerializer(VersionRegisterSerializer):
    """A registration as multipart, for the schema: the file, its optional checksum, and
    the structured fields JSON-encoded (an artifact stored elsewhere is sent as JSON)."""

    artifact_uri = None
    # A checksum is checked against an uploaded file only (OpenAPI 3.1 dependentRequired).
    schema_dependent_required = {"sha256": ["artifact"]}


class VersionRegisterJSONSerializer(VersionRegisterSerializer):
    """A registration as JSON, for the schema: a file (and its checksum) needs multipart."""

    artifact = None
    sha256 = None


class ArtifactAttachSerializer(StrictInputMixin, _ArtifactInput):
    """Multipart with an `artifact` file (and optional `sha256`), or JSON with `artifact_uri`."""


class ArtifactUploadSerializer(ArtifactAttachSerializer):
    """An artifact file, as multipart, for the schema (the URI goes in a JSON body)."""

    artifact = serializers.FileField(help_text="The artifact file.")
    artifact_uri = None


class ArtifactLinkInputSerializer(ArtifactAttachSerializer):
    """An artifact stored elsewhere, as JSON, for the schema."""

    artifact = None
    sha256 = None
    artifact_uri = serializers.CharField(
        max_length=1000,
        validators=[validate_artifact_uri_pattern],
        help_text="Where the artifact lives, e.g. s3://bucket/path.",
    )


class VersionUpdateSerializer(StrictInputMixin, serializers.Serializer):
    release_notes = serializers.CharField(
        allow_blank=True, required=False, validators=[validate_markdown_size]
    )


# Adding nothing is refused (400), and the schema says so (minItems / minProperties).
class MetricsSerializer(StrictInputMixin, serializers.Serializer):
    metrics = MetricSerializer(
        many=True, allow_empty=False, max_length=settings.METRICS_MAX_PER_VERSION
    )


class ParamsSerializer(StrictInputMixin, serializers.Serializer):
    hyperparameters = HyperparametersJSONField(
        child=serializers.JSONField(allow_null=True),
        allow_empty=False,
        help_text="Name: value pairs; existing names are kept.",
        validators=[validate_param_count],
    )


class DataVersionsSerializer(StrictInputMixin, serializers.Serializer):
    data_versions = DataVersionSerializer(many=True, allow_empty=False)


class LineageInputSerializer(StrictInputMixin, serializers.Serializer):
    parents = ParentRefSerializer(many=True, allow_empty=False)

    def validate_parents(self, refs):
        return resolve_parents(refs)


class ArtifactLinkSerializer(serializers.Serializer):
    uri = serializers.CharField(help_text="Fetch the artifact from here yourself.")
    sha256 = serializers.CharField(allow_blank=True)
