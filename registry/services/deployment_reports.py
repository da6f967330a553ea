"""What deployment systems report back: the state of a version on a target (issue 10
point 5, "closing the loop").

Who may report: platform admins, and whoever may edit the model (its owning team's
members, holders of its edit grant): the people who register its versions run, or own
the token of, the pipeline that deploys it. The target must receive the model (its scope):
a report about a model the target is not set up for is refused, so a typo in a pipeline
cannot paint another team's model as deployed.

Every report is kept (DeploymentReport) and audited on the version; the latest per target
and model is Serving, which the model and version pages show.
"""

from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from ..audit_actions import Action
from ..deployments.models import (
    DeploymentReport,
    DeploymentTarget,
    Serving,
    ServingState,
    TargetScope,
)
from ..models import ModelVersion, RegisteredModel
from ..permissions import can_edit_model
from ..validators import unstorable_text_reason
from .events import log_event

ENDPOINT_URL_MAX_CHARS = 500
MESSAGE_MAX_CHARS = 500


def may_report(actor, model: RegisteredModel) -> bool:
    """Whether `actor` may report deployments of `model` (to any target receiving it)."""
    return can_edit_model(actor, model)


def target_receives(target: DeploymentTarget, model: RegisteredModel) -> bool:
    if target.scope == TargetScope.ALL:
        return True
    if target.scope == TargetScope.TEAM:
        return target.team_id == model.team_id
    return target.chosen_models.filter(pk=model.pk).exists()


def _clean_text(errors: dict, field: str, value: str, limit: int) -> str:
    value = (value or "").strip()
    reason = unstorable_text_reason(value)
    if reason:
        errors[field] = [reason]
    elif len(value) > limit:
        errors[field] = [f"At most {limit} characters; got {len(value):,}."]
    return value


def _clean(*, state: str, endpoint_url: str, message: str) -> tuple[str, str, str]:
    errors: dict[str, list[str]] = {}
    if state not in ServingState.values:
        errors["state"] = [f"Choose one of: {', '.join(ServingState.values)}."]
    endpoint_url = _clean_text(errors, "endpoint_url", endpoint_url, ENDPOINT_URL_MAX_CHARS)
    if endpoint_url and "endpoint_url" not in errors:
        scheme = urlsplit(endpoint_url).scheme.lower()
        try:
            URLValidator(schemes=["http", "https"])(endpoint_url)
        except ValidationError:
            errors["endpoint_url"] = [
                "Send the URL clients reach the model at, starting with https:// or http://"
                + (f" (not {scheme}:)." if scheme and scheme not in ("http", "https") else ".")
            ]
    message = _clean_text(errors, "message", message, MESSAGE_MAX_CHARS)
    if errors:
        raise ValidationError(errors)
    return state, endpoint_url, message


@transaction.atomic
def deployment_report_record(
    *,
    actor,
    target: DeploymentTarget,
    version: ModelVersion,
    state: str,
    endpoint_url: str = "",
    message: str = "",
) -> DeploymentReport:
    """Record that `target` reports `version` in `state` (with the URL it serves it at):
    one DeploymentReport, the target's Serving row for the model replaced, one audit
    event, all in one transaction. Refused (nothing written): an actor who may not edit
    the model (PermissionDenied), a model the target does not receive or a bad value
    (ValidationError naming the field)."""
    model = version.model
    if not (actor.is_superuser or may_report(actor, model)):
        raise PermissionDenied(
            f"Only members of team {model.team.name}, holders of the edit permission on "
            f"{model.name} and platform admins report its deployments."
        )
    state, endpoint_url, message = _clean(state=state, endpoint_url=endpoint_url, message=message)
    # Reports about one target are recorded one at a time, so the latest wins cleanly.
    target = DeploymentTarget.objects.select_for_update().get(pk=target.pk)
    if not target_receives(target, model):
        raise ValidationError(
            {
                "model": [
                    f"Target {target.name} does not receive {model.name} (its scope is "
                    f"{target.get_scope_display().lower()}); report on a target that does."
                ]
            }
        )
    now = timezone.now()
    report = DeploymentReport.objects.create(
        target=target,
        model=model,
        version=version,
        state=state,
        endpoint_url=endpoint_url,
        message=message,
        reported_by=actor,
        reported_at=now,
    )
    before = (
        Serving.objects.filter(target=target, model=model)
        .select_related("version")
        .only("state", "version__number")
        .first()
    )
    Serving.objects.update_or_create(
        target=target,
        model=model,
        defaults={
            "version": version,
            "state": state,
            "endpoint_url": endpoint_url,
            "report": report,
            "reported_at": now,
        },
    )
    log_event(
        version,
        Action.DEPLOYMENT_REPORTED,
        actor=actor,
        changes={
            "target": target.name,
            "environment": target.environment,
            "state": state,
            "endpoint_url": endpoint_url,
            "message": message,
            "previous": f"v{before.version.number} {before.state}" if before else None,
        },
    )
    return report
