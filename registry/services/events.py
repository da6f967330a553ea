"""How the catalog's services record their changes: one audit event per change, about
the object that changed (as pretix's `log_action`), with the names registry declares
(registry.audit_actions)."""

from collections.abc import Callable, Mapping
from typing import Any

from audit.models import AuditEvent
from audit.services import event_fields, event_record

from ..audit_actions import Action
from ..models import (
    APIToken,
    DeploymentTarget,
    ModelCard,
    ModelVersion,
    RegisteredModel,
    Team,
)


def _about(obj: Any) -> dict[str, Any]:
    """The event fields that say which object an event is about."""
    match obj:
        case Team():
            return {"object_type": "team", "object_id": obj.pk}
        case RegisteredModel():
            return {"object_type": "model", "object_id": obj.pk, "model": obj}
        case ModelVersion():
            return {"object_type": "version", "object_id": obj.pk, "version": obj}
        case ModelCard():
            return {"object_type": "card", "object_id": obj.pk, "version": obj.version}
        case APIToken():
            return {"object_type": "token", "object_id": obj.pk}
        case DeploymentTarget():
            return {"object_type": "deployment_target", "object_id": obj.pk}
    raise TypeError(f"The audit log has no place for a {type(obj).__name__}.")


def log_event(
    obj: Team | RegisteredModel | ModelVersion | ModelCard | APIToken | DeploymentTarget,
    action: Action,
    *,
    actor,
    changes: Mapping[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    """Record `action` on `obj` by `actor` (None: the system), in the caller's
    transaction; a model, version or card event also records the model and version."""
    return event_record(actor=actor, action=action, changes=changes, reason=reason, **_about(obj))


def event_fields_of(
    obj: RegisteredModel | ModelVersion,
    action: Action,
    *,
    actor,
    changes: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """log_event's event as fields, for a service that appends it in the statement that
    writes its change (audit.services.event_append_sql)."""
    return event_fields(actor=actor, action=action, changes=changes, **_about(obj))


def field_diff(
    obj: Any, values: Mapping[str, Any], *, shown: Callable[[Any], Any] = lambda v: v
) -> dict[str, list[Any]]:
    """Set each of `values` on `obj` where it differs from what `obj` holds, and return
    what changed as {field: [old, new]} (each as `shown` writes it): the `changes` of an
    update's audit event. Nothing changed: an empty dict, and `obj` untouched."""
    diff: dict[str, list[Any]] = {}
    for field, new in values.items():
        old = getattr(obj, field)
        if old != new:
            diff[field] = [shown(old), shown(new)]
            setattr(obj, field, new)
    return diff
