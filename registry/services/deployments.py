"""Deployment targets: who defines them, where they may point, their secrets.

Targets are managed by platform admins (any scope) and by team maintainers (their
team's models, or models of teams they maintain); each change is audited, and a
target's secret is returned once by the call that makes it and never logged. What is
sent to them, and how, is registry.services.deliveries.
"""

import logging
import secrets
from base64 import b64encode
from collections.abc import Iterable, Sequence
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from ..audit_actions import Action
from ..deployments.addresses import AddressRefused, url_check
from ..deployments.gitops import (
    RepositoryRefused,
    branch_check,
    manifest_path_check,
    repository_check,
)
from ..deployments.models import (
    DeliveryEvent,
    DeploymentTarget,
    Environment,
    TargetKind,
    TargetScope,
)
from ..models import RegisteredModel, Team
from ..permissions import can_edit_model, can_manage_team
from ..stages import Stage
from .events import log_event

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
EVENT_FOR_STAGE = {
    Stage.STAGING: DeliveryEvent.PROMOTED_STAGING,
    Stage.PRODUCTION: DeliveryEvent.PROMOTED_PRODUCTION,
    Stage.ARCHIVED: DeliveryEvent.ARCHIVED,
}


def _new_secret() -> str:
    # Standard Webhooks' format: base64 of 32 random bytes (256 bits) after "whsec_".
    return SECRET_PREFIX + b64encode(secrets.token_bytes(32)).decode()


# --- Targets ---------------------------------------------------------------------------


def _require_may_manage(
    actor, *, scope: str, team: Team | None, models: Sequence[RegisteredModel]
) -> None:
    if actor.is_superuser:
        return
    if scope == TargetScope.ALL:
        raise PermissionDenied("Only platform admins define targets for all models.")
    if scope == TargetScope.TEAM and not can_manage_team(actor, team):
        raise PermissionDenied(
            f"Only maintainers of team {team.name} define targets for its models."
        )
    if scope == TargetScope.MODELS:
        refused = [m.name for m in models if not can_edit_model(actor, m)]
        if refused:
            raise PermissionDenied(
                f"Only the owning team defines targets for {', '.join(sorted(refused))}."
            )


def _clean(
    *,
    kind: str,
    name: str,
    environment: str,
    url: str,
    repository: str,
    branch: str,
    manifest_path: str,
    events: Iterable[str],
    scope: str,
    team: Team | None,
    models: Sequence[RegisteredModel],
    target: DeploymentTarget | None = None,
) -> dict:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    url = (url or "").strip()
    events = list(dict.fromkeys(events or ()))
    if not name or len(name) > 100:
        errors["name"] = ["Name the target (1-100 characters), e.g. 'argo-prod-eu'."]
    elif (
        DeploymentTarget.objects.filter(name__iexact=name)
        .exclude(pk=getattr(target, "pk", None))
        .exists()
    ):
        errors["name"] = [f"A target named {name} exists already; choose another name."]
    if environment not in Environment.values:
        errors["environment"] = [f"Choose one of: {', '.join(Environment.values)}."]
    git = {"repository": "", "branch": "", "manifest_path": ""}
    if kind not in TargetKind.values:
        errors["kind"] = [f"Choose one of: {', '.join(TargetKind.values)}."]
    elif kind == TargetKind.GIT:
        url = ""
        checks = {
            "repository": (repository, repository_check),
            "branch": (branch, branch_check),
            "manifest_path": (manifest_path, manifest_path_check),
        }
        for field, (value, check) in checks.items():
            try:
                git[field] = check((value or "").strip())
            except (RepositoryRefused, AddressRefused) as exc:
                errors[field] = [str(exc)]
    elif len(url) > 1000:
        errors["url"] = ["Keep the URL under 1000 characters."]
    else:
        try:
            url_check(url)
        except AddressRefused as exc:
            errors["url"] = [str(exc)]
    unknown = [e for e in events if e not in DeliveryEvent.values]
    if unknown or not events:
        errors["events"] = [
            f"Subscribe to at least one of: {', '.join(DeliveryEvent.values)}"
            + (f" (not {', '.join(map(str, unknown))})." if unknown else ".")
        ]
    if scope not in TargetScope.values:
        errors["scope"] = [f"Choose one of: {', '.join(TargetScope.values)}."]
    elif scope == TargetScope.TEAM and team is None:
        errors["team"] = ["Choose the team whose models the target receives."]
    elif scope == TargetScope.MODELS and not models:
        errors["models"] = ["Choose at least one model."]
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "environment": environment,
        "url": url,
        **git,
        "events": events,
        "scope": scope,
        "team": team if scope == TargetScope.TEAM else None,
    }


def _models_for(scope: str, models: Sequence[RegisteredModel]) -> list[RegisteredModel]:
    return sorted(models, key=lambda m: m.name) if scope == TargetScope.MODELS else []


@transaction.atomic
def deployment_target_create(
    *,
    actor,
    name: str,
    environment: str,
    events: Iterable[str],
    url: str = "",
    kind: str = TargetKind.WEBHOOK,
    repository: str = "",
    branch: str = "",
    manifest_path: str = "",
    scope: str = TargetScope.ALL,
    team: Team | None = None,
    models: Sequence[RegisteredModel] = (),
    active: bool = True,
) -> tuple[DeploymentTarget, str]:
    """Create a target. A webhook target gets a new strong secret: returns the target
    and the secret, which no page, log or API shows again (rotate it to get a new one).
    A Git target (repository, branch, manifest path) has no secret: returns ""."""
    values = _clean(
        kind=kind, name=name, environment=environment, url=url, repository=repository,
        branch=branch, manifest_path=manifest_path, events=events, scope=scope, team=team,
        models=models,
    )  # fmt: skip
    chosen = _models_for(scope, models)
    _require_may_manage(actor, scope=scope, team=values["team"], models=chosen)
    secret = _new_secret() if kind == TargetKind.WEBHOOK else ""
    target = DeploymentTarget.objects.create(
        **values, kind=kind, secret=secret, active=bool(active), created_by=actor
    )
    target.chosen_models.set(chosen)
    log_event(
        target,
        Action.TARGET_CREATED,
        actor=actor,
        changes=_shown(target, chosen),
    )
    return target, secret


def _shown(target: DeploymentTarget, chosen: Sequence[RegisteredModel]) -> dict:
    where = (
        {
            "repository": target.repository,
            "branch": target.branch,
            "manifest_path": target.manifest_path,
        }
        if target.is_git
        else {"url": target.url}
    )
    return {
        "name": target.name,
        "kind": target.kind,
        "environment": target.environment,
        **where,
        "events": list(target.events),
        "scope": target.scope,
        "team": target.team.name if target.team else None,
        "models": [m.name for m in chosen],
        "active": target.active,
    }


def _lock(target: DeploymentTarget) -> DeploymentTarget:
    return (
        DeploymentTarget.objects.select_for_update(of=("self",))
        .select_related("team")
        .get(pk=target.pk)
    )


def _require_may_manage_target(actor, target: DeploymentTarget) -> None:
    _require_may_manage(
        actor, scope=target.scope, team=target.team, models=list(target.chosen_models.all())
    )


@transaction.atomic
def deployment_target_update(
    *,
    actor,
    target: DeploymentTarget,
    name: str,
    environment: str,
    events: Iterable[str],
    scope: str,
    url: str = "",
    repository: str = "",
    branch: str = "",
    manifest_path: str = "",
    team: Team | None = None,
    models: Sequence[RegisteredModel] = (),
    active: bool = True,
) -> DeploymentTarget:
    """Change a target (not its kind, nor its secret: see
    deployment_target_rotate_secret). The actor must be allowed to manage it both as it
    was and as it becomes."""
    target = _lock(target)
    _require_may_manage_target(actor, target)
    values = _clean(
        kind=target.kind, name=name, environment=environment, url=url,
        repository=repository, branch=branch, manifest_path=manifest_path, events=events,
        scope=scope, team=team, models=models, target=target,
    )  # fmt: skip
    chosen = _models_for(scope, models)
    _require_may_manage(actor, scope=scope, team=values["team"], models=chosen)
    before = _shown(target, list(target.chosen_models.all()))
    values["active"] = bool(active)
    for field, value in values.items():
        setattr(target, field, value)
    if target.active:
        target.disabled_reason = ""
    target.save()
    target.chosen_models.set(chosen)
    after = _shown(target, chosen)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        log_event(
            target, Action.TARGET_UPDATED, actor=actor, changes={"name": target.name, **changes}
        )
    return target


@transaction.atomic
def deployment_target_rotate_secret(
    *, actor, target: DeploymentTarget
) -> tuple[DeploymentTarget, str]:
    """Give the target a new secret, returned once. Until the rotation ends (after
    WEBHOOK_SECRET_ROTATION_HOURS, or deployment_target_rotation_end) every webhook
    carries two signatures, one per secret, so the receiver can switch at its pace."""
    target = _lock(target)
    _require_may_manage_target(actor, target)
    if target.is_git:
        raise ValidationError(
            f"{target.name} is a Git target: it has no secret (the worker's Git "
            "credentials authenticate its pushes)."
        )
    secret = _new_secret()
    until = timezone.now() + timedelta(hours=settings.WEBHOOK_SECRET_ROTATION_HOURS)
    target.previous_secret, target.secret, target.rotation_ends_at = target.secret, secret, until
    target.save(update_fields=["previous_secret", "secret", "rotation_ends_at", "updated_at"])
    log_event(
        target,
        Action.TARGET_SECRET_ROTATED,
        actor=actor,
        changes={"name": target.name, "previous_secret_until": until.isoformat()},
    )
    return target, secret


@transaction.atomic
def deployment_target_rotation_end(*, actor, target: DeploymentTarget) -> DeploymentTarget:
    """Stop signing with the previous secret now."""
    target = _lock(target)
    _require_may_manage_target(actor, target)
    if not target.previous_secret:
        raise ValidationError("This target's secret is not being rotated.")
    target.previous_secret, target.rotation_ends_at = "", None
    target.save(update_fields=["previous_secret", "rotation_ends_at", "updated_at"])
    log_event(target, Action.TARGET_ROTATION_ENDED, actor=actor, changes={"name": target.name})
    return target


def deployment_target_may_manage(actor, target: DeploymentTarget) -> bool:
    """Whether `actor` may change `target`, see its deliveries and resend them."""
    try:
        _require_may_manage_target(actor, target)
    except PermissionDenied:
        return False
    return True
