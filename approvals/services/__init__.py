"""Every state change of approvals: policies, approvers, requests, reviews, applying a
transition and the emergency rollback. Each function runs in one transaction, checks
permissions and state, writes its audit event with the change, and raises a domain error
(ValidationError, PermissionDenied, ApprovalError, Conflict) that leaves nothing changed."""

from .governance import approver_grant, approver_revoke, clean_rules, policy_publish
from .transitions import (
    ApprovalError,
    RequestStatus,
    eligible_approver_ids,
    previous_production,
    production_version,
    request_status,
    review_approve,
    review_reject,
    rollback_emergency,
    transition_apply,
    transition_request,
    transition_withdraw,
)

__all__ = [
    "ApprovalError",
    "RequestStatus",
    "approver_grant",
    "approver_revoke",
    "clean_rules",
    "eligible_approver_ids",
    "policy_publish",
    "previous_production",
    "production_version",
    "request_status",
    "review_approve",
    "review_reject",
    "rollback_emergency",
    "transition_apply",
    "transition_request",
    "transition_withdraw",
]
