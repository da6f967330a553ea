"""Every audit action name, defined once. Services import these; nothing spells them inline."""

from django.db import models


class Action(models.TextChoices):
    TEAM_CREATED = "registry.team.created", "Team created"
    TEAM_MEMBER_ADDED = "registry.team.member_added", "Team member added"
    TEAM_MEMBER_REMOVED = "registry.team.member_removed", "Team member removed"
    TEAM_MAINTAINER_ADDED = "registry.team.maintainer_added", "Team maintainer added"
    TEAM_MAINTAINER_REMOVED = "registry.team.maintainer_removed", "Team maintainer removed"
    MODEL_CREATED = "registry.model.created", "Model created"
    MODEL_UPDATED = "registry.model.updated", "Model metadata updated"
    PERMISSION_GRANTED = "registry.permission.granted", "Permission granted"
    PERMISSION_REVOKED = "registry.permission.revoked", "Permission revoked"
    VERSION_REGISTERED = "registry.version.registered", "Version registered"
    VERSION_UPDATED = "registry.version.updated", "Version updated"
    METRICS_ATTACHED = "registry.version.metrics_attached", "Metrics attached"
    PARAMS_ATTACHED = "registry.version.params_attached", "Hyper-parameters attached"
    LINEAGE_ATTACHED = "registry.version.lineage_attached", "Lineage attached"
    DATA_VERSIONS_ATTACHED = "registry.version.data_attached", "Data versions attached"
    ARTIFACT_UPLOADED = "registry.artifact.uploaded", "Artifact uploaded"
    # Only downloads of confidential or restricted models' artifacts are recorded.
    ARTIFACT_DOWNLOADED = "registry.artifact.downloaded", "Restricted artifact downloaded"
    CARD_UPDATED = "registry.card.updated", "Model card updated"
    TOKEN_CREATED = "registry.token.created", "API token created"
    TOKEN_REVOKED = "registry.token.revoked", "API token revoked"
    AUDIT_EXPORTED = "audit.export.created", "Audit log exported"
    AUDIT_VERIFICATION_STARTED = "audit.verification.started", "Chain verification started"
