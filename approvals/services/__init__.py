"""Every state change of approvals: policies, approvers, requests, reviews, applying a
transition and the emergency rollback. Each function runs in one transaction, checks
permissions and state, writes its audit event with the change, and raises a domain error
(ValidationError, PermissionDenied, ApprovalError, Conflict) that leaves nothing changed.
Reads of a request's state are in approvals.status and approvals.selectors."""

from .aliases import alias_assign, alias_request
from .governance import approver_grant, approver_revoke, policy_publish
from .transitions import (
    review_approve,
    review_reject,
    rollback_emergency,
    transition_apply,
    transition_request,
    transition_withdraw,
)

__all__ = [
    "alias_assign",
    "alias_request",
    "approver_grant",
    "approver_revoke",
    "policy_publish",
    "review_approve",
    "review_reject",
    "rollback_emergency",
    "transition_apply",
    "transition_request",
    "transition_withdraw",
]
