"""What the catalog writes to the audit log: its action names, each one's event shape and
sentence, the stage labels, and how the audit pages find a model (audit.actions).

The services write these events through registry.services.events.log_event; an event
that strays from its shape here is refused when it is written.
"""

from collections.abc import Collection, Mapping
from typing import Any

from django.db import models
from django.utils.html import format_html

from audit.actions import (
    EventShape,
    ModelDirectory,
    register,
    register_model_directory,
    register_stage_labels,
)
from audit.display import subject

from .choices import CARD_SECTION_NAMES, EDITABLE_FIELDS
from .links import model_url, version_url
from .models import RegisteredModel
from .permissions import APPROVE_PERM, CHANGE_PERM
from .stages import Stage


class Action(models.TextChoices):
    TEAM_CREATED = "registry.team.created", "Team created"
    TEAM_MEMBER_ADDED = "registry.team.member_added", "Team member added"
    TEAM_MEMBER_REMOVED = "registry.team.member_removed", "Team member removed"
    TEAM_MAINTAINER_ADDED = "registry.team.maintainer_added", "Team maintainer added"
    TEAM_MAINTAINER_REMOVED = "registry.team.maintainer_removed", "Team maintainer removed"
    MODEL_CREATED = "registry.model.created", "Model created"
    MODEL_UPDATED = "registry.model.updated", "Model metadata updated"
    MODEL_RISK_TIER_CHANGED = "registry.model.risk_tier_changed", "Model risk tier changed"
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
    TARGET_CREATED = "registry.deployment_target.created", "Deployment target created"
    TARGET_UPDATED = "registry.deployment_target.updated", "Deployment target updated"
    TARGET_SECRET_ROTATED = (
        "registry.deployment_target.secret_rotated",
        "Deployment target secret rotated",
    )
    TARGET_ROTATION_ENDED = (
        "registry.deployment_target.rotation_ended",
        "Deployment target previous secret retired",
    )
    TARGET_TESTED = "registry.deployment_target.tested", "Deployment target sent a test event"
    # The same webhook (same webhook-id) sent again, by a person.
    DELIVERY_REDELIVERED = "registry.delivery.redelivered", "Webhook delivery sent again"
    # By the system, when a receiver answers 410 Gone.
    TARGET_DISABLED = "registry.deployment_target.disabled", "Deployment target disabled"
    # A deployment system's report of a version's state on a target (about the version).
    DEPLOYMENT_REPORTED = "registry.deployment.reported", "Deployment state reported"
    # Model version aliases (registry.services.aliases), about the version pointed at.
    ALIAS_SET = "registry.alias.set", "Alias set"
    ALIAS_MOVED = "registry.alias.moved", "Alias moved"
    ALIAS_DELETED = "registry.alias.deleted", "Alias deleted"
    # One event for a whole synthetic load (manage.py synth), not one per row.
    CATALOG_BULK_LOADED = "registry.catalog.bulk_loaded", "Synthetic catalog loaded"


# Object permissions that services grant and revoke, by codename.
PERMISSION_NAMES = {CHANGE_PERM: "Edit permission", APPROVE_PERM: "Approve permission"}


def _done_to_user(sentence: str):
    """A sentence naming the user an event was about, their team and the permission."""

    def describe(event, changes: Mapping[str, Any]):
        user = changes.get("user")
        if not user:
            return None
        codename = str(changes.get("permission", "")).rpartition(".")[2]
        perm = PERMISSION_NAMES.get(codename) or (
            format_html("Permission “{}”", codename) if codename else "Permission"
        )
        team = subject(changes.get("team", ""))
        return format_html(sentence, perm=perm, user=subject(user), team=team)

    return describe


def _token(verb: str):
    def describe(event, changes: Mapping[str, Any]):
        name, owner = changes.get("name"), changes.get("owner")
        if not name:
            return None
        # An admin revoking someone else's token says whose it was.
        whose = format_html(" of {}", subject(owner)) if owner and owner != event.actor_name else ""
        return format_html("API token “{}”{} {}", name, whose, verb)

    return describe


def _target(verb: str):
    def describe(event, changes: Mapping[str, Any]):
        name = changes.get("name")
        if not name:
            return None
        return format_html("Deployment target {} {}", subject(name), verb)

    return describe


def _reported(event, changes: Mapping[str, Any]):
    target, state = changes.get("target"), changes.get("state")
    if not target or not state:
        return None
    return format_html("Deployment target {} reported: {}", subject(target), state)


def _alias(event, changes: Mapping[str, Any]):
    """ "Alias “champion” moved from v2 to v3", from what the event recorded."""
    alias, version = changes.get("alias"), changes.get("version")
    if not alias or version in (None, ""):
        return None
    via = changes.get("request")
    via = format_html(" (request #{})", via) if via else ""
    if event.action == Action.ALIAS_MOVED and isinstance(version, list) and len(version) == 2:
        return format_html(
            "Alias {} moved from v{} to v{}{}", subject(alias), version[0], version[1], via
        )
    if event.action == Action.ALIAS_DELETED:
        return format_html("Alias {} removed from v{}", subject(alias), version)
    return format_html("Alias {} set on v{}{}", subject(alias), version, via)


MEMBERSHIP = ("team", "user", "role")
# What a deployment target's events record; never its secret.
TARGET_FIELDS = (
    "name",
    "kind",
    "environment",
    "url",
    "repository",
    "branch",
    "manifest_path",
    "events",
    "scope",
    "team",
    "models",
    "active",
)
VERSION_ARTIFACT = ("artifact", "artifact_sha256", "artifact_size")
MODEL_FIELDS = (*EDITABLE_FIELDS, "risk_tier", "tags")

register(
    Action,
    {
        Action.TEAM_CREATED: EventShape(changes=("name", "description")),
        Action.TEAM_MEMBER_ADDED: EventShape(
            changes=MEMBERSHIP, describe=_done_to_user("{user} added to team {team}")
        ),
        Action.TEAM_MEMBER_REMOVED: EventShape(
            changes=MEMBERSHIP, describe=_done_to_user("{user} removed from team {team}")
        ),
        Action.TEAM_MAINTAINER_ADDED: EventShape(
            changes=MEMBERSHIP, describe=_done_to_user("{user} made a maintainer of team {team}")
        ),
        Action.TEAM_MAINTAINER_REMOVED: EventShape(
            changes=MEMBERSHIP,
            describe=_done_to_user("{user} no longer a maintainer of team {team}"),
        ),
        Action.MODEL_CREATED: EventShape(changes=MODEL_FIELDS),
        # Only the fields that changed, each as [old, new].
        Action.MODEL_UPDATED: EventShape(changes=MODEL_FIELDS),
        # [old, new], with the governance reason in the event's reason.
        Action.MODEL_RISK_TIER_CHANGED: EventShape(changes=("risk_tier",), fields=("reason",)),
        Action.PERMISSION_GRANTED: EventShape(
            changes=("user", "permission"), describe=_done_to_user("{perm} granted to {user}")
        ),
        Action.PERMISSION_REVOKED: EventShape(
            changes=("user", "permission"), describe=_done_to_user("{perm} revoked from {user}")
        ),
        Action.VERSION_REGISTERED: EventShape(
            changes=(
                "label",
                "framework",
                *VERSION_ARTIFACT,
                "code_commit",
                "run_id",
                "metrics",
                "hyperparameters",
                "data_versions",
                "parents",
            )
        ),
        Action.VERSION_UPDATED: EventShape(changes=("release_notes",)),
        Action.METRICS_ATTACHED: EventShape(changes=("metrics",)),
        Action.PARAMS_ATTACHED: EventShape(changes=("hyperparameters",)),
        Action.LINEAGE_ATTACHED: EventShape(changes=("parents",)),
        Action.DATA_VERSIONS_ATTACHED: EventShape(changes=("data_versions",)),
        Action.ARTIFACT_UPLOADED: EventShape(changes=VERSION_ARTIFACT),
        Action.ARTIFACT_DOWNLOADED: EventShape(
            changes=("artifact", "artifact_sha256", "data_classification", "via")
        ),
        # The sections that changed as [old, new], the inherited ones confirmed as they are.
        Action.CARD_UPDATED: EventShape(
            changes=(*CARD_SECTION_NAMES, "confirmed", "revision", "completeness")
        ),
        Action.TOKEN_CREATED: EventShape(changes=("name", "prefix"), describe=_token("created")),
        Action.TOKEN_REVOKED: EventShape(
            changes=("name", "prefix", "owner"), describe=_token("revoked")
        ),
        Action.TARGET_CREATED: EventShape(changes=TARGET_FIELDS, describe=_target("created")),
        # Only the fields that changed, each as [old, new] (and the name, to say which).
        Action.TARGET_UPDATED: EventShape(changes=TARGET_FIELDS, describe=_target("updated")),
        Action.TARGET_SECRET_ROTATED: EventShape(
            changes=("name", "previous_secret_until"), describe=_target("secret rotated")
        ),
        Action.TARGET_ROTATION_ENDED: EventShape(
            changes=("name",), describe=_target("previous secret retired")
        ),
        Action.TARGET_TESTED: EventShape(
            changes=("name", "delivery"), describe=_target("sent a test event")
        ),
        Action.DELIVERY_REDELIVERED: EventShape(
            changes=("name", "delivery", "event", "previous_state"),
            describe=_target("sent a webhook again"),
        ),
        Action.TARGET_DISABLED: EventShape(
            changes=("name", "why", "delivery"), describe=_target("disabled")
        ),
        # The state reported, the endpoint and message as sent, and what the target
        # reported before about this model ("v6 serving"), if anything.
        Action.DEPLOYMENT_REPORTED: EventShape(
            changes=("target", "environment", "state", "endpoint_url", "message", "previous"),
            describe=_reported,
        ),
        # "version" is the number; for a move, [old, new]. "request": the approvals
        # request that a protected alias was set through, else null.
        Action.ALIAS_SET: EventShape(changes=("alias", "version", "request"), describe=_alias),
        Action.ALIAS_MOVED: EventShape(changes=("alias", "version", "request"), describe=_alias),
        Action.ALIAS_DELETED: EventShape(changes=("alias", "version"), describe=_alias),
        Action.CATALOG_BULK_LOADED: EventShape(
            changes=(
                "synthetic_models",
                "synthetic_versions",
                "synthetic_cards",
                "synthetic_metrics",
                "synthetic_lineage_links",
                "first_model_id",
                "last_model_id",
                "seed",
            )
        ),
    },
)

register_stage_labels(Stage.choices)


def _model_id_named(name: str) -> int | None:
    # lower(name) = ... is served by the unique index on lower(name) (registry.apps).
    return (
        RegisteredModel.objects.filter(name__lower=name.lower())
        .values_list("pk", flat=True)
        .first()
    )


def _model_names(ids: Collection[int]) -> dict[int, str]:
    return dict(RegisteredModel.objects.filter(pk__in=ids).values_list("pk", "name"))


register_model_directory(
    ModelDirectory(
        id_named=_model_id_named,
        names=_model_names,
        model_url=model_url,
        version_url=version_url,
    )
)
