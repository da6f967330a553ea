"""The audit log's own actions: an export, and a verification started from the page."""

from django.db import models

from .actions import EventShape, register


class Action(models.TextChoices):
    AUDIT_EXPORTED = "audit.export.created", "Audit log exported"
    AUDIT_VERIFICATION_STARTED = "audit.verification.started", "Chain verification started"


register(
    Action,
    {
        Action.AUDIT_EXPORTED: EventShape(changes=("kind", "filters")),
        Action.AUDIT_VERIFICATION_STARTED: EventShape(),
    },
)
