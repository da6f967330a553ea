"""What other apps may listen to without audit knowing them."""

from django.dispatch import Signal

# Sent by event_record once the event is written, inside the writer's transaction
# (after the chain lock is taken: receivers that do real work should defer it with
# transaction.on_commit). Arguments: event (the AuditEvent).
event_recorded = Signal()
