"""Who may do what in the catalog (DESIGN invariant 7), decided in one place.

Everyone signed in may view every model. Editing a model (metadata, cards, versions)
needs membership of its owning team, the per-object change permission granted through
django-guardian, or superuser status.

Downloading a stored artifact: everyone signed in for a model whose data
classification is public or internal. For confidential and restricted models, only
those who may edit the model (its team, holders of the change grant, admins) and its
named approvers (holders of the approve grant, who review what they approve); a grant
to one of the user's groups counts as theirs. Each such download is audited.
"""

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import PermissionDenied
from django.db.models import BigIntegerField, CharField, Q
from django.db.models.expressions import RawSQL
from guardian.models import GroupObjectPermission, UserObjectPermission

from .choices import DataClassification, TeamRole
from .models import RegisteredModel, Team, TeamMembership

_IDS = ArrayField(BigIntegerField())
CHANGE_PERM = "change_registeredmodel"
APPROVE_PERM = "approve_production_registeredmodel"
# Named approvers of any stage, on the model or team-wide on its team (approvals.approvers).
APPROVE_PERMS = tuple(f"approve_{s}_registeredmodel" for s in ("staging", "production", "archived"))
TEAM_APPROVE_PERMS = tuple(f"approve_{s}_team" for s in ("staging", "production", "archived"))
# Models trained on data of these classes keep their artifacts to the model's people.
RESTRICTED_CLASSIFICATIONS = frozenset(
    {DataClassification.CONFIDENTIAL, DataClassification.RESTRICTED}
)


def _load_memberships(user) -> None:
    """The user's teams and the ones they maintain, in one query, cached on the user
    object for the request (the nav's Teams link reuses what the page loaded)."""
    rows = list(TeamMembership.objects.filter(user=user).values_list("team_id", "role"))
    user._modelgate_team_ids = frozenset(team_id for team_id, _ in rows)
    user._modelgate_maintained_team_ids = frozenset(
        team_id for team_id, role in rows if role == TeamRole.MAINTAINER
    )


def membership_annotations(user_column: str) -> dict:
    """Annotations that load a user's teams (and the ones they maintain) with the user
    row itself, for PostgreSQL (the sign-in backend and token lookup use them; see
    remember_memberships). `user_column` is the SQL of the user's id in the annotated
    query, e.g. '"auth_user"."id"'. Plain SQL: the ORM's subqueries took longer to
    compile on every request than to run."""
    table = TeamMembership._meta.db_table
    teams = f"ARRAY(SELECT team_id FROM {table} WHERE user_id = {user_column}"
    return {
        "modelgate_team_ids": RawSQL(f"{teams})", [], output_field=_IDS),
        "modelgate_maintained_team_ids": RawSQL(
            f"{teams} AND role = %s)", [TeamRole.MAINTAINER.value], output_field=_IDS
        ),
    }


def remember_memberships(user, source) -> None:
    """Keep, for the request, the teams `source` (a row annotated with
    membership_annotations) loaded for `user`, so no query asks again."""
    team_ids = getattr(source, "modelgate_team_ids", None)
    if team_ids is None:  # not annotated (SQLite): loaded on first use instead
        return
    user._modelgate_team_ids = frozenset(team_ids)
    user._modelgate_maintained_team_ids = frozenset(source.modelgate_maintained_team_ids)


def user_team_ids(user) -> frozenset[int]:
    """The ids of the user's teams, cached on the user object for the request."""
    if getattr(user, "_modelgate_team_ids", None) is None:
        _load_memberships(user)
    return user._modelgate_team_ids


def user_maintained_team_ids(user) -> frozenset[int]:
    """The ids of the teams the user maintains (cached like user_team_ids)."""
    if getattr(user, "_modelgate_maintained_team_ids", None) is None:
        _load_memberships(user)
    return user._modelgate_maintained_team_ids


def can_manage_team(user, team: Team) -> bool:
    """Platform admins manage every team; maintainers manage their own."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or team.pk in user_maintained_team_ids(user)


def can_manage_any_team(user) -> bool:
    """Whether the Teams pages are open to the user at all."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or bool(user_maintained_team_ids(user))


def prefetch_edit_permissions(user, models: Iterable[RegisteredModel]) -> None:
    """Load the user's grants on many models (a list page's rows) with one query, so
    that can_edit_model and can_download_artifacts ask nothing more for them. Models of
    the user's own teams need none (guardian's checker spent two queries on every
    row's grants, users' and groups')."""
    if not user.is_authenticated or user.is_superuser:
        return
    team_ids = user_team_ids(user)
    cache = getattr(user, "_modelgate_grants", None)
    if cache is None:
        cache = user._modelgate_grants = {}
    wanted = {m.pk: m.team_id for m in models if m.team_id not in team_ids and m.pk not in cache}
    if not wanted:
        return
    on = _grant_filters([str(pk) for pk in wanted], {str(pk) for pk in wanted.values()})
    model_type = ContentType.objects.get_for_model(RegisteredModel).pk
    fields = ("content_type_id", "object_pk", "permission__codename")
    found: dict[tuple[int, str], set[str]] = {}
    rows = (
        UserObjectPermission.objects.filter(on, user=user)
        .values_list(*fields)
        .union(GroupObjectPermission.objects.filter(on, group__user=user).values_list(*fields))
    )
    for content_type_id, object_pk, codename in rows:
        found.setdefault((content_type_id, object_pk), set()).add(codename)
    team_type = ContentType.objects.get_for_model(Team).pk
    for model_pk, team_pk in wanted.items():
        cache[model_pk] = frozenset(
            found.get((model_type, str(model_pk)), set())
            | found.get((team_type, str(team_pk)), set())
        )


def can_edit_model(user, model: RegisteredModel) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or model.team_id in user_team_ids(user):
        return True
    return CHANGE_PERM in _grants(user, model)


def _grant_filters(model_pks: Iterable[str], team_pks: Iterable[str]) -> Q:
    """The grants _grants reads: change or approve on the models, approve on their teams."""
    on_model = Q(
        content_type=ContentType.objects.get_for_model(RegisteredModel),
        object_pk__in=model_pks,
        permission__codename__in=(CHANGE_PERM, *APPROVE_PERMS),
    )
    on_team = Q(
        content_type=ContentType.objects.get_for_model(Team),
        object_pk__in=team_pks,
        permission__codename__in=TEAM_APPROVE_PERMS,
    )
    return on_model | on_team


# The grants _grants reads, for grant_annotations: {model} and {team} are the SQL of the
# model's id and its team's in the annotated query.
_GRANTS_SQL = """ARRAY(
    SELECT p.codename FROM guardian_userobjectpermission g
    JOIN auth_permission p ON p.id = g.permission_id
    WHERE g.user_id = %s AND ({on})
    UNION
    SELECT p.codename FROM guardian_groupobjectpermission g
    JOIN auth_user_groups ug ON ug.group_id = g.group_id
    JOIN auth_permission p ON p.id = g.permission_id
    WHERE ug.user_id = %s AND ({on}))"""
_GRANTS_ON = (
    "(g.content_type_id = %s AND g.object_pk = CAST({model} AS varchar)"
    " AND p.codename IN ({model_perms}))"
    " OR (g.content_type_id = %s AND g.object_pk = CAST({team} AS varchar)"
    " AND p.codename IN ({team_perms}))"
)


def grant_annotations(user, *, model_column: str, team_column: str) -> dict:
    """An annotation of a query that reads a model (its id and its team's are the SQL
    `model_column` and `team_column`), for PostgreSQL, that loads `user`'s grants on the
    model with it, so a page's permission checks need no query of their own (see
    remember_grants). Nothing for anonymous users and superusers, who need none."""
    if not user.is_authenticated or user.is_superuser:
        return {}
    model_perms = (CHANGE_PERM, *APPROVE_PERMS)
    on = _GRANTS_ON.format(
        model=model_column,
        team=team_column,
        model_perms=", ".join(["%s"] * len(model_perms)),
        team_perms=", ".join(["%s"] * len(TEAM_APPROVE_PERMS)),
    )
    on_params = [
        ContentType.objects.get_for_model(RegisteredModel).pk,
        *model_perms,
        ContentType.objects.get_for_model(Team).pk,
        *TEAM_APPROVE_PERMS,
    ]
    return {
        "modelgate_grants": RawSQL(
            _GRANTS_SQL.format(on=on),
            [user.pk, *on_params, user.pk, *on_params],
            output_field=ArrayField(CharField()),
        )
    }


def remember_grants(user, model: RegisteredModel, source=None) -> None:
    """Keep for the request `user`'s grants on `model` that `source` (by default the
    model itself) was loaded with through grant_annotations."""
    source = model if source is None else source
    if getattr(source, "modelgate_grants", None) is None:
        return
    cache = getattr(user, "_modelgate_grants", None)
    if cache is None:
        cache = user._modelgate_grants = {}
    cache[model.pk] = frozenset(source.modelgate_grants)


def _grants(user, model: RegisteredModel) -> frozenset[str]:
    """The user's per-object grants on one model (change, approve any stage) and, for
    approving, on its team, to them or one of their groups: one query, cached for the
    request (guardian's checker spends two queries and ~7 ms on the model page)."""
    cache = getattr(user, "_modelgate_grants", None)
    if cache is None:
        cache = user._modelgate_grants = {}
    if model.pk not in cache:
        on = _grant_filters([str(model.pk)], [str(model.team_id)])
        cache[model.pk] = frozenset(
            UserObjectPermission.objects.filter(on, user=user)
            .values_list("permission__codename", flat=True)
            .union(
                GroupObjectPermission.objects.filter(on, group__user=user).values_list(
                    "permission__codename", flat=True
                )
            )
        )
    return cache[model.pk]


def artifacts_restricted(model: RegisteredModel) -> bool:
    return model.data_classification in RESTRICTED_CLASSIFICATIONS


def can_download_artifacts(user, model: RegisteredModel) -> bool:
    """Whether `user` may download the model's stored artifacts (see the module doc)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if not artifacts_restricted(model) or can_edit_model(user, model):
        return True
    # A named approver of any stage reviews what they approve, model-wide or team-wide.
    return any(code.startswith("approve_") for code in _grants(user, model))


def require_download_artifacts(user, model: RegisteredModel) -> None:
    if not can_download_artifacts(user, model):
        raise PermissionDenied(
            f"{model.name} is {model.get_data_classification_display().lower()}: only "
            f"members of team {model.team.name}, its approvers and users granted access "
            "to it can download its artifacts."
        )


def require_edit_model(user, model: RegisteredModel) -> None:
    if not can_edit_model(user, model):
        raise PermissionDenied(
            f"Only members of team {model.team.name} or users granted edit rights on "
            f"{model.name} can change it."
        )


def can_create_model_for_team(user, team_id: int) -> bool:
    return user.is_authenticated and (user.is_superuser or team_id in user_team_ids(user))


def forget_cached_permissions(user) -> None:
    for attr in (
        "_modelgate_team_ids",
        "_modelgate_maintained_team_ids",
        "_modelgate_grants",
    ):
        if hasattr(user, attr):
            delattr(user, attr)
