"""Writing to the audit log. The only code that inserts AuditEvent rows.

Each event's hash is SHA-256 over the previous event's hash, its sequence, its timestamp
and a digest of a canonical serialisation of its other fields (event_hash), so editing,
removing or reordering any stored event breaks the chain that `manage.py audit_verify`
walks (audit/verification.py). On PostgreSQL the linking step runs in the database
(audit_chain_append, audit migration 0010) inside the statement that inserts the event.

The canonical form is computed from values *as the database will give them back*
(timestamps in UTC with microseconds, IPv6 addresses compressed, JSON numbers as
PostgreSQL's jsonb returns them), so an untouched event always re-hashes to the same
digest on PostgreSQL and on SQLite.
"""

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from .actions import UnknownAction, declared
from .audit_actions import Action
from .context import current_meta
from .models import ActorKind, AuditEvent, ChainHead, VerificationRun
from .signals import event_recorded

__all__ = [
    "event_append_sql",
    "event_appended",
    "event_fields",
    "event_record",
    "export_record",
    "verification_start",
]

GENESIS_HASH = "0" * 64
MASK = "********"
EXPORT_PERMISSION = "audit.export_auditevent"

# Keys whose values are secrets, matched as whole words of the key ("api_token",
# "webhookSecret", "db-password"), so that ordinary keys that merely contain the
# letters ("tokenizer", "max_tokens") keep their values.
_SECRET_PHRASES = (
    ("password",),
    ("passwd",),
    ("passphrase",),
    ("secret",),
    ("token",),
    ("digest",),
    ("credential",),
    ("credentials",),
    ("authorization",),
    ("apikey",),
    ("api", "key"),
    ("access", "key"),
    ("private", "key"),
    ("signing", "key"),
)
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# The shape of a Modelgate API token secret (registry.services.tokens): masked wherever
# it appears as a value, whatever the key.
_TOKEN_SECRET = re.compile(r"\bmg_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}")

# The fields that go into an event's hash, in a fixed order. Changing this tuple changes
# the hash of every stored event: a new hashed field needs a versioned canonical form.
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


def _is_secret_key(key: Any) -> bool:
    return _is_secret_name(str(key))


# Events repeat the same keys (a pipeline's hyper-parameter names), and splitting each
# into words took a noticeable share of a registration's Python time.
@lru_cache(maxsize=4096)
def _is_secret_name(key: str) -> bool:
    words = tuple(w.lower() for w in _WORD.findall(key))
    for phrase in _SECRET_PHRASES:
        n = len(phrase)
        if any(words[i : i + n] == phrase for i in range(len(words) - n + 1)):
            return True
    return False


def mask_secrets(value: Any) -> Any:
    """Replace the values of secret-looking keys (tokens, passwords, keys), and anything
    shaped like an API token secret, with a mask."""
    if isinstance(value, Mapping):
        return {k: MASK if _is_secret_key(k) else mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_secrets(v) for v in value]
    if isinstance(value, str):
        return _TOKEN_SECRET.sub(MASK, value)
    return value


def _jsonable(value: Any) -> Any:
    """`value` as plain JSON data that any JSON column accepts (no NaN, no Decimal)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float):
        return value
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _canonical_json(value: Any) -> Any:
    """JSON numbers the way they read back from PostgreSQL's jsonb: 1e16 is stored as
    the numeric 10000000000000000 and comes back an int, so every integral float is
    written as the integer its shortest repr denotes."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return int(Decimal(repr(value))) if value.is_integer() else value
    if isinstance(value, Mapping):
        return {str(k): _canonical_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical_json(v) for v in value]
    return value


def _canonical_time(value: dt.datetime | str) -> str:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _canonical_ip(value: str | None) -> str | None:
    if value and ":" in value:
        return clean_ipv6_address(value)
    return value or None


# Hashed into the event's content digest; sequence and created_at are chained with it
# (event_hash), because the chain head's lock assigns them.
CONTENT_FIELDS = tuple(f for f in HASHED_FIELDS if f not in ("sequence", "created_at"))


def _canonical_payload(fields: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    payload = {name: fields.get(name) for name in names}
    if "created_at" in payload:
        payload["created_at"] = _canonical_time(payload["created_at"])
    payload["ip_address"] = _canonical_ip(payload["ip_address"])
    payload["changes"] = _canonical_json(payload["changes"] or {})
    return payload


def _dumps(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def canonical_bytes(fields: Mapping[str, Any], prev_hash: str) -> bytes:
    """The serialisation the first chain format hashed: every field and prev_hash."""
    payload = _canonical_payload(fields, HASHED_FIELDS)
    payload["prev_hash"] = prev_hash
    return _dumps(payload)


def content_digest(fields: Mapping[str, Any]) -> str:
    """SHA-256 of an event's fields other than its sequence and timestamp."""
    return hashlib.sha256(_dumps(_canonical_payload(fields, CONTENT_FIELDS))).hexdigest()


def _link(prev_hash: str, sequence: int, created_at: str, content: str) -> str:
    # Also computed by the database (audit migration 0010, audit_chain_append).
    text = f"{prev_hash}:{sequence}:{created_at}:{content}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    """The hash that chains an event: SHA-256 over the previous event's hash, the
    event's sequence, its timestamp and the digest of its other fields."""
    created_at = _canonical_time(fields["created_at"])
    return _link(prev_hash, fields["sequence"], created_at, content_digest(fields))


def event_hash_v1(fields: Mapping[str, Any], prev_hash: str) -> str:
    """The hash of events written before audit migration 0010 (one digest over every
    field and prev_hash); verification accepts it only before the first newer event."""
    return hashlib.sha256(canonical_bytes(fields, prev_hash)).hexdigest()


def hashed_fields_of(event: AuditEvent | Mapping[str, Any]) -> dict[str, Any]:
    """The hashed fields of a stored event (a model instance or a dict of its values)."""
    if isinstance(event, Mapping):
        return {name: event[name] for name in HASHED_FIELDS}
    return {name: getattr(event, name) for name in HASHED_FIELDS}


def event_record(**about: Any) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction; `about` names
    the event as event_fields' arguments do.

    Must be called within transaction.atomic(): the event commits or rolls back with
    the change it describes. Concurrent writers queue on the chain head's row lock (held
    until their transaction ends), so sequence numbers are gap-free and each event links
    to the one committed before it. Call it last in a service, after any slow work, to
    hold that lock briefly.
    """
    _require_transaction()
    fields = event_fields(**about)
    if connection.vendor == "postgresql":
        event = _append_in_database(fields)
    else:
        event = _append_under_lock(fields)
    event_recorded.send(sender=AuditEvent, event=event)
    return event


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise AuditError("event_record must run inside the transaction of the change it records")


def event_fields(
    *,
    actor,
    action: str,
    model=None,
    version=None,
    object_type: str = "",
    object_id: str | int = "",
    request_id: int | None = None,
    from_stage: str = "",
    to_stage: str = "",
    reason: str = "",
    changes: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An event's fields but those the chain assigns (sequence, created_at, prev_hash,
    hash), checked against its action's declared shape, secrets masked.

    `actor` is a user, or None for the system. `action` is a name some app declared
    (audit.actions), and the event must fit its declared shape; `model` and `version`
    are the registered model and version it is about, read for their name, id and
    number (a version brings its model)."""
    try:
        shape = declared(action).shape
    except UnknownAction as exc:
        raise AuditError(str(exc)) from None
    undeclared = shape.problems(
        changes or {},
        dict(from_stage=from_stage, to_stage=to_stage, reason=reason, request_id=request_id),
    )
    if undeclared:
        raise AuditError(f"The shape declared for {action} has no {', '.join(undeclared)}.")
    meta = current_meta()
    if actor is None:
        actor_kind, actor_id, actor_name = ActorKind.SYSTEM, None, "system"
    else:
        actor_kind = ActorKind.TOKEN if meta.token_prefix else ActorKind.USER
        actor_id, actor_name = actor.pk, actor.get_username()
    if version is not None and model is None:
        model = version.model
    changes = mask_secrets(_jsonable(dict(changes or {})))
    if meta.token_prefix:
        changes["_via_token"] = meta.token_prefix
    return {
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
        "changes": changes,
        "ip_address": _canonical_ip(meta.ip_address),
        "user_agent": meta.user_agent,
    }


def _append_under_lock(fields: dict[str, Any]) -> AuditEvent:
    """Link and insert the event from Python, under the chain head's row lock (held
    until the transaction ends). Databases without audit_chain_append (SQLite)."""
    head, _ = ChainHead.objects.select_for_update().get_or_create(
        id=1, defaults={"sequence": 0, "hash": GENESIS_HASH}
    )
    # Taken under the lock, so timestamps never run backwards along the chain.
    fields = {**fields, "sequence": head.sequence + 1, "created_at": timezone.now()}
    digest = event_hash(fields, head.hash)
    event = AuditEvent.objects.create(**fields, prev_hash=head.hash, hash=digest)
    ChainHead.objects.filter(id=1).update(sequence=fields["sequence"], hash=digest)
    return event


_CHAINED = ("sequence", "prev_hash", "hash", "created_at")


@cache
def _append_statement() -> tuple[str, list]:
    """The CTEs that append an event (audit_chained, audit_event; built once) and the
    columns whose values follow audit_chain_append's two parameters."""
    columns = [f for f in AuditEvent._meta.concrete_fields if f.attname not in ("id", *_CHAINED)]
    quote = connection.ops.quote_name
    # Typed placeholders: in INSERT ... SELECT a bare NULL or string would be text.
    values = ", ".join(f"%s::{f.db_type(connection)}" for f in columns)
    sql = (
        "audit_chained AS (SELECT * FROM audit_chain_append(%s, %s)), "
        f"audit_event AS (INSERT INTO {quote(AuditEvent._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in columns)}, {', '.join(_CHAINED)}) "
        f"SELECT {values}, {', '.join(f'audit_chained.{c}' for c in _CHAINED)} "
        f"FROM audit_chained RETURNING id, {', '.join(_CHAINED)})"
    )
    return sql, columns


def event_append_sql(fields: dict[str, Any]) -> tuple[str, list]:
    """PostgreSQL: CTEs that append the event of `fields` (event_fields) to the chain,
    for the statement that writes the change the event records, so that both take one
    round trip: `audit_event` gives (id, sequence, prev_hash, hash, created_at), which
    event_appended turns into the event. The caller must be in the change's
    transaction. Returns the CTEs' SQL (to follow WITH, or a comma) and parameters."""
    _require_transaction()
    sql, columns = _append_statement()
    event = AuditEvent(**fields)
    params = [content_digest(fields), GENESIS_HASH]
    params += [f.get_db_prep_save(getattr(event, f.attname), connection) for f in columns]
    return sql, params


def event_appended(fields: dict[str, Any], row) -> AuditEvent:
    """The event a statement with event_append_sql's CTEs appended, from the five values
    of `audit_event` it returned; tells event_recorded's receivers."""
    event = _stored(fields, row)
    event_recorded.send(sender=AuditEvent, event=event)
    return event


def _stored(fields: dict[str, Any], row) -> AuditEvent:
    event = AuditEvent(**fields)
    event.pk, event.sequence, event.prev_hash, event.hash, event.created_at = row
    event._state.adding, event._state.db = False, connection.alias
    return event


def _append_in_database(fields: dict[str, Any]) -> AuditEvent:
    """Insert the event in one statement whose audit_chain_append call (audit migration
    0010) locks the chain head, stamps, links and moves the head on. The lock is held
    until the transaction ends, as before, but is taken by the writer's last statement,
    with no round trip to Python while it is held."""
    sql, params = event_append_sql(fields)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {sql} SELECT * FROM audit_event", params)
        return _stored(fields, cursor.fetchone())


@transaction.atomic
def export_record(*, actor, kind: str, filters: Mapping[str, Any]) -> AuditEvent:
    """Record that `actor` is exporting the audit log, before a single row is sent.

    Only auditors (audit.export_auditevent) and superusers may export. The export
    covers the events before the returned one (its sequence is the export's upper
    bound), so what was exported can be reproduced from the log itself.
    """
    if actor is None or not actor.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied("Only auditors can export the audit log.")
    return event_record(
        actor=actor,
        action=Action.AUDIT_EXPORTED,
        object_type="export",
        object_id=kind,
        changes={"kind": kind, "filters": dict(filters)},
    )


@transaction.atomic
def verification_start(*, actor) -> tuple[VerificationRun | None, bool]:
    """Start a verification of the whole chain on a Celery worker, once this transaction
    commits. Only auditors and superusers may. One runs at a time: when one is running
    already, nothing is started or recorded, and that run is returned with False."""
    # Imported here: the verification and the task read this module's hashing helpers.
    from .tasks import audit_verify_chain
    from .verification import verification_claim, verification_running

    if actor is None or not actor.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied("Only auditors can verify the audit log.")
    run = verification_claim(requested_by_name=actor.get_username())
    if run is None:
        running = verification_running()
        if running is not None:
            return running, False
        # It finished between the claim and the look-up: claim again.
        run = verification_claim(requested_by_name=actor.get_username())
        if run is None:
            return verification_running(), False
    event_record(
        actor=actor,
        action=Action.AUDIT_VERIFICATION_STARTED,
        object_type="verification",
        object_id=run.pk,
    )
    transaction.on_commit(lambda: audit_verify_chain.delay(run.pk))
    return run, True
