"""Events as the log held them before audit migration 0010: hashed in the first format
(one digest over every field and prev_hash), stamped by the app server's clock."""

from django.utils import timezone

from audit.models import AuditEvent, ChainHead
from audit.services import GENESIS_HASH, event_hash_v1


def first_format_events(actor, action, times=None, count=None) -> None:
    """Append events from the genesis on, one per moment of `times` (or `count` events
    stamped now), and move the chain head to the last."""
    times = times or [timezone.now() for _ in range(count)]
    prev = GENESIS_HASH
    for n, moment in enumerate(times, start=1):
        fields = {
            "sequence": n,
            "created_at": moment,
            "actor_kind": "user",
            "actor_id": actor.pk,
            "actor_name": actor.get_username(),
            "action": str(action),
            "object_type": "",
            "object_id": "",
            "model_name": "",
            "model_id": None,
            "version_number": None,
            "request_id": None,
            "from_stage": "",
            "to_stage": "",
            "reason": "",
            "changes": {"n": n},
            "ip_address": None,
            "user_agent": "",
        }
        digest = event_hash_v1(fields, prev)
        AuditEvent.objects.create(**fields, prev_hash=prev, hash=digest)
        prev = digest
    ChainHead.objects.update_or_create(id=1, defaults={"sequence": len(times), "hash": prev})
