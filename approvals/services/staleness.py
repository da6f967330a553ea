"""Which approvals went stale, kept where the inbox can see it.

An approval counts only while the digests it was given with match the version
(approvals.status computes this on every read that decides anything, and at apply).
The inbox, though, is one SQL statement over thousands of requests and cannot compute
digests: it reads Review.stale_at, which these functions keep up to date after every
change that can make an approval stale:

- a change to a model or one of its versions (card, metrics, metadata, artifact,
  lineage, its production version): every audit event about a model, except the
  request and review events that cannot change a digest, refreshes that model's
  pending requests once the change commits (approvals.apps connects the receiver);
- a new team or organisation policy: a Celery task refreshes the pending requests for
  that stage (a model's own policy is an event about the model, as above).

Refreshing is idempotent and never decides anything: a missed refresh leaves an
approval in or out of the inbox, never counted when it should not be.
"""

import logging
from collections.abc import Iterable

from django.db import DatabaseError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from registry.audit_actions import Action as RegistryAction

from ..audit_actions import ApprovalAction
from ..models import PENDING_STATES, Decision, Review, TransitionRequest
from ..status import request_status

logger = logging.getLogger("modelgate.approvals")

BATCH_SIZE = 200

# Events that cannot change what an approval was given on. A new version starts at
# stage none with a card of its own: no digest of another version's request covers it.
_NO_DIGEST_CHANGE = frozenset(
    {
        RegistryAction.VERSION_REGISTERED,
        ApprovalAction.REQUESTED,
        ApprovalAction.APPROVED,
        ApprovalAction.REJECTED,
        ApprovalAction.WITHDRAWN,
        ApprovalAction.BLOCKED,
        ApprovalAction.APPROVER_GRANTED,
        ApprovalAction.APPROVER_REVOKED,
    }
)


def _with_approvals():
    approved = Review.objects.filter(request=OuterRef("pk"), decision=Decision.APPROVE)
    return TransitionRequest.objects.filter(Exists(approved), state__in=PENDING_STATES)


def reviews_stale_refresh(*, requests: Iterable[TransitionRequest]) -> int:
    """Set or clear stale_at on each reviewer's latest approval of `requests` as their
    digests say now; returns how many approvals changed."""
    changed = 0
    for request in requests:
        with transaction.atomic():
            for approval in request_status(request).approvals:
                review = approval.review
                if bool(approval.stale) == (review.stale_at is not None):
                    continue
                review.stale_at = timezone.now() if approval.stale else None
                review.save(update_fields=["stale_at"])
                changed += 1
    return changed


def model_reviews_stale_refresh(model_id: int) -> int:
    """Refresh the approvals of the pending requests on one model (a handful)."""
    requests = _with_approvals().filter(model_id=model_id).select_related("model", "version")
    return reviews_stale_refresh(requests=requests)


def stage_reviews_stale_refresh(stage: str) -> int:
    """Refresh the approvals of every pending request for `stage`, in id batches."""
    changed, after = 0, 0
    while True:
        batch = list(
            _with_approvals()
            .filter(to_stage=stage, pk__gt=after)
            .select_related("model", "version")
            .order_by("pk")[:BATCH_SIZE]
        )
        if not batch:
            return changed
        changed += reviews_stale_refresh(requests=batch)
        after = batch[-1].pk


def on_event_recorded(sender, event, **kwargs) -> None:
    """audit.signals.event_recorded receiver: refresh the model's pending requests
    after the change commits (never inside the writer's transaction, which holds the
    audit chain's lock)."""
    if event.model_id is None or event.action in _NO_DIGEST_CHANGE:
        return
    model_id = event.model_id
    transaction.on_commit(lambda: _refresh_after_commit(model_id))


def _refresh_after_commit(model_id: int) -> None:
    # The change is committed whatever happens here: a database that went away since
    # must not turn its response into an error. The cache catches up at the model's
    # next change (or the next policy version); decisions never read it.
    try:
        model_reviews_stale_refresh(model_id)
    except DatabaseError:
        logger.warning("Could not refresh stale approvals of model %s", model_id, exc_info=True)
