"""Registered models: create, update metadata, grant per-model edit rights."""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from guardian.shortcuts import assign_perm, remove_perm

from ..audit_actions import Action
from ..choices import EDITABLE_FIELDS, RiskTier
from ..errors import Conflict
from ..limits import check_count, check_length, check_markdown_sizes
from ..models import RegisteredModel, Tag, Team, TeamMembership
from ..names import name_clash_message, name_key
from ..permissions import (
    CHANGE_PERM,
    can_create_model_for_team,
    forget_cached_permissions,
    require_edit_model,
)
from ..search import search_refresh
from ..selectors import model_named_like
from ..validators import normalize_license, validate_tag
from .events import field_diff, log_event

RISK_TIER_PERMISSION = "registry.set_risk_tier_registeredmodel"
MARKDOWN_FIELDS = ("description", "purpose", "evaluation_coverage")


def normalize_tags(tags: Iterable[str]) -> list[str]:
    names = sorted({t.strip().lower() for t in tags if t and t.strip()})
    check_count("tags", len(names), settings.TAGS_MAX_PER_MODEL, "tags per model")
    errors = []
    for name in names:
        try:
            validate_tag(name)
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError({"tags": errors})
    return names


def _set_tags(model: RegisteredModel, names: list[str]) -> None:
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=n) for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    model.tags.set([existing[n] for n in names])
    RegisteredModel.objects.filter(pk=model.pk).update(tag_list=names)
    model.tag_list = names


def _check_name_free(name: str, *, exclude_pk: int | None = None) -> None:
    """Conflict naming the model that `name` near-duplicates (registry.names). Runs
    before the format check, so a look-alike of an existing name is told which one."""
    clash = model_named_like(name, exclude_pk=exclude_pk)
    if clash is not None:
        raise Conflict(name_clash_message(name, clash.name))


def _save_named(model: RegisteredModel) -> None:
    """Save, turning a lost race for the name (the unique key) into the same Conflict."""
    try:
        with transaction.atomic():
            model.save()
    except IntegrityError:
        _check_name_free(model.name, exclude_pk=model.pk)
        raise Conflict(f"A model named like {model.name!r} already exists.") from None


def _require_owner_in_team(owner, team: Team) -> None:
    """The owner answers for the model inside its team, so they must belong to it."""
    if not TeamMembership.objects.filter(team=team, user=owner).exists():
        raise ValidationError(
            {
                "owner": [
                    f"{owner.get_username()} is not a member of {team.name}: the owner must "
                    f"belong to the owning team. Choose a member of {team.name}."
                ]
            }
        )


def _clean(model: RegisteredModel) -> None:
    check_length("name", model.name, settings.MODEL_NAME_MAX_CHARS, "A model name")
    check_markdown_sizes({f: getattr(model, f) for f in MARKDOWN_FIELDS})
    try:
        model.license = normalize_license(model.license)
    except ValidationError as exc:
        raise ValidationError({"license": exc.messages}) from None
    model.full_clean(exclude=["created_by"], validate_constraints=False)


def _display(value: Any) -> Any:
    if isinstance(value, Team):
        return value.name
    if hasattr(value, "get_username"):
        return value.get_username()
    return value


@transaction.atomic
def model_create(
    *,
    actor,
    name: str,
    team: Team,
    owner,
    description: str,
    purpose: str,
    license: str,
    data_classification: str,
    evaluation_coverage: str,
    risk_tier: str,
    tags: Iterable[str] = (),
) -> RegisteredModel:
    """Register a new model for `team`.

    The actor must belong to the team (or be an admin), and so must the owner. Every
    metadata field and the risk tier are required; a name that near-duplicates an
    existing one (case, look-alike characters, punctuation: registry.names) is a
    Conflict naming that model.
    """
    if not can_create_model_for_team(actor, team.pk):
        raise PermissionDenied(f"Only members of {team.name} can register models for it.")
    _require_owner_in_team(owner, team)
    name = (name or "").strip()
    _check_name_free(name)
    model = RegisteredModel(
        name=name,
        name_key=name_key(name),
        team=team,
        owner=owner,
        description=description,
        purpose=purpose,
        license=license,
        data_classification=data_classification,
        evaluation_coverage=evaluation_coverage,
        risk_tier=risk_tier,
        created_by=actor,
    )
    if risk_tier not in RiskTier.values:
        raise ValidationError({"risk_tier": [f"Choose one of: {', '.join(RiskTier.values)}."]})
    _clean(model)
    tag_names = normalize_tags(tags)
    _save_named(model)
    _set_tags(model, tag_names)
    search_refresh(model)
    fields = {f: _display(getattr(model, f)) for f in EDITABLE_FIELDS}
    log_event(
        model,
        Action.MODEL_CREATED,
        actor=actor,
        changes={**fields, "risk_tier": risk_tier, "tags": tag_names},
    )
    return model


@transaction.atomic
def model_update(*, actor, model: RegisteredModel, **changes: Any) -> RegisteredModel:
    """Change a model's metadata (any of EDITABLE_FIELDS and `tags`).

    Records only the fields whose value really changed; a call that changes nothing
    writes nothing. Moving a model to another team needs membership of that team, and
    a new owner or team must leave the owner a member of the owning team.
    """
    model = (
        RegisteredModel.objects.select_for_update(of=("self",))
        .select_related("team")
        .get(pk=model.pk)
    )
    require_edit_model(actor, model)
    unknown = set(changes) - set(EDITABLE_FIELDS) - {"tags"}
    if unknown:
        raise ValidationError({f: ["This field cannot be changed."] for f in sorted(unknown)})

    values = {f: changes[f] for f in EDITABLE_FIELDS if f in changes}
    if isinstance(values.get("name"), str):
        values["name"] = values["name"].strip()
    diff = field_diff(model, values, shown=_display)
    if "name" in diff:
        _check_name_free(model.name, exclude_pk=model.pk)
        model.name_key = name_key(model.name)
    if "team" in diff and not can_create_model_for_team(actor, model.team.pk):
        raise PermissionDenied("You can only move a model to a team you belong to.")
    if "team" in diff or "owner" in diff:
        _require_owner_in_team(model.owner, model.team)
    _clean(model)
    if "license" in diff and diff["license"][0] == model.license:
        del diff["license"]  # only the spelling changed, e.g. "mit" -> "MIT"

    tags_changed = False
    if "tags" in changes:
        new_tags = normalize_tags(changes["tags"])
        old_tags = sorted(model.tags.values_list("name", flat=True))
        if new_tags != old_tags:
            diff["tags"] = [old_tags, new_tags]
            tags_changed = True

    if not diff:
        return model
    _save_named(model)
    if tags_changed:
        _set_tags(model, diff["tags"][1])
    search_refresh(model)
    log_event(model, Action.MODEL_UPDATED, actor=actor, changes=diff)
    return model


def _object_permission_change(*, actor, model: RegisteredModel, user, perm: str, grant: bool):
    """Assign or remove one guardian object permission and record it; callers have
    already checked that `actor` may do so."""
    (assign_perm if grant else remove_perm)(perm, user, model)
    forget_cached_permissions(user)
    action = Action.PERMISSION_GRANTED if grant else Action.PERMISSION_REVOKED
    log_event(model, action, actor=actor, changes={"user": user.get_username(), "permission": perm})


@transaction.atomic
def model_permission_grant(*, actor, model: RegisteredModel, user) -> None:
    """Let one user outside the owning team edit this model (guardian object permission)."""
    require_edit_model(actor, model)
    _object_permission_change(actor=actor, model=model, user=user, perm=CHANGE_PERM, grant=True)


@transaction.atomic
def model_permission_revoke(*, actor, model: RegisteredModel, user) -> None:
    require_edit_model(actor, model)
    _object_permission_change(actor=actor, model=model, user=user, perm=CHANGE_PERM, grant=False)


@transaction.atomic
def model_risk_tier_set(
    *, actor, model: RegisteredModel, risk_tier: str, reason: str
) -> RegisteredModel:
    """Governance staff move a model to another risk tier, which changes the policies
    that apply to its pending and future transitions. The reason is kept in the log."""
    if actor is None or not actor.has_perm(RISK_TIER_PERMISSION):
        raise PermissionDenied("Only governance staff and admins change a model's risk tier.")
    if risk_tier not in RiskTier.values:
        raise ValidationError({"risk_tier": [f"Choose one of: {', '.join(RiskTier.values)}."]})
    reason = (reason or "").strip()
    if len(reason) < settings.APPROVAL_REASON_MIN_CHARS:
        raise ValidationError(
            {"reason": [f"Say why in at least {settings.APPROVAL_REASON_MIN_CHARS} characters."]}
        )
    model = RegisteredModel.objects.select_for_update(of=("self",)).get(pk=model.pk)
    if model.risk_tier == risk_tier:
        raise ValidationError({"risk_tier": [f"{model.name} is already {risk_tier} risk."]})
    old = model.risk_tier
    model.risk_tier = risk_tier
    model.save(update_fields=["risk_tier", "updated_at"])
    log_event(
        model,
        Action.MODEL_RISK_TIER_CHANGED,
        actor=actor,
        reason=reason,
        changes={"risk_tier": [old, risk_tier]},
    )
    return model
