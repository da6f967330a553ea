"""The audit actions approvals writes, and what each event carries.

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
