"""Reads of approvals that pages and the API share: an approver's inbox, a model's and a
version's requests. Each has its query shape decided here, with bounded work."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import (
    Case,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils.dateparse import parse_datetime

from registry.choices import RiskTier
from registry.fixed_sql import from_jsonb
from registry.models import ModelVersion, RegisteredModel, Team

from .approvers import STAGES, codename
from .models import (
    PENDING_STATES,
    TARGET_STAGE_CHOICES,
    Policy,
    PolicyScope,
    RequestKind,
    Review,
    TransitionRequest,
)

INBOX_PAGE = 25  # rows of each list on the inbox page
INBOX_COUNT_CAP = 100  # counted up to this; past it the page and navigation say "99+"
HISTORY_LIMIT = 50


def _waiting_sql(user_id: int) -> tuple[str, list]:
    """SQL for the ids of the pending requests waiting for user `user_id`'s review, and
    its parameters: requests for a stage they may approve on the request's model (a
    django-guardian grant on the model or on its team, their own or one of their
    groups'), that they did not file, did not author under separation of duties, and
    have not reviewed, or whose approval went stale (Review.stale_at, kept by
    approvals.services.staleness). It starts from the grants (a (stage, model) pair once each: the
    UNIONs), so its work follows the approver's scope, not the number of requests.

    One statement, grants included, rather than the ORM's three queries: the inbox and
    the navigation's count run it on every page, where building and compiling the
    querysets cost more than PostgreSQL's work (bench/inbox.py). Plain SQL that SQLite
    runs too."""
    grants = [
        (codename(stage, on), stage, int(on is Team))
        for stage in STAGES
        for on in (RegisteredModel, Team)
    ]
    values = ", ".join(["(%s, %s, %s)"] * len(grants))
    sql = f"""
        WITH kinds (codename, stage, on_team) AS (VALUES {values}),
        granted AS (
            SELECT k.stage, k.on_team, g.object_pk
            FROM guardian_userobjectpermission g
            JOIN auth_permission p ON p.id = g.permission_id
            JOIN kinds k ON k.codename = p.codename
            WHERE g.user_id = %s
            UNION
            SELECT k.stage, k.on_team, g.object_pk
            FROM guardian_groupobjectpermission g
            JOIN auth_user_groups ug ON ug.group_id = g.group_id
            JOIN auth_permission p ON p.id = g.permission_id
            JOIN kinds k ON k.codename = p.codename
            WHERE ug.user_id = %s
        ),
        scope AS (
            SELECT stage, CAST(object_pk AS BIGINT) AS model_id FROM granted WHERE on_team = 0
            UNION
            SELECT granted.stage, m.id FROM granted
            JOIN registry_registeredmodel m ON m.team_id = CAST(granted.object_pk AS BIGINT)
            WHERE granted.on_team = 1
        )
        SELECT t.id FROM scope s
        JOIN approvals_transitionrequest t
          ON t.model_id = s.model_id AND t.to_stage = s.stage
        WHERE t.state IN ({", ".join(["%s"] * len(PENDING_STATES))})
          AND t.requester_id <> %s
          AND NOT (t.policy_id IN (SELECT id FROM approvals_policy
                                   WHERE separation_of_duties)
                   AND t.version_id IN (SELECT id FROM registry_modelversion
                                        WHERE created_by_id = %s))
          AND NOT EXISTS (SELECT 1 FROM approvals_review r
                          WHERE r.request_id = t.id AND r.reviewer_id = %s
                            AND r.stale_at IS NULL)
    """
    params = [x for grant in grants for x in grant]
    params += [user_id, user_id, *map(str, PENDING_STATES), user_id, user_id, user_id]
    return sql, params


def _waiting_ids(user, *, after: int | None, limit: int) -> list[int]:
    """The first `limit` ids of `user`'s waiting requests, oldest first (after `after`)."""
    if not user.is_authenticated:
        return []
    sql, params = _waiting_sql(user.pk)
    if after is not None:
        sql += " AND t.id > %s"
        params.append(after)
    sql += " ORDER BY t.id LIMIT %s"
    params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _waiting(user) -> QuerySet[TransitionRequest]:
    """The requests waiting for `user`'s review, as a queryset to filter further."""
    if not user.is_authenticated:
        return TransitionRequest.objects.none()
    return TransitionRequest.objects.filter(pk__in=RawSQL(*_waiting_sql(user.pk)))


MINE_FIELDS = (
    "state",
    "kind",
    "alias",
    "from_stage",
    "to_stage",
    "created_at",
    "gates_passed",
    "close_comment",
    "model__name",
    "version__number",
    "version__label",
)


@dataclass(frozen=True)
class Page:
    """One page of a list in id order: its rows, and the id to continue from (None: the
    list ends here)."""

    rows: list[TransitionRequest]
    next_cursor: int | None


# An inbox row as the page shows it: the request's own columns, the names it shows, and
# whether the user's earlier approval went stale, read in the statement that finds the
# waiting requests ({waiting}: _waiting_sql, limited), with their count.
_INBOX_ROWS = """
    WITH waiting AS ({waiting}),
    shown AS (SELECT id FROM waiting ORDER BY id LIMIT %s)
    SELECT t.id, t.state, t.kind, t.alias, t.from_stage, t.to_stage, t.created_at,
           t.gates_passed,
           m.name AS model_name, v.number AS version_number, v.label AS version_label,
           u.username AS requester_name,
           EXISTS (SELECT 1 FROM approvals_review r
                   WHERE r.request_id = t.id AND r.reviewer_id = %s
                     AND r.stale_at IS NOT NULL) AS my_approval_stale,
           (SELECT count(*) FROM waiting) AS waiting_count
    FROM shown
    JOIN approvals_transitionrequest t ON t.id = shown.id
    JOIN registry_registeredmodel m ON m.id = t.model_id
    JOIN registry_modelversion v ON v.id = t.version_id
    JOIN auth_user u ON u.id = t.requester_id
    ORDER BY t.id
"""


def inbox(
    user, *, after: int | None = None, size: int = INBOX_PAGE, cap: int = INBOX_COUNT_CAP
) -> tuple[Page, int]:
    """A page of the pending requests waiting for `user`'s review (_waiting_sql), oldest
    first (after request `after`), and how many wait in all, counted up to `cap` + 1.

    One query for the first page, two for a later one (its count is of all), bounded
    whatever the number of open requests: the ORM's queries cost more to build than to
    run here (bench/inbox.py). Rows are TransitionRequests with the fields an inbox row
    shows, plus `model_name`, `version_number`, `version_label`, `requester_name` and
    `my_approval_stale` (the user approved it before and must look again); reading
    another field costs a query."""
    if not user.is_authenticated:
        return Page([], None), 0
    waiting, params = _waiting_sql(user.pk)
    if after is None:
        waiting += " ORDER BY t.id LIMIT %s"
        params.append(cap + 1)
    else:
        waiting += " AND t.id > %s ORDER BY t.id LIMIT %s"
        params += [after, size + 1]
    rows = list(
        TransitionRequest.objects.raw(
            _INBOX_ROWS.format(waiting=waiting), [*params, size + 1, user.pk]
        )
    )
    if after is None:
        count = rows[0].waiting_count if rows else 0
    else:
        count = inbox_count(user, cap=cap)
    return Page(rows[:size], rows[size - 1].pk if len(rows) > size else None), count


def inbox_count(user, cap: int = INBOX_COUNT_CAP) -> int:
    """How many requests wait for `user`, counted up to `cap` + 1 (the navigation says
    "99+" past it): one query."""
    return len(_waiting_ids(user, after=None, limit=cap + 1))


def inbox_count_sql(user_id: int, cap: int = INBOX_COUNT_CAP) -> tuple[str, list]:
    """inbox_count as a scalar subquery and its parameters, for a statement that reads
    the user anyway (config.auth_backends: every page's navigation shows the count)."""
    sql, params = _waiting_sql(user_id)
    # The ids, at most cap + 1 of them, counted as inbox_count counts them.
    return f"cardinality(ARRAY({sql} LIMIT %s))", [*params, cap + 1]


def requests_of_user(user, *, before: int | None = None, size: int = INBOX_PAGE) -> Page:
    """A page of the requests `user` filed, newest first (before `before`): one query
    (the requester index, backwards). The rows carry MINE_FIELDS."""
    mine = TransitionRequest.objects.filter(requester=user)
    if before is not None:
        mine = mine.filter(pk__lt=before)
    related = sorted({f.split("__")[0] for f in MINE_FIELDS if "__" in f})
    rows = list(mine.select_related(*related).only(*MINE_FIELDS).order_by("-id")[: size + 1])
    return Page(rows[:size], rows[size - 1].pk if len(rows) > size else None)


def model_pending_requests(
    model: RegisteredModel, limit: int = HISTORY_LIMIT
) -> list[TransitionRequest]:
    rows = page_part(model, "pending")
    if rows is not None and limit == HISTORY_LIMIT:
        return pending_from_part(model, rows)
    return list(
        TransitionRequest.objects.filter(model=model, state__in=PENDING_STATES)
        .select_related("version", "requester")
        .order_by("-created_at", "-id")[:limit]
    )


# version_requests as a part of the version page's one statement (registry.selectors.
# VERSION_PAGE_PARTS; {version}: the version's id there): the requests as JSON, newest
# first, each with what the stage history shows and its reviews in Review's order.
STAGE_HISTORY_SQL = """ARRAY(
    SELECT jsonb_build_object(
        'id', t.id, 'kind', t.kind, 'from_stage', t.from_stage, 'to_stage', t.to_stage,
        'reason', t.reason, 'state', t.state, 'close_comment', t.close_comment,
        'created_at', t.created_at, 'requester_id', t.requester_id,
        'requester', u.username,
        'reviews', ARRAY(
            SELECT jsonb_build_object('id', r.id, 'decision', r.decision,
                                      'comment', r.comment, 'reviewer_id', r.reviewer_id,
                                      'reviewer', ru.username)
            FROM approvals_review r JOIN auth_user ru ON ru.id = r.reviewer_id
            WHERE r.request_id = t.id ORDER BY r.created_at, r.id))
    FROM approvals_transitionrequest t JOIN auth_user u ON u.id = t.requester_id
    WHERE t.version_id = {version}
    ORDER BY t.created_at DESC, t.id DESC LIMIT %s)"""


def stage_history_part() -> tuple[str, list]:
    return STAGE_HISTORY_SQL, [HISTORY_LIMIT]


def stage_history_from_part(version: ModelVersion, rows: list[dict]) -> list[TransitionRequest]:
    """STAGE_HISTORY_SQL's rows as version_requests gives them (the fields the stage
    history shows)."""
    User = get_user_model()
    history = []
    for row in rows:
        request = TransitionRequest(
            id=row["id"],
            model_id=version.model_id,
            version=version,
            kind=row["kind"],
            from_stage=row["from_stage"],
            to_stage=row["to_stage"],
            reason=row["reason"],
            state=row["state"],
            close_comment=row["close_comment"],
            created_at=parse_datetime(row["created_at"]),
            requester=User(id=row["requester_id"], username=row["requester"]),
        )
        reviews = [
            Review(
                id=r["id"],
                request=request,
                decision=r["decision"],
                comment=r["comment"],
                reviewer=User(id=r["reviewer_id"], username=r["reviewer"]),
            )
            for r in row["reviews"]
        ]
        queryset = request.reviews.all()
        queryset._result_cache, queryset._prefetch_done = reviews, True
        request._prefetched_objects_cache = {"reviews": queryset}
        history.append(request)
    return history


def version_requests(version: ModelVersion, limit: int = HISTORY_LIMIT) -> list[TransitionRequest]:
    """The version's stage history: its requests, newest first, with their reviews and
    reviewers (two queries; none when the version page read them with the version)."""
    rows = getattr(version, "page_parts", {}).get("stage_history")
    if rows is not None and limit == HISTORY_LIMIT:
        return stage_history_from_part(version, rows)
    return list(
        TransitionRequest.objects.filter(version=version)
        .select_related("requester", "closed_by")
        .prefetch_related(Prefetch("reviews", queryset=Review.objects.select_related("reviewer")))
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


def _rank(field: str, values: list[str]) -> Case:
    """An integer ordering `field` as listed in `values` (anything else last)."""
    whens = [When(**{field: value}, then=Value(i)) for i, value in enumerate(values)]
    return Case(*whens, default=Value(len(values)), output_field=IntegerField())


def current_policies() -> QuerySet[Policy]:
    """The policies in force, in the policies page's order: target stage, risk tier (a
    model's own policy, which has none, last), scope, then team or model name. Teams'
    and models' overrides make this grow with the registry: the page pages it."""
    return (
        Policy.objects.filter(superseded_at__isnull=True)
        .select_related("team", "model", "published_by")
        .annotate(
            stage_rank=_rank("stage", [value for value, _ in TARGET_STAGE_CHOICES]),
            tier_rank=_rank("risk_tier", [*RiskTier.values, ""]),
            scope_rank=_rank("scope", list(PolicyScope.values)),
        )
        .order_by(
            "stage_rank", "tier_rank", "scope_rank", Lower("team__name"), Lower("model__name"), "pk"
        )
    )


def _line(policy: Policy) -> dict:
    """What the versions of one policy share (its scope, target and stage)."""
    return {
        "scope": policy.scope,
        "team_id": policy.team_id,
        "model_id": policy.model_id,
        "stage": policy.stage,
        "risk_tier": policy.risk_tier,
    }


def policy_recent_versions(policies: list[Policy], limit: int) -> dict[int, list[Policy]]:
    """For each of `policies` (by pk), its `limit` latest earlier versions, newest first,
    in one query. A policy's versions are numbered 1, 2, ... without gaps (policy_publish
    numbers the next one; none is ever deleted), so they are a range of numbers."""
    if not policies or limit <= 0:
        return {}
    lines = Q()
    for p in policies:
        lines |= Q(**_line(p), number__gte=p.number - limit, number__lt=p.number)
    by_line: dict[tuple, list[Policy]] = {}
    for old in Policy.objects.filter(lines).select_related("published_by").order_by("-number"):
        by_line.setdefault(tuple(_line(old).values()), []).append(old)
    return {p.pk: by_line.get(tuple(_line(p).values()), []) for p in policies}


def policy_versions(policy: Policy) -> QuerySet[Policy]:
    """Every version of `policy`'s line (current and superseded), newest first."""
    return (
        Policy.objects.filter(**_line(policy))
        .select_related("team", "model", "published_by")
        .order_by("-number")
    )


# --- The model page's parts, read with the model (registry.selectors.MODEL_PAGE_PARTS) ---
# Each is the SQL of an array of jsonb values naming the model's row as
# "registry_registeredmodel", and its parameters; the tags that show them
# (approvals_tags) turn the rows back into what the functions above return.
_MODEL = '"registry_registeredmodel"'


def pending_part() -> tuple[str, list]:
    """model_pending_requests's rows."""
    sql = f"""ARRAY(
        SELECT to_jsonb(t) - 'gate_results'
               || jsonb_build_object('version_number', v.number, 'requester_name', u.username)
        FROM approvals_transitionrequest t
        JOIN registry_modelversion v ON v.id = t.version_id
        JOIN auth_user u ON u.id = t.requester_id
        WHERE t.model_id = {_MODEL}."id"
          AND t.state IN ({", ".join(["%s"] * len(PENDING_STATES))})
        ORDER BY t.created_at DESC, t.id DESC LIMIT %s)"""
    return sql, [*map(str, PENDING_STATES), HISTORY_LIMIT]


def policies_part() -> tuple[str, list]:
    """The current policies that may apply to the model (policies.policies_for picks)."""
    sql = f"""ARRAY(
        SELECT to_jsonb(p) FROM approvals_policy p
        WHERE p.superseded_at IS NULL
          AND ((p.scope = %s AND p.model_id = {_MODEL}."id")
               OR (p.scope = %s AND p.team_id = {_MODEL}."team_id"
                   AND p.risk_tier = {_MODEL}."risk_tier")
               OR (p.scope = %s AND p.risk_tier = {_MODEL}."risk_tier")))"""
    return sql, [PolicyScope.MODEL.value, PolicyScope.TEAM.value, PolicyScope.ORGANISATION.value]


def approvers_part() -> tuple[str, list]:
    """[codename, username] of every active user who may approve the model into a stage,
    directly or through a group, on the model or team-wide (approver_names_by_stage)."""
    model_perms = [codename(s, RegisteredModel) for s in STAGES]
    team_perms = [codename(s, Team) for s in STAGES]
    on = f"""((g.content_type_id = %s AND g.object_pk = CAST({_MODEL}."id" AS varchar)
               AND p.codename IN ({", ".join(["%s"] * len(model_perms))}))
              OR (g.content_type_id = %s AND g.object_pk = CAST({_MODEL}."team_id" AS varchar)
               AND p.codename IN ({", ".join(["%s"] * len(team_perms))})))"""
    sql = f"""ARRAY(
        SELECT DISTINCT jsonb_build_array(granted.codename, u.username) FROM (
            SELECT p.codename, g.user_id FROM guardian_userobjectpermission g
            JOIN auth_permission p ON p.id = g.permission_id WHERE {on}
            UNION
            SELECT p.codename, ug.user_id FROM guardian_groupobjectpermission g
            JOIN auth_permission p ON p.id = g.permission_id
            JOIN auth_user_groups ug ON ug.group_id = g.group_id WHERE {on}
        ) granted JOIN auth_user u ON u.id = granted.user_id AND u.is_active)"""
    on_params = [
        ContentType.objects.get_for_model(RegisteredModel).pk,
        *model_perms,
        ContentType.objects.get_for_model(Team).pk,
        *team_perms,
    ]
    return sql, [*on_params, *on_params]


def page_part(model: RegisteredModel, name: str) -> list | None:
    """The rows of the model page's part `name`, if the page read them with the model."""
    return getattr(model, "page_parts", {}).get(name)


def pending_from_part(model: RegisteredModel, rows: list[dict]) -> list[TransitionRequest]:
    User = get_user_model()
    pending = []
    for row in rows:
        request = from_jsonb(TransitionRequest, row)
        request.model = model
        request.version = ModelVersion(
            id=row["version_id"], model_id=model.pk, number=row["version_number"]
        )
        request.requester = User(id=row["requester_id"], username=row["requester_name"])
        pending.append(request)
    return pending


def policies_from_part(rows: list[dict]) -> list[Policy]:
    return [from_jsonb(Policy, row) for row in rows]
