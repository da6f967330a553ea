"""Writing to the audit log. The only code that inserts AuditEvent rows."""

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from .actions import Action
from .context import current_meta
from .models import ActorKind, AuditEvent, ChainHead

GENESIS_HASH = "0" * 64
MASK = "********"
_SECRET_WORDS = ("secret", "token", "password", "digest", "signing_key", "api_key")

# The fields that go into an event's hash, in a fixed order; a new field must be added
# here (and old events keep verifying because missing keys serialise the same way).
HASHED_FIELDS = (
    "sequence",
    "created_at",
    "actor_kind",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "model_name",
    "model_id",
    "version_number",
    "request_id",
    "from_stage",
    "to_stage",
    "reason",
    "changes",
    "ip_address",
    "user_agent",
)


class AuditError(Exception):
    pass


def mask_secrets(value: Any) -> Any:
    """Replace the values of secret-looking keys (tokens, passwords, keys) with a mask."""
    if isinstance(value, Mapping):
        return {
            k: MASK if any(w in str(k).lower() for w in _SECRET_WORDS) else mask_secrets(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_secrets(v) for v in value]
    return value


def canonical_bytes(fields: Mapping[str, Any], prev_hash: str) -> bytes:
    payload = {name: fields.get(name) for name in HASHED_FIELDS}
    payload["prev_hash"] = prev_hash
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def event_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical_bytes(fields, prev_hash)).hexdigest()


def hashed_fields_of(event: AuditEvent) -> dict[str, Any]:
    """The hashed fields of a stored event, in the same shapes used when it was written."""
    values = {name: getattr(event, name) for name in HASHED_FIELDS}
    values["created_at"] = event.created_at.isoformat()
    return values


def event_record(
    *,
    actor,
    action: Action,
    model=None,
    version=None,
    object_type: str = "",
    object_id: str | int = "",
    request_id: int | None = None,
    from_stage: str = "",
    to_stage: str = "",
    reason: str = "",
    changes: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    Must be called within transaction.atomic(): the event commits or rolls back with
    the change it describes. `actor` is a user, or None for the system.
    """
    if not transaction.get_connection().in_atomic_block:
        raise AuditError("event_record must run inside the transaction of the change it records")
    meta = current_meta()
    if actor is None:
        actor_kind, actor_id, actor_name = ActorKind.SYSTEM, None, "system"
    else:
        actor_kind = ActorKind.TOKEN if meta.token_prefix else ActorKind.USER
        actor_id, actor_name = actor.pk, actor.get_username()
    if version is not None and model is None:
        model = version.model

    head, _ = ChainHead.objects.select_for_update().get_or_create(
        id=1, defaults={"sequence": 0, "hash": GENESIS_HASH}
    )
    fields = {
        "sequence": head.sequence + 1,
        "created_at": timezone.now().isoformat(),
        "actor_kind": str(actor_kind),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "action": str(action),
        "object_type": object_type,
        "object_id": str(object_id),
        "model_name": model.name if model is not None else "",
        "model_id": model.pk if model is not None else None,
        "version_number": version.number if version is not None else None,
        "request_id": request_id,
        "from_stage": from_stage,
        "to_stage": to_stage,
        "reason": reason,
        "changes": mask_secrets(dict(changes or {})),
        "ip_address": meta.ip_address,
        "user_agent": meta.user_agent,
    }
    if meta.token_prefix:
        fields["changes"] = {**fields["changes"], "_via_token": meta.token_prefix}
    digest = event_hash(fields, head.hash)
    event = AuditEvent.objects.create(
        **{k: v for k, v in fields.items() if k != "created_at"},
        created_at=fields["created_at"],
        prev_hash=head.hash,
        hash=digest,
    )
    ChainHead.objects.filter(id=1).update(sequence=fields["sequence"], hash=digest)
    return event
