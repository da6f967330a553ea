"""The append-only, hash-chained event log (DESIGN invariant 5).

Rows are only ever inserted, by audit.services.event_record. PostgreSQL triggers
(migration 0002) reject UPDATE, DELETE and TRUNCATE on the table.
"""

import json

from django.conf import settings
from django.db import models

from .actions import action_label, stage_label


class ActorKind(models.TextChoices):
    USER = "user", "User"
    TOKEN = "token", "API token"
    SYSTEM = "system", "System"


class AuditEvent(models.Model):
    sequence = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    # No database FK: deleting a user must never touch (UPDATE) the log; the name is
    # kept as it was when the event happened.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150)
    # No choices: the emitting apps declare their names (audit.actions), and a stored
    # name stays valid history even once no app declares it any more.
    action = models.CharField(max_length=100)
    # Readable references that survive renames and deletions.
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    model_name = models.CharField(max_length=100, blank=True)
    model_id = models.BigIntegerField(null=True, blank=True)
    version_number = models.PositiveIntegerField(null=True, blank=True)
    request_id = models.BigIntegerField(null=True, blank=True)
    from_stage = models.CharField(max_length=20, blank=True)
    to_stage = models.CharField(max_length=20, blank=True)
    reason = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-sequence"]
        indexes = [
            models.Index(fields=["model_id", "-sequence"]),
            models.Index(fields=["action", "-sequence"]),
            models.Index(fields=["actor_name", "-sequence"]),
            models.Index(fields=["created_at"]),
            # Events of a model that was since deleted are found by their recorded name.
            models.Index(fields=["model_name", "-sequence"], name="audit_event_model_name_idx"),
            # "Stage transitions only" pages through a small part of a large table.
            models.Index(
                fields=["-sequence"],
                condition=~models.Q(to_stage=""),
                name="audit_event_transitions_idx",
            ),
        ]
        permissions = [("export_auditevent", "Can view and export the audit log")]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} by {self.actor_name}"

    @property
    def action_label(self) -> str:
        return action_label(self.action)

    @property
    def from_stage_label(self) -> str:
        return stage_label(self.from_stage)

    @property
    def to_stage_label(self) -> str:
        return stage_label(self.to_stage)

    @property
    def changes_json(self) -> str:
        return json.dumps(self.changes, indent=2, sort_keys=True, ensure_ascii=False)


class ChainHead(models.Model):
    """One row holding the newest sequence and hash.

    Writers lock it (SELECT ... FOR UPDATE) so sequence numbers are gap-free and the
    chain stays linear under concurrent transactions.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    sequence = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)


class VerificationState(models.TextChoices):
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    # The worker never reported back (it died, or the task was lost): a later request
    # may start a new run (audit.verification.verification_expire_stale).
    ABANDONED = "abandoned", "Abandoned"


STALE_RUN_DETAIL = "No result arrived: the worker stopped or the task was lost."


class VerificationRun(models.Model):
    """A chain verification: running, or its result, shown on the audit page."""

    state = models.CharField(
        max_length=20, choices=VerificationState.choices, default=VerificationState.FINISHED
    )
    started_at = models.DateTimeField(null=True, blank=True)
    # Who asked for it from the audit page; blank for the periodic and command-line runs.
    requested_by_name = models.CharField(max_length=150, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    events_checked = models.BigIntegerField(default=0)
    ok = models.BooleanField(null=True)
    broken_sequence = models.BigIntegerField(null=True, blank=True)
    detail = models.TextField(blank=True)
    # The newest event this run found intact: later runs check it is still there, with
    # the same hash, so the newest events cannot be removed together with the chain head.
    head_sequence = models.BigIntegerField(null=True, blank=True)
    head_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            # One verification at a time: a second start finds this one instead.
            models.UniqueConstraint(
                fields=["state"],
                condition=models.Q(state="running"),
                name="audit_one_running_verification",
            ),
        ]
