"""Protected aliases go through the same requests as a promotion to Production.

A protected alias ("champion": settings.MODELGATE_PROTECTED_ALIASES) says which version
serves. Pointing it at a version files a TransitionRequest of kind ALIAS, judged by the
model's Production policy: its named approvers review it (never the requester, and under
separation of duties never the version's author), its gates are evaluated, and applying
it calls registry.services.alias_set with the request in the applying transaction. The
version's stage does not change. Aliases no policy protects are set at once.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from registry.errors import Conflict
from registry.models import ModelAlias, ModelVersion, RegisteredModel
from registry.permissions import can_edit_model
from registry.services import alias_clean_name, alias_is_protected, alias_set
from registry.stages import Stage

from ..audit_actions import ApprovalAction
from ..export import export_row_write
from ..models import PENDING_STATES, RequestKind, TransitionRequest
from ..policies import policy_for
from ..status import production_version, request_status
from .transitions import (
    _clean_reason,
    _event,
    _lock_model,
    _notify,
    _policy_ref,
    _store_status,
    _try_apply,
)


@transaction.atomic
def alias_request(*, actor, version: ModelVersion, alias: str, reason: str) -> TransitionRequest:
    """File a request to point `alias` of the version's model at `version`, judged by the
    model's Production policy, with its gates evaluated now.

    Only people who may edit the model request, with a reason. One pending request per
    model and alias (any case); an alias that already points at `version` needs none.
    With a policy that needs no approvals, it applies at once if the gates pass.
    """
    model = _lock_model(version.model_id)
    version = ModelVersion.objects.select_related("model").get(pk=version.pk)
    version.model = model
    if not can_edit_model(actor, model):
        raise PermissionDenied(
            f"Only members of team {model.team.name} can request alias changes of {model.name}."
        )
    alias = alias_clean_name(alias)
    reason = _clean_reason(reason)
    current = ModelAlias.objects.filter(model=model, name__lower=alias.lower()).first()
    if current is not None and current.version_id == version.pk:
        raise ValidationError({"alias": [f"{alias!r} already points at v{version.number}."]})
    pending = TransitionRequest.objects.filter(
        model=model, kind=RequestKind.ALIAS, alias__lower=alias.lower(), state__in=PENDING_STATES
    ).first()
    if pending is not None:
        raise Conflict(
            f"Request #{pending.pk} to point {pending.alias!r} at v{pending.version.number} "
            "is already waiting; it must be withdrawn or decided first."
        )
    applied = policy_for(model, Stage.PRODUCTION)
    baseline = production_version(model)
    request = TransitionRequest(
        model=model,
        version=version,
        kind=RequestKind.ALIAS,
        alias=alias,
        from_stage=version.stage,
        to_stage=Stage.PRODUCTION,
        reason=reason,
        requester=actor,
        policy=applied.policy,
        baseline=baseline if baseline and baseline.pk != version.pk else None,
    )
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:
        raise Conflict(f"A request for {alias!r} was filed at the same moment.") from None
    status = request_status(request)
    _store_status(request, status)
    request.save()
    _event(
        ApprovalAction.REQUESTED,
        actor=actor,
        request=request,
        reason=reason,
        changes={
            "kind": request.kind,
            "alias": alias,
            "policy": _policy_ref(status.policy),
            "gates": request.gate_results,
            "gates_passed": status.gates_passed,
        },
    )
    if status.policy.required_approvals == 0:
        _try_apply(request, status, actor=actor)
        export_row_write(request)
    else:
        _notify(request, "requested")
    return request


def alias_assign(
    *,
    actor,
    model: RegisteredModel,
    name: str,
    version: ModelVersion,
    reason: str = "",
) -> tuple[ModelAlias | None, TransitionRequest | None]:
    """Point alias `name` of `model` at `version`: at once for an unprotected alias
    (returns (alias, None)), through a request for a protected one (returns (None,
    request); a reason is then required). A protected alias that already points at
    `version` needs nothing: (alias, None)."""
    name = alias_clean_name(name)
    if version.model_id != model.pk:
        raise ValidationError(
            {"version": [f"v{version.number} is a version of another model, not {model.name}."]}
        )
    if not alias_is_protected(model, name):
        return alias_set(actor=actor, model=model, name=name, version=version), None
    current = (
        ModelAlias.objects.filter(model=model, name__lower=name.lower(), version=version)
        .select_related("version")
        .first()
    )
    if current is not None:
        if not can_edit_model(actor, model):
            raise PermissionDenied(
                f"Only members of team {model.team.name} or users granted edit rights on "
                f"{model.name} can change it."
            )
        return current, None
    return None, alias_request(actor=actor, version=version, alias=name, reason=reason)
