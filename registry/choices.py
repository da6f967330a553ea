"""Choices used across the registry, defined once and imported everywhere else."""

from django.db import models


class RiskTier(models.TextChoices):
    """How much harm a model can do; selects the approval policy (approvals.policies).
    Set when the model is registered; changed only by governance staff, with a reason."""

    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class DataClassification(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    RESTRICTED = "restricted", "Restricted"


class Framework(models.TextChoices):
    PYTORCH = "pytorch", "PyTorch"
    TENSORFLOW = "tensorflow", "TensorFlow"
    SKLEARN = "sklearn", "scikit-learn"
    XGBOOST = "xgboost", "XGBoost"
    LIGHTGBM = "lightgbm", "LightGBM"
    ONNX = "onnx", "ONNX"
    TRANSFORMERS = "transformers", "Hugging Face Transformers"
    JAX = "jax", "JAX"
    OTHER = "other", "Other"


class TeamRole(models.TextChoices):
    # Every maintainer is also a member: the role widens what a member may do.
    MEMBER = "member", "Member"
    MAINTAINER = "maintainer", "Maintainer"


class LineageRelation(models.TextChoices):
    FINE_TUNED_FROM = "fine_tuned_from", "Fine-tuned from"
    DERIVED_FROM = "derived_from", "Derived from"


class SectionStatus(models.TextChoices):
    """Where a card section's text stands for the version the card belongs to."""

    EDITED = "edited", "Edited for this version"
    CONFIRMED = "confirmed", "Reviewed and kept for this version"
    INHERITED = "inherited", "Inherited, not yet reviewed for this version"


# The model card's sections, in the order they are shown and edited.
CARD_SECTIONS: list[tuple[str, str]] = [
    ("model_details", "Model details"),
    ("intended_use", "Intended use"),
    ("out_of_scope_use", "Out-of-scope use"),
    ("training_data", "Training data"),
    ("evaluation_data", "Evaluation data"),
    ("metrics_and_results", "Metrics and results"),
    ("ethical_considerations", "Ethical considerations"),
    ("caveats_and_limitations", "Caveats and limitations"),
    ("recommendations", "Recommendations"),
]
CARD_SECTION_NAMES = [name for name, _ in CARD_SECTIONS]

# The shared metadata standard: every registered model carries all of these.
METADATA_FIELDS = (
    "description",
    "purpose",
    "license",
    "data_classification",
    "evaluation_coverage",
)
# What a model's owners change through registry.services.model_update.
EDITABLE_FIELDS = ("name", "team", "owner", *METADATA_FIELDS)
