"""The catalog's tables. State changes go through registry/services.py, never save()."""

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from .choices import (
    CARD_SECTION_NAMES,
    CARD_SECTIONS,
    DataClassification,
    Framework,
    LineageRelation,
    RiskTier,
    SectionStatus,
    TeamRole,
)
from .stages import Stage, StageChangeKind
from .validators import (
    validate_alias_name,
    validate_artifact_uri,
    validate_commit_sha,
    validate_license,
    validate_model_name,
    validate_semver,
    validate_sha256,
    validate_tag,
)


def artifact_storage():
    return storages["artifacts"]


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="TeamMembership", related_name="teams"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("approve_staging_team", "Can approve transitions to Staging of the team's models"),
            (
                "approve_production_team",
                "Can approve transitions to Production of the team's models",
            ),
            ("approve_archived_team", "Can approve transitions to Archived of the team's models"),
        ]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    # Maintainers manage their team's members (registry/services/teams.py).
    role = models.CharField(max_length=20, choices=TeamRole.choices, default=TeamRole.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="unique_team_member"),
        ]


class Tag(models.Model):
    name = models.CharField(max_length=40, unique=True, validators=[validate_tag])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RegisteredModel(models.Model):
    name = models.CharField(max_length=100, validators=[validate_model_name])
    # registry.names.name_key(name), which near-duplicate names share; unique, so two
    # registrations of look-alike names cannot both commit. NULL only for a model that
    # near-duplicated an older one before the rule existed (migration 0007).
    name_key = models.CharField(max_length=400, null=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="models")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_models",
        help_text="The person accountable for this model.",
    )
    description = models.TextField()
    purpose = models.TextField(help_text="The business decision or product this model serves.")
    license = models.CharField(
        max_length=200,
        validators=[validate_license],
        help_text="An SPDX license identifier or expression, or 'proprietary'.",
    )
    data_classification = models.CharField(
        max_length=20,
        choices=DataClassification.choices,
        help_text="The most sensitive class of data the model was trained on.",
    )
    evaluation_coverage = models.TextField(help_text="Which slices and datasets were evaluated.")
    # Selects the approval policy; changed only by governance staff, with a reason
    # (services.model_risk_tier_set).
    risk_tier = models.CharField(max_length=10, choices=RiskTier.choices, editable=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="models")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Kept up to date by the services, for the catalog's facets, sorting and search.
    last_version_number = models.PositiveIntegerField(default=0, editable=False)
    latest_framework = models.CharField(max_length=20, blank=True, editable=False)
    current_stage = models.CharField(
        max_length=20, choices=Stage.choices, default=Stage.NONE, editable=False
    )
    tag_list = models.JSONField(default=list, editable=False)  # copy of `tags`, for facets
    search_text = models.TextField(blank=True, editable=False)
    # The catalog's static order (stage, last update, versions, id), kept by a
    # PostgreSQL trigger (migration 0014); ranking takes its candidates from its top.
    search_key = models.BigIntegerField(null=True, editable=False)
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="unique_model_name_ci"),
            models.UniqueConstraint(fields=["name_key"], name="unique_model_name_key"),
        ]
        indexes = [
            models.Index(fields=["name", "id"]),  # the catalog's default order
            models.Index(fields=["team", "name"]),
            models.Index(fields=["-updated_at"]),
            models.Index(fields=["current_stage"]),
            models.Index(fields=["license"]),
            models.Index(fields=["data_classification"]),
            models.Index(fields=["latest_framework"]),
        ]
        permissions = [
            # Named approvers, per stage (approvals.approvers). Held on a model, or on its
            # team (registry.Team) for every model of the team; through a group counts.
            ("approve_staging_registeredmodel", "Can approve transitions of this model to Staging"),
            (
                "approve_production_registeredmodel",
                "Can approve transitions of this model to Production",
            ),
            (
                "approve_archived_registeredmodel",
                "Can approve transitions of this model to Archived",
            ),
            ("set_risk_tier_registeredmodel", "Can change a model's risk tier"),
        ]

    def __str__(self) -> str:
        return self.name


class ModelVersion(models.Model):
    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(editable=False)
    label = models.CharField(max_length=100, validators=[validate_semver])
    # Only registry.stages.stage_set changes this, called by approvals (DESIGN invariant 2).
    stage = models.CharField(
        max_length=20, choices=Stage.choices, default=Stage.NONE, editable=False
    )
    framework = models.CharField(max_length=20, choices=Framework.choices)
    flavor = models.CharField(max_length=100, blank=True)

    artifact = models.FileField(storage=artifact_storage, max_length=500, blank=True)
    artifact_uri = models.CharField(max_length=1000, blank=True, validators=[validate_artifact_uri])
    artifact_filename = models.CharField(max_length=255, blank=True)
    artifact_sha256 = models.CharField(max_length=64, blank=True, validators=[validate_sha256])
    artifact_size = models.BigIntegerField(null=True, blank=True)

    run_system = models.CharField(max_length=50, blank=True, help_text="e.g. mlflow, wandb")
    run_id = models.CharField(max_length=200, blank=True)
    run_url = models.URLField(max_length=1000, blank=True)
    code_repository = models.URLField(max_length=500, blank=True)
    code_commit = models.CharField(max_length=64, blank=True, validators=[validate_commit_sha])

    hyperparameters = models.JSONField(default=dict, blank=True)
    release_notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["model", "number"], name="unique_version_number"),
            models.UniqueConstraint(fields=["model", "label"], name="unique_version_label"),
            # DESIGN invariant 1: at most one Production version per model.
            models.UniqueConstraint(
                fields=["model"],
                condition=Q(stage=Stage.PRODUCTION),
                name="one_production_version_per_model",
            ),
        ]
        indexes = [
            # A model's newest version in each stage (MLflow's latest_versions) is one
            # probe per stage, however many versions the model has.
            models.Index(fields=["model", "stage", "number"], name="version_newest_per_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.model.name} v{self.number} ({self.label})"

    @property
    def has_artifact(self) -> bool:
        return bool(self.artifact) or bool(self.artifact_uri)

    @property
    def is_production(self) -> bool:
        return self.stage == Stage.PRODUCTION


class ModelAlias(models.Model):
    """A name per registered model that points at one of its versions (MLflow's model
    version aliases: "champion", "challenger"). Setting an existing alias moves it; a
    version may carry several. Names are unique per model ignoring case and keep the
    spelling they were first set with. Changed only by registry.services.aliases."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=64, validators=[validate_alias_name])
    # Deleting a version drops its aliases, as in MLflow.
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="aliases")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model", "name"]
        constraints = [
            models.UniqueConstraint("model", Lower("name"), name="unique_alias_per_model_ci"),
        ]

    def __str__(self) -> str:
        return f"{self.model.name}@{self.name}"


class StageChange(models.Model):
    """The record of one change of a version's stage, written only by
    registry.stages.stage_set. The PostgreSQL trigger on ModelVersion.stage allows a
    change only when a row for it exists with the changing transaction's id."""

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="+")
    from_stage = models.CharField(max_length=20, choices=Stage.choices)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    kind = models.CharField(max_length=20, choices=StageChangeKind.choices)
    # approvals.TransitionRequest id (no FK: registry does not depend on approvals).
    request_id = models.BigIntegerField(null=True, blank=True)
    txid = models.BigIntegerField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["version", "txid"])]


class DataVersion(models.Model):
    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="data_versions"
    )
    dataset = models.CharField(max_length=200)
    version_or_uri = models.CharField(max_length=1000)
    content_hash = models.CharField(max_length=200, blank=True)
    classification = models.CharField(max_length=20, choices=DataClassification.choices)

    class Meta:
        ordering = ["dataset"]


class Metric(models.Model):
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=100)
    value = models.FloatField()
    dataset = models.CharField(max_length=200, blank=True, help_text="dataset / split")
    higher_is_better = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "dataset"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "name", "dataset"], name="unique_metric_per_dataset"
            ),
        ]


class VersionParent(models.Model):
    """Lineage: `child` was fine-tuned from / derived from `parent`."""

    child = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="parent_links")
    parent = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="child_links")
    relation = models.CharField(max_length=20, choices=LineageRelation.choices)
    # Copies of child.model and parent.model (a version never changes model), so a
    # model page finds its newest links with one index range scan per side.
    child_model = models.ForeignKey(
        RegisteredModel, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    parent_model = models.ForeignKey(
        RegisteredModel, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        indexes = [
            models.Index(fields=["child_model", "-id"], name="lineage_by_child_model"),
            models.Index(fields=["parent_model", "-id"], name="lineage_by_parent_model"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["child", "parent"], name="unique_lineage_edge"),
            models.CheckConstraint(condition=~Q(child=models.F("parent")), name="no_self_lineage"),
        ]


class ModelCard(models.Model):
    """A version's model card: one Markdown text per section, with each section's
    provenance (which version its text was written or reviewed for, by whom, when).

    `revision` grows by one with every saved change; a save names the revision it
    started from and is refused if the card moved on meanwhile (services.card_update).
    """

    version = models.OneToOneField(ModelVersion, on_delete=models.CASCADE, related_name="card")
    model_details = models.TextField(blank=True)
    intended_use = models.TextField(blank=True)
    out_of_scope_use = models.TextField(blank=True)
    training_data = models.TextField(blank=True)
    evaluation_data = models.TextField(blank=True)
    metrics_and_results = models.TextField(blank=True)
    ethical_considerations = models.TextField(blank=True)
    caveats_and_limitations = models.TextField(blank=True)
    recommendations = models.TextField(blank=True)
    revision = models.PositiveIntegerField(default=1)
    # {section: {"status": SectionStatus, "edited_for": version number, "edited_by": user
    # id, "edited_at": ISO time, "inherited_from": version number, "confirmed_by": user
    # id, "confirmed_at": ISO time}}, written only by the card services. A section
    # without an entry has never been reviewed for this version (it does not count).
    provenance = models.JSONField(default=dict, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def sections(self) -> list[tuple[str, str, str]]:
        """(field name, title, markdown) for every section, in display order."""
        return [(name, title, getattr(self, name)) for name, title in CARD_SECTIONS]

    def section_state(self, name: str) -> dict:
        """The section's provenance, with every key present."""
        return {**EMPTY_SECTION_STATE, **self.provenance.get(name, {})}

    def section_counts(self, name: str) -> bool:
        """A section counts for this version's card once it has text that was written
        or reviewed for this version; text inherited from a predecessor does not."""
        status = self.provenance.get(name, {}).get("status")
        return bool(getattr(self, name).strip()) and status in COUNTED_STATUSES

    @property
    def filled_sections(self) -> list[str]:
        """Sections with text written or reviewed for this version (what completeness
        and the approval gates count)."""
        return [name for name in CARD_SECTION_NAMES if self.section_counts(name)]

    @property
    def inherited_sections(self) -> list[str]:
        """Sections with text carried over from a predecessor, not yet reviewed."""
        return [
            name
            for name in CARD_SECTION_NAMES
            if getattr(self, name).strip() and not self.section_counts(name)
        ]

    @property
    def completeness(self) -> int:
        """Percentage of sections filled for this version (0-100)."""
        return completeness_percent(len(self.filled_sections))

    @property
    def is_complete(self) -> bool:
        return len(self.filled_sections) == len(CARD_SECTION_NAMES)

    @property
    def etag(self) -> str:
        """The card's entity tag: changes with every saved change, differs between cards."""
        return f'"card-{self.pk}-r{self.revision}"'

    def text(self) -> str:
        return "\n".join(getattr(self, name) for name in CARD_SECTION_NAMES)


def completeness_percent(filled_sections: int) -> int:
    """A card's completeness (0-100) from the number of its sections that count."""
    return round(100 * filled_sections / len(CARD_SECTION_NAMES))


EMPTY_SECTION_STATE = {
    "status": SectionStatus.INHERITED.value,
    "edited_for": None,
    "edited_by": None,
    "edited_at": None,
    "inherited_from": None,
    "confirmed_by": None,
    "confirmed_at": None,
}
COUNTED_STATUSES = (SectionStatus.EDITED.value, SectionStatus.CONFIRMED.value)


class APIToken(models.Model):
    """A personal API token. Only its SHA-256 digest is stored; the secret is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


# Deployment targets and their webhook outbox live in their own module.
from .deployments.models import (  # noqa: E402, F401
    Delivery,
    DeliveryAttempt,
    DeploymentReport,
    DeploymentTarget,
    Serving,
)
