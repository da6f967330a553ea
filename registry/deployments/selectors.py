"""Reads of deployment targets and their deliveries for the pages: who sees which
targets, one target's deliveries filtered and paged by keyset, and the model page's
warning. Every read is bounded, whatever the number of deliveries."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from ..models import ModelVersion
from ..permissions import user_maintained_team_ids, user_team_ids
from .models import (
    Delivery,
    DeliveryEvent,
    DeliveryState,
    DeploymentTarget,
    Environment,
    TargetScope,
)

# Announcements of a version entering Production (a promotion or a rollback to it).
PRODUCTION_EVENTS = (DeliveryEvent.PROMOTED_PRODUCTION, DeliveryEvent.ROLLED_BACK)
# The newest deliveries of a Production version the warning looks at.
WARNING_ROWS = 20


def can_manage_any_target(user) -> bool:
    """Whether the deployment pages are open to the user: platform admins, and team
    members (for their team's models; maintainers also for the whole team)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or bool(user_team_ids(user))


def targets_for_user(user) -> QuerySet[DeploymentTarget]:
    """The targets `user` may manage (as registry.services.deployments decides): all of
    them for platform admins; a team's targets for its maintainers; targets for chosen
    models when every chosen model belongs to one of the user's teams."""
    targets = DeploymentTarget.objects.select_related("team").order_by("name", "pk")
    if user.is_superuser:
        return targets
    foreign_model = DeploymentTarget.chosen_models.through.objects.filter(
        deploymenttarget_id=OuterRef("pk")
    ).exclude(registeredmodel__team_id__in=user_team_ids(user))
    return targets.filter(
        Q(scope=TargetScope.TEAM, team_id__in=user_maintained_team_ids(user))
        | (Q(scope=TargetScope.MODELS) & ~Exists(foreign_model))
    )


@dataclass(frozen=True)
class DeliveryFilters:
    state: str = ""
    event: str = ""
    model: str = ""
    since: date | None = None
    until: date | None = None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def target_deliveries(
    target: DeploymentTarget, filters: DeliveryFilters, *, after: int | None, limit: int
) -> tuple[list[Delivery], bool]:
    """Up to `limit` of the target's deliveries, newest first, older than delivery
    `after` (the keyset: no OFFSET, no COUNT), and whether there are more."""
    rows = (
        Delivery.objects.filter(target=target)
        .select_related("model", "version")
        .defer("body")
        .order_by("-created_at", "-id")
    )
    if filters.state:
        rows = rows.filter(state=filters.state)
    if filters.event:
        rows = rows.filter(event=filters.event)
    if filters.model:
        rows = rows.filter(model__name__lower=filters.model.lower())
    if filters.since:
        rows = rows.filter(created_at__gte=_day_start(filters.since))
    if filters.until:
        rows = rows.filter(created_at__lt=_day_start(filters.until + timedelta(days=1)))
    if after is not None:
        cursor = Delivery.objects.filter(target=target, pk=after).values("created_at").first()
        if cursor is not None:
            rows = rows.filter(
                Q(created_at__lt=cursor["created_at"])
                | Q(created_at=cursor["created_at"], pk__lt=after)
            )
    page = list(rows[: limit + 1])
    return page[:limit], len(page) > limit


def production_delivery_problems(production: ModelVersion | None) -> list[Delivery]:
    """The latest announcement of `production` to each production-environment target,
    where that announcement is failing (pending after a failed attempt), failed or
    exhausted. One bounded query over the newest WARNING_ROWS rows."""
    if production is None:
        return []
    rows = (
        Delivery.objects.filter(
            version=production,
            event__in=PRODUCTION_EVENTS,
            target__environment=Environment.PRODUCTION,
        )
        .select_related("target")
        .defer("body")
        .order_by("-created_at", "-id")[:WARNING_ROWS]
    )
    latest: dict[int, Delivery] = {}
    for row in rows:
        latest.setdefault(row.target_id, row)
    return [
        d
        for d in latest.values()
        if d.state in (DeliveryState.FAILED, DeliveryState.EXHAUSTED)
        or (d.state == DeliveryState.PENDING and d.last_error)
    ]
