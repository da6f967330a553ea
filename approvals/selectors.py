"""Reads of approvals that pages and the API share: an approver's inbox, a model's and a
version's requests. Each has its query shape decided here, with bounded work."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from registry.models import ModelVersion, RegisteredModel

from .approvers import grants_of_user
from .models import PENDING_STATES, Policy, RequestKind, Review, TransitionRequest

INBOX_LIMIT = 100
HISTORY_LIMIT = 50


def _waiting_filter(user) -> Q | None:
    """Pending requests `user` may approve and has not reviewed (None: no grants).

    Separation of duties is tested against the small sets of the user's own versions and
    the policies that enforce it, not by joining every candidate request to its version
    and policy: that join read the whole versions table (bench/inbox.py)."""
    scope = Q()
    any_grant = False
    for stage, (model_ids, team_ids) in grants_of_user(user).items():
        if model_ids or team_ids:
            any_grant = True
            scope |= Q(to_stage=stage) & (
                Q(model_id__in=model_ids) | Q(model__team_id__in=team_ids)
            )
    if not any_grant:
        return None
    authored = ModelVersion.objects.filter(created_by=user).values("pk")
    enforcing = Policy.objects.filter(separation_of_duties=True).values("pk")
    return scope & ~Q(requester=user) & ~Q(policy_id__in=enforcing, version_id__in=authored)


def _waiting(user) -> QuerySet[TransitionRequest] | None:
    if not user.is_authenticated:
        return None
    where = _waiting_filter(user)
    if where is None:
        return None
    reviewed = Review.objects.filter(request=OuterRef("pk"), reviewer=user)
    return (
        TransitionRequest.objects.filter(state__in=PENDING_STATES)
        .filter(where)
        .filter(~Exists(reviewed))
    )


# What an inbox row shows (templates/approvals/inbox.html): loading whole rows of four
# tables for a hundred requests cost more than the query (bench/inbox.py).
INBOX_FIELDS = (
    "state",
    "kind",
    "from_stage",
    "to_stage",
    "created_at",
    "gates_passed",
    "model__name",
    "model__team_id",
    "version__number",
    "version__label",
    "version__created_by_id",
    "requester__username",
    "policy__required_approvals",
    "policy__separation_of_duties",
)


def inbox(user, limit: int = INBOX_LIMIT) -> list[TransitionRequest]:
    """The oldest `limit` pending requests waiting for `user`'s review: those they may
    approve (a grant on the model or its team, for the request's stage, directly or via
    a group), did not file, did not author under separation of duties, and have not
    reviewed yet. Two queries. The rows carry INBOX_FIELDS (and their model, version,
    requester and policy with those fields); reading another field costs a query."""
    waiting = _waiting(user)
    if waiting is None:
        return []
    return list(
        waiting.select_related("model", "version", "requester", "policy")
        .only(*INBOX_FIELDS)
        .order_by("created_at", "id")[:limit]
    )


def inbox_count(user, cap: int = INBOX_LIMIT) -> int:
    """How many requests wait for `user`, counted up to `cap` (the navigation shows
    "99+" past it): two queries, bounded whatever the number of open requests."""
    waiting = _waiting(user)
    if waiting is None:
        return 0
    return waiting.order_by().values("pk")[: cap + 1].count()


def requests_of_user(user, limit: int = INBOX_LIMIT) -> list[TransitionRequest]:
    """The newest requests `user` filed, pending first."""
    return list(
        TransitionRequest.objects.filter(requester=user)
        .select_related("model", "version")
        .order_by("-created_at", "-id")[:limit]
    )


def model_pending_requests(
    model: RegisteredModel, limit: int = HISTORY_LIMIT
) -> list[TransitionRequest]:
    return list(
        TransitionRequest.objects.filter(model=model, state__in=PENDING_STATES)
        .select_related("version", "requester")
        .order_by("-created_at", "-id")[:limit]
    )


def version_requests(version: ModelVersion, limit: int = HISTORY_LIMIT) -> list[TransitionRequest]:
    """The version's stage history: its requests, newest first, with their reviews."""
    return list(
        TransitionRequest.objects.filter(version=version)
        .select_related("requester", "closed_by")
        .prefetch_related("reviews__reviewer")
        .order_by("-created_at", "-id")[:limit]
    )


def request_list(
    user,
    *,
    states: list[str] | None = None,
    to_stages: list[str] | None = None,
    model_name: str = "",
    waiting_for_me: bool = False,
) -> QuerySet[TransitionRequest]:
    """Requests, newest first, filtered for the API's list: by state, target stage, model
    name (any case) and, with `waiting_for_me`, to those in `user`'s inbox. Unpaginated
    (the caller slices it); rows carry their model, version, requester and closer."""
    if waiting_for_me:
        requests = _waiting(user)
        if requests is None:
            return TransitionRequest.objects.none()
    else:
        requests = TransitionRequest.objects.all()
    if states:
        requests = requests.filter(state__in=states)
    if to_stages:
        requests = requests.filter(to_stage__in=to_stages)
    if model_name:
        requests = requests.filter(model__name__lower=model_name.lower())
    return requests.select_related("model", "version", "requester", "closed_by").order_by(
        "-created_at", "-id"
    )


def open_rollback_review(
    model: RegisteredModel, pending: list[TransitionRequest] | None = None
) -> TransitionRequest | None:
    """The pending follow-up review of an emergency rollback of `model`, if any. Given the
    model's pending requests (model_pending_requests) it looks there first and queries only
    when that list was cut at its limit."""
    if pending is not None:
        found = next((r for r in pending if r.kind == RequestKind.ROLLBACK_REVIEW), None)
        if found is not None or len(pending) < HISTORY_LIMIT:
            return found
    return (
        TransitionRequest.objects.filter(
            model=model, kind=RequestKind.ROLLBACK_REVIEW, state__in=PENDING_STATES
        )
        .select_related("version", "requester")
        .order_by("-created_at", "-id")
        .first()
    )


def policy_list() -> list[Policy]:
    """Every policy version, current and superseded, with its team, model and publisher
    (one query): the policies page groups them."""
    return list(
        Policy.objects.select_related("team", "model", "published_by").order_by(
            "stage", "risk_tier", "scope", "team__name", "model__name", "-number"
        )
    )
