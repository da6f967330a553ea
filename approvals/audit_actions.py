"""The audit actions approvals writes, and what each event carries (declared to the
audit log below; event_record refuses an event that strays from its shape).

Every event names the model and version where there is one, `request_id` for events
about a transition request, and `reason` for those that have one.

approvals.transition.requested   from_stage, to_stage, reason; changes: {"policy": {"id",
                                 "number", "where"}, "gates": [gate rows], "gates_passed"}
approvals.review.approved        changes: {"comment", "digests": {part: sha256}}
approvals.review.rejected        changes: {"comment"}; closes the request
approvals.transition.withdrawn   changes: {"comment"}
approvals.transition.blocked     changes: {"why", "gates": [...]}: approved, not applied
approvals.transition.applied     from_stage, to_stage, reason; changes: {"requester",
                                 "approvers": [{"user", "at", "comment", "digests"}],
                                 "gates": [...], "policy": {...}, "digests": {...},
                                 "archived_version": number or null}
                                 An alias request (kind "alias") sets no stage fields:
                                 both events carry "kind" and "alias" in changes instead
approvals.transition.rolled_back from_stage "production", to_stage "production" for the
                                 restored version; changes: {"replaced_version",
                                 "review_request": id}
approvals.policy.published       changes: {"scope", "team", "model", "stage", "risk_tier",
                                 "number", "rules": {...}, "previous": {...} or null}
approvals.approver.granted / .revoked   changes: {"stage", "user" or "group", "on":
                                 "model" | "team", "team"}; its sentence names the stage
                                 and the model (or the team, for a team-wide grant)
"""

from collections.abc import Mapping
from typing import Any

from django.db import models
from django.utils.html import format_html

from audit.actions import EventShape, register
from audit.display import subject
from registry.stages import STAGE_LABELS


class ApprovalAction(models.TextChoices):
    REQUESTED = "approvals.transition.requested", "Transition requested"
    APPROVED = "approvals.review.approved", "Transition approved"
    REJECTED = "approvals.review.rejected", "Transition rejected"
    WITHDRAWN = "approvals.transition.withdrawn", "Transition request withdrawn"
    BLOCKED = "approvals.transition.blocked", "Approved transition blocked"
    APPLIED = "approvals.transition.applied", "Transition applied"
    ROLLED_BACK = "approvals.transition.rolled_back", "Emergency rollback"
    POLICY_PUBLISHED = "approvals.policy.published", "Approval policy published"
    APPROVER_GRANTED = "approvals.approver.granted", "Approver named"
    APPROVER_REVOKED = "approvals.approver.revoked", "Approver removed"


def _approver_change(sentence: str):
    """The sentence of a grant or revoke: whom, for which target stage, and where (one
    model, or every model of a team), from the event's recorded names."""

    def describe(event, changes: Mapping[str, Any]):
        user, group, stage = changes.get("user"), changes.get("group"), changes.get("stage")
        if not (user or group) or not stage:
            return None
        who = subject(user) if user else format_html("group {}", subject(group))
        if changes.get("on") == "team":
            where = format_html("every model of team {}", subject(changes.get("team", "")))
        elif event.model_name:
            where = format_html("model {}", subject(event.model_name))
        else:
            where = "one model"
        return format_html(sentence, who=who, stage=STAGE_LABELS.get(stage, stage), where=where)

    return describe


REQUEST = ("request_id",)
APPROVER_CHANGES = ("stage", "user", "group", "on", "team")
GATES = ("gates",)

register(
    ApprovalAction,
    {
        ApprovalAction.REQUESTED: EventShape(
            fields=("from_stage", "to_stage", "reason", "request_id"),
            changes=("policy", "gates", "gates_passed", "kind", "alias"),
        ),
        ApprovalAction.APPROVED: EventShape(fields=REQUEST, changes=("comment", "digests")),
        ApprovalAction.REJECTED: EventShape(fields=REQUEST, changes=("comment",)),
        ApprovalAction.WITHDRAWN: EventShape(fields=REQUEST, changes=("comment",)),
        ApprovalAction.BLOCKED: EventShape(fields=REQUEST, changes=("why", "gates")),
        ApprovalAction.APPLIED: EventShape(
            fields=("from_stage", "to_stage", "reason", "request_id"),
            changes=(
                "kind",
                "alias",
                "requester",
                "approvers",
                "gates",
                "policy",
                "digests",
                "archived_version",
            ),
        ),
        ApprovalAction.ROLLED_BACK: EventShape(
            fields=("from_stage", "to_stage", "reason", "request_id"),
            changes=("replaced_version", "review_request"),
        ),
        ApprovalAction.POLICY_PUBLISHED: EventShape(
            fields=("reason",),
            changes=("scope", "team", "stage", "risk_tier", "number", "rules", "previous"),
        ),
        ApprovalAction.APPROVER_GRANTED: EventShape(
            changes=APPROVER_CHANGES,
            describe=_approver_change("{who} named approver of moves into {stage} for {where}"),
        ),
        ApprovalAction.APPROVER_REVOKED: EventShape(
            changes=APPROVER_CHANGES,
            describe=_approver_change("{who} no longer approver of moves into {stage} for {where}"),
        ),
    },
)
