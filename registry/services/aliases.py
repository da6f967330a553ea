"""Model version aliases: a name per model pointing at one of its versions ("champion").

Setting an alias that exists moves it; a version may carry several. Names follow
MLflow's rules (registry.validators.validate_alias_name) and are unique per model
ignoring case; an alias keeps the spelling it was first set with.

Protected aliases (settings.MODELGATE_PROTECTED_ALIASES, "champion" by default) mean
"this is what serves": they are set or moved only by approvals applying an approved
request (approvals.services.alias_request), and cannot be deleted by hand. The registry
does not import approvals, so it only checks that the request it is given is about
this model, version and alias.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from ..audit_actions import Action
from ..errors import AliasMissing, AliasProtected
from ..models import ModelAlias, ModelVersion, RegisteredModel
from ..permissions import require_edit_model
from ..validators import validate_alias_name
from .events import log_event


def aliases_protected() -> frozenset[str]:
    """The protected alias names, lowercased (settings.MODELGATE_PROTECTED_ALIASES)."""
    return frozenset(settings.MODELGATE_PROTECTED_ALIASES)


def alias_is_protected(model: RegisteredModel, name: str) -> bool:
    """Whether setting `name` on `model` needs an approved request. The same names for
    every model for now; `model` is here so a per-model rule can come without callers
    changing."""
    return (name or "").strip().lower() in aliases_protected()


def alias_clean_name(name: str) -> str:
    """`name` stripped and checked (MLflow's rules), or ValidationError on "alias"."""
    name = (name or "").strip() if isinstance(name, str) else ""
    try:
        validate_alias_name(name)
    except ValidationError as exc:
        raise ValidationError({"alias": exc.messages}) from None
    return name


def _lock_model(model: RegisteredModel) -> RegisteredModel:
    # Alias changes of one model happen one at a time, as approvals' requests do.
    return (
        RegisteredModel.objects.select_for_update(of=("self",))
        .select_related("team")
        .get(pk=model.pk)
    )


def _matches(request, *, model: RegisteredModel, version: ModelVersion, name: str) -> bool:
    return (
        getattr(request, "model_id", None) == model.pk
        and getattr(request, "version_id", None) == version.pk
        and str(getattr(request, "alias", "")).lower() == name.lower()
    )


@transaction.atomic
def alias_set(
    *,
    actor,
    model: RegisteredModel,
    name: str,
    version: ModelVersion,
    approved_request=None,
) -> ModelAlias:
    """Point alias `name` of `model` at `version`, creating or moving it, with one audit
    event (registry.alias.set or .moved) in the same transaction. Pointing it where it
    already points changes and records nothing.

    Needs edit rights on the model. A protected alias is refused (AliasProtected) unless
    `approved_request` is the approved approvals request for this very model, version
    and alias: only approvals passes it, when it applies that request, and then the
    request's approval stands in for the actor's edit rights.
    """
    name = alias_clean_name(name)
    model = _lock_model(model)
    if approved_request is None:
        require_edit_model(actor, model)
        if alias_is_protected(model, name):
            raise AliasProtected(
                f"The alias {name!r} is protected: it is set only through a request that "
                f"the Production approvers of {model.name} approve. File one (the model "
                "page, or PUT with a reason through the API) instead."
            )
    elif not _matches(approved_request, model=model, version=version, name=name):
        raise ValidationError(
            {"alias": [f"Request #{approved_request.pk} is not about {name!r} on this version."]}
        )
    if version.model_id != model.pk:
        raise ValidationError(
            {"version": [f"v{version.number} is a version of another model, not {model.name}."]}
        )
    request_ref = approved_request.pk if approved_request is not None else None
    # Set through a request: by the one who asked (the event names who applied it).
    set_by = getattr(approved_request, "requester", None) or actor
    alias = (
        ModelAlias.objects.select_for_update()
        .filter(model=model, name__lower=name.lower())
        .select_related("version")
        .first()
    )
    if alias is None:
        alias = ModelAlias.objects.create(model=model, name=name, version=version, set_by=set_by)
        log_event(
            version,
            Action.ALIAS_SET,
            actor=actor,
            changes={"alias": alias.name, "version": version.number, "request": request_ref},
        )
    elif alias.version_id != version.pk:
        previous = alias.version
        alias.version, alias.set_by = version, set_by
        alias.save(update_fields=["version", "set_by", "updated_at"])
        log_event(
            version,
            Action.ALIAS_MOVED,
            actor=actor,
            changes={
                "alias": alias.name,
                "version": [previous.number, version.number],
                "request": request_ref,
            },
        )
    alias.model, alias.version = model, version
    return alias


@transaction.atomic
def alias_delete(*, actor, model: RegisteredModel, name: str) -> None:
    """Remove alias `name` from `model`, with one audit event (registry.alias.deleted).

    Needs edit rights on the model; an alias that does not exist is a ValidationError on
    AliasMissing (404). A protected alias is never deleted by hand
    (AliasProtected): what serves cannot silently stop having a version; move it to
    another version through a request instead.
    """
    name = (name or "").strip()
    model = _lock_model(model)
    require_edit_model(actor, model)
    alias = (
        ModelAlias.objects.select_for_update()
        .filter(model=model, name__lower=name.lower())
        .select_related("version")
        .first()
    )
    if alias is None:
        raise AliasMissing(f"{model.name} has no alias {name!r}.")
    if alias_is_protected(model, alias.name):
        raise AliasProtected(
            f"The alias {alias.name!r} is protected and cannot be deleted: move it to "
            "another version through a request that the Production approvers of "
            f"{model.name} approve."
        )
    version = alias.version
    alias.delete()
    log_event(
        version,
        Action.ALIAS_DELETED,
        actor=actor,
        changes={"alias": alias.name, "version": version.number},
    )
