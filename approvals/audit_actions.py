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
approvals.transition.rolled_back from_stage "production", to_stage "production" for the
                                 restored version; changes: {"replaced_version",
                                 "review_request": id}
approvals.policy.published       changes: {"scope", "team", "model", "stage", "risk_tier",
                                 "number", "rules": {...}, "previous": {...} or null}
approvals.approver.granted / .revoked   changes: {"stage", "user" or "group", "on":
                                 "model" | "team", "team"}
"""

from django.db import models

from audit.actions import EventShape, register


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


REQUEST = ("request_id",)
GATES = ("gates",)

register(
    ApprovalAction,
    {
        ApprovalAction.REQUESTED: EventShape(
            fields=("from_stage", "to_stage", "reason", "request_id"),
            changes=("policy", "gates", "gates_passed"),
        ),
        ApprovalAction.APPROVED: EventShape(fields=REQUEST, changes=("comment", "digests")),
        ApprovalAction.REJECTED: EventShape(fields=REQUEST, changes=("comment",)),
        ApprovalAction.WITHDRAWN: EventShape(fields=REQUEST, changes=("comment",)),
        ApprovalAction.BLOCKED: EventShape(fields=REQUEST, changes=("why", "gates")),
        ApprovalAction.APPLIED: EventShape(
            fields=("from_stage", "to_stage", "reason", "request_id"),
            changes=(
                "kind",
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
            changes=("stage", "user", "group", "on", "team")
        ),
        ApprovalAction.APPROVER_REVOKED: EventShape(
            changes=("stage", "user", "group", "on", "team")
        ),
    },
)
