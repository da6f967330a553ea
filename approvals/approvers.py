"""Who may approve what: named approvers hold, per stage, a django-guardian object
permission on the model or on its team (every model of the team), themselves or
through one of their groups. Nobody approves by being an admin alone.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from guardian.models import GroupObjectPermission, UserObjectPermission

from registry.models import RegisteredModel, Team

from .models import TARGET_STAGE_CHOICES

STAGES = [value for value, _ in TARGET_STAGE_CHOICES]


def codename(stage: str, on: type) -> str:
    """The permission codename for approving `stage` on a model or on a team."""
    if stage not in STAGES:
        raise ValueError(f"No approvers for stage {stage!r}")
    return f"approve_{stage}_{on._meta.model_name}"


def _grant_filter(model: RegisteredModel, stage: str) -> Q:
    return Q(
        content_type=ContentType.objects.get_for_model(RegisteredModel),
        object_pk=str(model.pk),
        permission__codename=codename(stage, RegisteredModel),
    ) | Q(
        content_type=ContentType.objects.get_for_model(Team),
        object_pk=str(model.team_id),
        permission__codename=codename(stage, Team),
    )


def _any_stage_filter(model: RegisteredModel) -> Q:
    """Grants to approve `model` into any stage, on it or its team: two terms, where
    one _grant_filter per stage makes six (the model page builds it on every view)."""
    return Q(
        content_type=ContentType.objects.get_for_model(RegisteredModel),
        object_pk=str(model.pk),
        permission__codename__in=[codename(s, RegisteredModel) for s in STAGES],
    ) | Q(
        content_type=ContentType.objects.get_for_model(Team),
        object_pk=str(model.team_id),
        permission__codename__in=[codename(s, Team) for s in STAGES],
    )


@dataclass(frozen=True)
class Grant:
    """One named approver entry as the model's settings page lists it."""

    stage: str
    holder: str  # a username or a group name
    is_group: bool
    team_wide: bool
    user_id: int | None
    group_id: int | None


def grants_for(model: RegisteredModel) -> list[Grant]:
    """Every approver grant that covers `model`, by stage (two queries)."""
    grants = []
    q = Q()
    for stage in STAGES:
        q |= _grant_filter(model, stage)
    team_ct = ContentType.objects.get_for_model(Team)
    for row in UserObjectPermission.objects.filter(q).values(
        "user_id", "user__username", "permission__codename", "content_type_id"
    ):
        grants.append(
            Grant(
                stage=row["permission__codename"].split("_")[1],
                holder=row["user__username"],
                is_group=False,
                team_wide=row["content_type_id"] == team_ct.pk,
                user_id=row["user_id"],
                group_id=None,
            )
        )
    for row in GroupObjectPermission.objects.filter(q).values(
        "group_id", "group__name", "permission__codename", "content_type_id"
    ):
        grants.append(
            Grant(
                stage=row["permission__codename"].split("_")[1],
                holder=row["group__name"],
                is_group=True,
                team_wide=row["content_type_id"] == team_ct.pk,
                user_id=None,
                group_id=row["group_id"],
            )
        )
    return sorted(grants, key=lambda g: (STAGES.index(g.stage), g.is_group, g.holder.lower()))


def approver_ids(model: RegisteredModel, stage: str) -> set[int]:
    """Ids of the active users who may approve `model` into `stage` (one query)."""
    f = _grant_filter(model, stage)
    direct = UserObjectPermission.objects.filter(f).values("user_id")
    via_group = GroupObjectPermission.objects.filter(f).values("group_id")
    return set(
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(pk__in=direct) | Q(groups__in=via_group))
        .values_list("pk", flat=True)
        .distinct()
    )


def approvers(model: RegisteredModel, stage: str) -> list:
    ids = approver_ids(model, stage)
    return list(get_user_model().objects.filter(pk__in=ids).order_by("username"))


def can_approve(user, model: RegisteredModel, stage: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.pk in approver_ids(model, stage)


def approver_names_by_stage(model: RegisteredModel) -> dict[str, list[str]]:
    """{stage: sorted usernames} of the active users who may approve `model` into each
    stage, directly or through a group, on the model or team-wide (one query): what the
    model page lists. None when the page read them with the model
    (selectors.approvers_part)."""
    from .selectors import page_part

    out: dict[str, set[str]] = {stage: set() for stage in STAGES}
    rows = page_part(model, "approvers")
    if rows is not None:
        for code, username in rows:
            out[code.split("_")[1]].add(username)
        return {stage: sorted(names, key=str.lower) for stage, names in out.items()}
    q = _any_stage_filter(model)
    direct = UserObjectPermission.objects.filter(q, user__is_active=True).values_list(
        "permission__codename", "user__username"
    )
    via_group = GroupObjectPermission.objects.filter(q, group__user__is_active=True).values_list(
        "permission__codename", "group__user__username"
    )
    for code, username in direct.union(via_group):
        out[code.split("_")[1]].add(username)
    return {stage: sorted(names, key=str.lower) for stage, names in out.items()}
