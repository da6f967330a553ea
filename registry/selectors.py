"""Reads shared by the dashboard and the API, with their query shapes decided once.

Query counts here are fixed: a model page and a version page issue the same number of
queries whatever the number of versions or metrics. The catalog search is not a plain
read: it lives in `registry.search`.
"""

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import reduce
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    F,
    IntegerField,
    JSONField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.http import Http404
from django.utils.dateparse import parse_datetime

from audit.selectors import model_events_part

from .choices import CARD_SECTION_NAMES, CARD_SECTIONS, SectionStatus
from .deployments.models import DeploymentTarget, Environment, Serving, ServingState
from .fixed_sql import (
    cache_related,
    columns,
    fetch_one,
    fixed_cursor,
    from_jsonb,
    model_rows,
    set_annotations,
)
from .models import (
    DataVersion,
    Metric,
    ModelAlias,
    ModelCard,
    ModelVersion,
    RegisteredModel,
    Team,
    VersionParent,
)
from .names import name_key
from .permissions import grant_annotations, remember_grants
from .search import HEAVY_MODEL_FIELDS
from .stages import Stage


def model_named_like(name: str, *, exclude_pk: int | None = None) -> RegisteredModel | None:
    """The model whose name `name` near-duplicates (registry.names), if any."""
    key = name_key(name)
    if not key:
        return None
    rows = RegisteredModel.objects.filter(name_key=key)
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return rows.only("pk", "name").first()


# What other apps show on the model page, read in model_get's statement when it reads
# for the page: {name: a function giving (SQL of an array of jsonb values, its
# parameters)}, the SQL naming the model's row as "registry_registeredmodel". approvals
# registers its parts here when it starts (ApprovalsConfig.ready), so registry imports
# nothing of approvals. The rows land in `model.page_parts[name]`; without them (SQLite)
# each part queries for itself.
MODEL_PAGE_PARTS: dict[str, Callable[[], tuple[str, list]]] = {}

_THIS_MODEL = '"registry_registeredmodel"."id"'
# The model's aliases by name, with their versions and who set them (model_aliases).
_ALIASES_SQL = f"""ARRAY(
    SELECT jsonb_build_object('id', a.id, 'name', a.name, 'version_id', a.version_id,
                              'number', v.number, 'label', v.label, 'stage', v.stage,
                              'set_by_id', a.set_by_id, 'set_by', u.username,
                              'created_at', a.created_at, 'updated_at', a.updated_at)
    FROM registry_modelalias a
    JOIN registry_modelversion v ON v.id = a.version_id
    JOIN auth_user u ON u.id = a.set_by_id
    WHERE a.model_id = {_THIS_MODEL} ORDER BY lower(a.name))"""


def _model_page_annotations() -> dict:
    parts = {
        f"page_part_{name}": RawSQL(*part(), output_field=ArrayField(JSONField()))
        for name, part in MODEL_PAGE_PARTS.items()
    }
    return {
        "page_aliases": RawSQL(_ALIASES_SQL, [], output_field=ArrayField(JSONField())),
        "page_events": RawSQL(
            *model_events_part(_THIS_MODEL), output_field=ArrayField(JSONField())
        ),
        **serving_annotation(_THIS_MODEL),
        **parts,
    }


def _aliases_from_rows(model: RegisteredModel, rows: list[dict]) -> list[ModelAlias]:
    User = get_user_model()
    aliases = []
    for row in rows:
        alias = ModelAlias(
            id=row["id"],
            name=row["name"],
            model=model,
            version=ModelVersion(
                id=row["version_id"],
                model_id=model.pk,
                number=row["number"],
                label=row["label"],
                stage=row["stage"],
            ),
            set_by=User(id=row["set_by_id"], username=row["set_by"]),
            created_at=parse_datetime(row["created_at"]),
            updated_at=parse_datetime(row["updated_at"]),
        )
        aliases.append(alias)
    return aliases


def model_get(name: str, *, viewer=None, page: bool = False) -> RegisteredModel:
    """A model by name (any case) with its team and owner, or Http404. With `viewer`
    (a page's user), the viewer's grants on the model come in the same query (on
    PostgreSQL), so the page's permission checks need none of their own. With `page`,
    that query also reads the model page's aliases, what the targets serve and the
    other apps' MODEL_PAGE_PARTS (model_aliases and the page's tags then query no more),
    and its history's rows (`page_events`, for audit.selectors.events_for_model)."""
    # Pages show model.tag_list (kept in step with the tags by the services), so the
    # tags table is not read here.
    if viewer is None and connection.vendor == "postgresql":
        model = _model_by_name(name)
        if model is None:
            raise Http404(f"No model named {name!r}.")
        return model
    if page and viewer is not None and connection.vendor == "postgresql":
        model = _model_page_read(name, viewer)
    else:
        models = RegisteredModel.objects.select_related("team", "owner").defer(*HEAVY_MODEL_FIELDS)
        if viewer is not None and connection.vendor == "postgresql":
            table = RegisteredModel._meta.db_table
            models = models.annotate(
                **grant_annotations(
                    viewer, model_column=f'"{table}"."id"', team_column=f'"{table}"."team_id"'
                )
            )
        model = models.filter(name__lower=name.lower()).first()
    if model is None:
        raise Http404(f"No model named {name!r}.")
    if viewer is not None:
        remember_grants(viewer, model)
    if page and connection.vendor == "postgresql":
        model.page_alias_list = _aliases_from_rows(model, model.page_aliases)
        serving_remember(model, model)
        model.page_parts = {name: getattr(model, f"page_part_{name}") for name in MODEL_PAGE_PARTS}
    return model


def _model_page_read(name: str, viewer) -> RegisteredModel | None:
    """model_get's query for the model page (PostgreSQL) as one fixed SQL text, with the
    viewer's grants and _model_page_annotations as columns: the ORM took longer to build
    it than PostgreSQL to run it. The annotations land on the model as the ORM's would."""
    table = RegisteredModel._meta.db_table
    extras = {
        **grant_annotations(
            viewer, model_column=f'"{table}"."id"', team_column=f'"{table}"."team_id"'
        ),
        **_model_page_annotations(),
    }
    found = model_rows(
        f"LOWER({table}.name) = %s LIMIT 1",
        [name.lower()],
        exclude=HEAVY_MODEL_FIELDS,
        extras=extras,
    )
    return found[0] if found else None


def _model_by_name(name: str) -> RegisteredModel | None:
    """model_get's query without a viewer, as one fixed SQL text (PostgreSQL): every
    API call on a model makes it, and the ORM took longer to build it than PostgreSQL
    to run it. Same row, same fields deferred, team and owner loaded with it."""
    found = model_rows(
        f"LOWER({RegisteredModel._meta.db_table}.name) = %s LIMIT 1",
        [name.lower()],
        exclude=HEAVY_MODEL_FIELDS,
    )
    return found[0] if found else None


def alias_names_prefetch() -> Prefetch:
    """Versions' `aliases` with just their names, in name order (one query for a page)."""
    return Prefetch(
        "aliases", queryset=ModelAlias.objects.only("name", "version_id").order_by(Lower("name"))
    )


def models_alias_names(models: list[RegisteredModel]) -> None:
    """Set `alias_names` (by name, ignoring case) on each of `models`, for a page of
    search results: one query for names only (the ORM's prefetch of `aliases`, which
    makes an instance and a queryset per model, cost ~1 ms of Python for 25 models)."""
    if not models:
        return
    names: dict[int, list[str]] = {}
    rows = ModelAlias.objects.filter(model_id__in=[m.pk for m in models]).values_list(
        "model_id", "name"
    )
    for model_id, name in rows:
        names.setdefault(model_id, []).append(name)
    for model in models:
        model.alias_names = sorted(names.get(model.pk, []), key=str.lower)


def alias_names_by_number(model: RegisteredModel, numbers) -> dict[int, list[str]]:
    """{version number: alias names by name} for the model's versions `numbers` (one
    query; none for no numbers)."""
    if not numbers:
        return {}
    out: dict[int, list[str]] = {}
    rows = (
        ModelAlias.objects.filter(
            model=model, version__number__gte=min(numbers), version__number__lte=max(numbers)
        )
        .order_by(Lower("name"))
        .values_list("version__number", "name")
    )
    for number, name in rows:
        out.setdefault(number, []).append(name)
    return out


def model_versions(model: RegisteredModel) -> QuerySet:
    """The model's versions, newest first, with what the versions table shows."""
    return (
        ModelVersion.objects.filter(model=model)
        .select_related("created_by", "card")
        .order_by("-number")
    )


# The characters str.isspace() accepts: a section's text counts as written when it has any
# other one (ModelCard.section_counts tests .strip()), so SQL and Python agree. The last
# of them is U+3000.
_NOT_ONLY_SPACE = "[^" + "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + "]"


_COUNTED = (SectionStatus.EDITED.value, SectionStatus.CONFIRMED.value)
# The same count as one fixed SQL text for PostgreSQL: the ORM's version of it took
# longer to compile on every request than PostgreSQL takes to run it.
_FILLED_SECTIONS_SQL = (
    "SELECT "
    + " + ".join(
        f"(CASE WHEN c.{name} ~ %s AND (c.provenance -> '{name}' ->> 'status')"
        f" IN ('{_COUNTED[0]}', '{_COUNTED[1]}') THEN 1 ELSE 0 END)"
        for name in CARD_SECTION_NAMES
    )
    + ' FROM registry_modelcard c WHERE c.version_id = "registry_modelversion"."id"'
)


def card_filled_sections() -> Subquery | RawSQL:
    """The number of the version's card sections that count (ModelCard.filled_sections),
    computed in SQL so a list of versions does not load every card's text; NULL for a
    version without a card. models.completeness_percent turns it into a percentage.
    For a query of ModelVersion rows."""
    if connection.vendor == "postgresql":
        return RawSQL(
            f"({_FILLED_SECTIONS_SQL})",
            [_NOT_ONLY_SPACE] * len(CARD_SECTION_NAMES),
            output_field=IntegerField(),
        )
    counted = list(_COUNTED)
    terms = [
        Case(
            When(
                Q(**{f"{name}__regex": _NOT_ONLY_SPACE})
                & Q(**{f"provenance__{name}__status__in": counted}),
                then=Value(1),
            ),
            default=Value(0),
        )
        for name in CARD_SECTION_NAMES
    ]
    filled = reduce(operator.add, terms)
    return Subquery(
        ModelCard.objects.filter(version=OuterRef("pk"))
        .order_by()
        .annotate(filled=filled)
        .values("filled")[:1],
        output_field=IntegerField(),
    )


VERSION_TABLE_FIELDS = ("model", "number", "label", "stage", "framework", "created_at")
# versions_table's statement for PostgreSQL, fixed: the ORM's compile cost more than the run.
_VERSION_TABLE_SQL = f"""
    SELECT "registry_modelversion"."id", "registry_modelversion"."number",
           "registry_modelversion"."label", "registry_modelversion"."stage",
           "registry_modelversion"."framework", "registry_modelversion"."created_by_id",
           "registry_modelversion"."created_at", u.username, ({_FILLED_SECTIONS_SQL})
    FROM registry_modelversion JOIN auth_user u
      ON u.id = "registry_modelversion"."created_by_id"
    WHERE "registry_modelversion"."model_id" = %s
      AND ("registry_modelversion"."number" BETWEEN %s AND %s
           OR "registry_modelversion"."stage" = %s)
    ORDER BY "registry_modelversion"."number" DESC
"""


def versions_table(model: RegisteredModel, lowest: int, highest: int) -> list[ModelVersion]:
    """The model's versions numbered `lowest`..`highest` and its Production version,
    newest first, with what the model page's versions table shows (VERSION_TABLE_FIELDS,
    the author's username, `card_filled_sections`): one query."""
    if connection.vendor != "postgresql":
        return list(
            ModelVersion.objects.filter(model=model)
            .filter(Q(number__gte=lowest, number__lte=highest) | Q(stage=Stage.PRODUCTION))
            .select_related("created_by")
            .only(*VERSION_TABLE_FIELDS, "created_by__username")
            .annotate(card_filled_sections=card_filled_sections())
            .order_by("-number")
        )
    User = get_user_model()
    params = [*[_NOT_ONLY_SPACE] * len(CARD_SECTION_NAMES), model.pk, lowest, highest]
    with fixed_cursor() as cursor:
        cursor.execute(_VERSION_TABLE_SQL, [*params, Stage.PRODUCTION.value])
        rows = cursor.fetchall()
    versions = []
    for pk, number, label, stage, framework, created_by_id, created_at, username, filled in rows:
        version = _partial(
            ModelVersion,
            id=pk,
            model_id=model.pk,
            number=number,
            label=label,
            stage=stage,
            framework=framework,
            created_by_id=created_by_id,
            created_at=created_at,
        )
        version.created_by = _partial(User, id=created_by_id, username=username)
        version.card_filled_sections = filled
        versions.append(version)
    return versions


# What a row of the API's version list shows (registry.api.serializers.versions.version_rows).
VERSION_ROW_FIELDS = (
    "number",
    "label",
    "stage",
    "framework",
    "flavor",
    "artifact",
    "artifact_filename",
    "artifact_size",
    "artifact_sha256",
    "artifact_uri",
    "run_system",
    "run_id",
    "run_url",
    "code_repository",
    "code_commit",
    "release_notes",
    "created_at",
)


def version_rows(model: RegisteredModel, numbers: range | list[int]) -> list[dict]:
    """The model's versions numbered `numbers` (a page of the list, newest first), as
    plain rows of VERSION_ROW_FIELDS plus `created_by` (a username),
    `card_filled_sections` and, on PostgreSQL, `alias_names`: one query, no model instances."""
    if not numbers:
        return []
    return list(
        ModelVersion.objects.filter(model=model, number__gte=min(numbers), number__lte=max(numbers))
        .order_by("-number")
        .values(
            *VERSION_ROW_FIELDS,
            created_by_name=F("created_by__username"),
            card_filled_sections=card_filled_sections(),
            **_alias_names_annotation(),
        )
    )


def _alias_names_annotation() -> dict:
    """On PostgreSQL, a version row's `alias_names` (by name) in the row's own query;
    elsewhere nothing (the caller reads alias_names_by_number)."""
    if connection.vendor != "postgresql":
        return {}
    sql = (
        "ARRAY(SELECT a.name FROM registry_modelalias a"
        ' WHERE a.version_id = "registry_modelversion"."id" ORDER BY lower(a.name))'
    )
    return {"alias_names": RawSQL(sql, [], output_field=ArrayField(CharField()))}


# model_metric_series's rows in one fixed statement (PostgreSQL and SQLite): the ORM took
# longer to build and compile it on every model page than the database takes to run it.
# The names let the (version, name, dataset) index find the rows; the pairs decide.
_METRIC_SERIES_SQL = """
    WITH newest AS (
        SELECT m.version_id FROM registry_metric m
        JOIN registry_modelversion v ON v.id = m.version_id
        WHERE v.model_id = %s AND v.number > %s
        ORDER BY v.number DESC LIMIT 1
    ),
    charted AS (
        SELECT m.name, m.dataset FROM registry_metric m
        WHERE m.version_id = (SELECT version_id FROM newest)
        ORDER BY m.name, m.dataset LIMIT %s
    )
    SELECT m.name, m.dataset, m.value, m.higher_is_better, v.number, v.label
    FROM registry_metric m JOIN registry_modelversion v ON v.id = m.version_id
    WHERE v.model_id = %s AND v.number > %s
      AND m.name IN (SELECT name FROM charted)
      AND EXISTS (SELECT 1 FROM charted c WHERE c.name = m.name AND c.dataset = m.dataset)
    ORDER BY m.name, m.dataset, v.number
"""


def model_metric_series(
    model: RegisteredModel, *, last_versions: int = 200, max_series: int = 24
) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """For the charts, over the newest `last_versions` versions (bounded so a model with
    10,000 versions stays fast): {"metric (dataset)": [{"version", "label", "value",
    "higher_is_better"}, ...]} in version order, and how many metrics the newest version
    with metrics has.

    The series are the first `max_series` metrics (by name and dataset) of the newest
    version that has any, so the page's work does not grow with a version's metrics.
    """
    oldest = model.last_version_number - last_versions
    with connection.cursor() as cursor:
        cursor.execute(_METRIC_SERIES_SQL, [model.pk, oldest, max_series, model.pk, oldest])
        rows = cursor.fetchall()
    series: dict[str, list[dict[str, Any]]] = {}
    points: list[dict[str, Any]] = []
    current = None
    for name, dataset, value, higher_is_better, number, label in rows:
        if (name, dataset) != current:  # rows come by metric, then version
            current = (name, dataset)
            points = series.setdefault(f"{name} ({dataset})" if dataset else name, [])
        points.append(
            {
                "version": number,
                "label": label,
                "value": value,
                "higher_is_better": bool(higher_is_better),
            }
        )
    # Every charted metric is one of the newest version's: only a full set may hide more.
    available = len(series)
    if available == max_series:
        newest = (
            Metric.objects.filter(version__model=model, version__number__gt=oldest)
            .order_by("-version__number")
            .values("version_id")[:1]
        )
        available = Metric.objects.filter(version_id=Subquery(newest)).count()
    return series, available


# model_lineage's statement, fixed: the ORM's union with its joins cost more to compile on
# every model page than PostgreSQL spends running it.
_LINEAGE_SQL = """
    WITH newest AS (
        (SELECT id FROM registry_versionparent WHERE child_model_id = %s
         ORDER BY id DESC LIMIT %s)
        UNION
        (SELECT id FROM registry_versionparent WHERE parent_model_id = %s
         ORDER BY id DESC LIMIT %s)
    )
    SELECT l.id, l.relation, c.id, c.number, c.model_id, cm.name,
           p.id, p.number, p.model_id, pm.name
    FROM newest JOIN registry_versionparent l ON l.id = newest.id
    JOIN registry_modelversion c ON c.id = l.child_id
    JOIN registry_registeredmodel cm ON cm.id = c.model_id
    JOIN registry_modelversion p ON p.id = l.parent_id
    JOIN registry_registeredmodel pm ON pm.id = p.model_id
    ORDER BY l.id DESC LIMIT %s
"""


def _partial(model_class, **values):
    """An instance with only `values` loaded, as a query with .only() gives it: cheaper
    to make than model_class(**values), which fills in every other field's default."""
    names = [f.attname for f in model_class._meta.concrete_fields if f.attname in values]
    return model_class.from_db(connection.alias, names, [values[name] for name in names])


def _lineage_newest(model: RegisteredModel, limit: int) -> list[VersionParent]:
    def version(pk, number, model_id, model_name) -> ModelVersion:
        v = _partial(ModelVersion, id=pk, model_id=model_id, number=number)
        v.model = _partial(RegisteredModel, id=model_id, name=model_name)
        return v

    with fixed_cursor() as cursor:
        cursor.execute(_LINEAGE_SQL, [model.pk, limit, model.pk, limit, limit])
        return [
            VersionParent(
                id=row[0],
                relation=row[1],
                child=version(*row[2:6]),
                parent=version(*row[6:10]),
                child_model_id=row[4],
                parent_model_id=row[8],
            )
            for row in cursor.fetchall()
        ]


def model_lineage(model: RegisteredModel, *, limit: int = 100) -> list[VersionParent]:
    """The `limit` newest lineage edges touching the model's versions, inside the model
    and across models."""
    # One index range scan per side (links store both models); an OR across joins to
    # the versions made PostgreSQL walk all 283k links of the bench catalog (~1 s).
    if connection.vendor == "postgresql":
        return _lineage_newest(model, limit)
    sides = [
        VersionParent.objects.filter(**{side: model}).values("pk")
        for side in ("child_model", "parent_model")
    ]
    if connection.features.supports_slicing_ordering_in_compound:  # not SQLite
        sides = [side.order_by("-pk")[:limit] for side in sides]
    newest = sides[0].union(sides[1])
    return list(
        VersionParent.objects.filter(pk__in=newest)
        .select_related("child__model", "parent__model")
        .only(  # what the lineage list shows; a version row is wide
            "relation",
            *(f"{side}__{f}" for side in ("child", "parent") for f in ("number", "model__name")),
        )
        .order_by("-pk")[:limit]
    )


def version_get(model: RegisteredModel, number: int) -> ModelVersion:
    """A version with everything its page shows, in a fixed number of queries."""
    version = (
        # The model (with its team) comes from the caller, so it is not joined again.
        ModelVersion.objects.select_related("created_by", "card__updated_by")
        .prefetch_related(
            # Bounded even for a version recorded before the limit existed. (A sliced
            # Prefetch queryset cannot fill `version.metrics`; a sliced subquery can.)
            Prefetch(
                "metrics",
                queryset=Metric.objects.filter(
                    pk__in=Metric.objects.filter(version__model=model, version__number=number)
                    .order_by("name", "dataset")
                    .values("pk")[: settings.METRICS_MAX_PER_VERSION]
                ),
            ),
            "data_versions",
            alias_names_prefetch(),
            Prefetch(
                "parent_links",
                queryset=VersionParent.objects.select_related("parent__model")
                .defer(*(f"parent__model__{f}" for f in HEAVY_MODEL_FIELDS))
                .order_by("parent_id"),
            ),
            Prefetch(
                "child_links",
                queryset=VersionParent.objects.select_related("child__model")
                .defer(*(f"child__model__{f}" for f in HEAVY_MODEL_FIELDS))
                .order_by("child_id"),
            ),
        )
        .filter(model=model, number=number)
        .first()
    )
    if version is None:
        raise Http404(f"{model.name} has no version {number}.")
    version.model = model
    return version


# What version_get prefetches, as JSON arrays read with the version row (PostgreSQL): the
# same rows in the same order, without a query each. Fixed SQL texts: built with the ORM
# (ArraySubquery, JSONObject), compiling them took most of a version read's Python time.
_THIS_VERSION = '"registry_modelversion"."id"'
_EDGES_SQL = """ARRAY(
    SELECT jsonb_build_object('id', l.id, 'relation', l.relation, 'version_id', o.id,
                              'number', o.number, 'label', o.label, 'model_id', o.model_id,
                              'model_name', om.name)
    FROM registry_versionparent l
    JOIN registry_modelversion o ON o.id = l.{other}_id
    JOIN registry_registeredmodel om ON om.id = o.model_id
    WHERE l.{side}_id = {this} ORDER BY l.{other}_id)"""
_PARTS_SQL = {
    # The version's card with its last editor's name: a subquery costs PostgreSQL less to
    # plan than two more joins (the version's read joins enough tables already).
    "parts_card": f"""ARRAY(
        SELECT to_jsonb(c) || jsonb_build_object('updated_by_name', u.username)
        FROM registry_modelcard c LEFT JOIN auth_user u ON u.id = c.updated_by_id
        WHERE c.version_id = {_THIS_VERSION})""",
    # The aliases that point at the version, by name (issue 12).
    "parts_aliases": f"""ARRAY(
        SELECT jsonb_build_object('id', a.id, 'name', a.name)
        FROM registry_modelalias a WHERE a.version_id = {_THIS_VERSION}
        ORDER BY lower(a.name))""",
    # The people the card's sections name (card_sections shows them by username).
    "parts_card_people": f"""ARRAY(
        SELECT jsonb_build_object('id', u.id, 'name', u.username)
        FROM auth_user u WHERE u.id IN (
            SELECT (s.value ->> k.key)::bigint
            FROM registry_modelcard c
            CROSS JOIN jsonb_each(c.provenance) s
            CROSS JOIN unnest(ARRAY['edited_by', 'confirmed_by']) k(key)
            WHERE c.version_id = {_THIS_VERSION}
              AND jsonb_typeof(s.value) = 'object'
              AND jsonb_typeof(s.value -> k.key) = 'number'))""",
    "parts_metrics": f"""ARRAY(
        SELECT jsonb_build_object('id', m.id, 'name', m.name, 'value', m.value,
                                  'dataset', m.dataset, 'higher_is_better', m.higher_is_better)
        FROM registry_metric m WHERE m.version_id = {_THIS_VERSION}
        ORDER BY m.name, m.dataset LIMIT %s)""",
    "parts_data_versions": f"""ARRAY(
        SELECT jsonb_build_object('id', d.id, 'dataset', d.dataset,
                                  'version_or_uri', d.version_or_uri,
                                  'content_hash', d.content_hash,
                                  'classification', d.classification)
        FROM registry_dataversion d WHERE d.version_id = {_THIS_VERSION}
        ORDER BY d.dataset, d.id)""",
    "parts_parents": _EDGES_SQL.format(side="child", other="parent", this=_THIS_VERSION),
    "parts_children": _EDGES_SQL.format(side="parent", other="child", this=_THIS_VERSION),
}


def _parts_annotations() -> dict:
    """_PARTS_SQL as annotations of a query of ModelVersion rows."""
    return {
        name: RawSQL(
            sql,
            [settings.METRICS_MAX_PER_VERSION] if name == "parts_metrics" else [],
            output_field=ArrayField(JSONField()),
        )
        for name, sql in _PARTS_SQL.items()
    }


def _prefetched(version: ModelVersion, accessor: str, rows: list) -> None:
    """Fill `version.<accessor>.all()` with `rows`, as prefetch_related would."""
    manager = getattr(version, accessor)
    queryset = manager.get_queryset()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    cache = version.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[manager.field.remote_field.cache_name] = queryset


def _edge_version(row: dict) -> ModelVersion:
    other = ModelVersion(
        id=row["version_id"], number=row["number"], label=row["label"], model_id=row["model_id"]
    )
    other.model = RegisteredModel(id=row["model_id"], name=row["model_name"])
    return other


def _attach_card(version: ModelVersion, rows: list[dict]) -> None:
    """The version's card (or its absence) as select_related("card__updated_by") leaves
    it, from the parts_card row."""
    card = None
    if rows:
        row = dict(rows[0])
        updated_by_name = row.pop("updated_by_name")
        card = from_jsonb(ModelCard, row)
        card.version = version
        card.updated_by = (
            _partial(get_user_model(), id=card.updated_by_id, username=updated_by_name)
            if card.updated_by_id is not None
            else None
        )
    ModelVersion.card.related.set_cached_value(version, card)


def _attach_parts(version: ModelVersion) -> None:
    """Turn the JSON arrays of _parts_annotations into the related rows."""
    _attach_card(version, version.parts_card)
    _prefetched(
        version,
        "metrics",
        [Metric(version_id=version.pk, **row) for row in version.parts_metrics],
    )
    _prefetched(
        version,
        "data_versions",
        [DataVersion(version_id=version.pk, **row) for row in version.parts_data_versions],
    )
    _prefetched(
        version,
        "parent_links",
        [
            VersionParent(
                id=row["id"],
                relation=row["relation"],
                child=version,
                parent=_edge_version(row),
                child_model_id=version.model_id,
                parent_model_id=row["model_id"],
            )
            for row in version.parts_parents
        ],
    )
    _prefetched(
        version,
        "child_links",
        [
            VersionParent(
                id=row["id"],
                relation=row["relation"],
                parent=version,
                child=_edge_version(row),
                parent_model_id=version.model_id,
                child_model_id=row["model_id"],
            )
            for row in version.parts_children
        ],
    )
    _prefetched(
        version,
        "aliases",
        [
            ModelAlias(version_id=version.pk, model_id=version.model_id, **row)
            for row in version.parts_aliases
        ],
    )
    version.card_people = {row["id"]: row["name"] for row in version.parts_card_people}
    for name in (
        "parts_card",
        "parts_aliases",
        "parts_card_people",
        "parts_metrics",
        "parts_data_versions",
        "parts_parents",
        "parts_children",
    ):
        delattr(version, name)


# What other apps show on the version page, read in version_read's statement when it
# reads for the page: {name: a function giving (SQL of an array of jsonb values, its
# parameters)}, the SQL naming the version's id as {version}. approvals registers its
# stage history here when it starts (ApprovalsConfig.ready), so registry imports nothing
# of approvals. The rows land in `version.page_parts[name]`; without them (SQLite) each
# part queries for itself.
VERSION_PAGE_PARTS: dict[str, Callable[[], tuple[str, list]]] = {}


def _page_annotations() -> dict:
    """The version page's parts beyond version_get's: what the targets serve, and the
    other apps' VERSION_PAGE_PARTS."""
    parts = {}
    for name, part in VERSION_PAGE_PARTS.items():
        sql, params = part()
        parts[f"page_part_{name}"] = RawSQL(
            sql.format(version=_THIS_VERSION), params, output_field=ArrayField(JSONField())
        )
    return {**serving_annotation('"registry_modelversion"."model_id"'), **parts}


def version_read(name: str, number: int, *, viewer=None, page: bool = False) -> ModelVersion:
    """Version `number` of the model named `name` (any case), with its model, team,
    owner, card and everything version_get loads, and the grants of `viewer` (if given)
    on the model: on PostgreSQL in one query (a pipeline reads single versions far more
    often than it searches), elsewhere as model_get and version_get do. With `page`, the
    same statement also reads the rest of what the version page shows (_page_annotations),
    so the page issues no other query. Http404 names what is missing."""
    if connection.vendor != "postgresql":
        return version_get(model_get(name, viewer=viewer), number)
    version = _version_read_row(name, number, viewer=viewer, page=page)
    if version is None:
        model = model_get(name)  # 404 when there is no such model
        raise Http404(f"{model.name} has no version {number}.")
    _attach_parts(version)
    if page:
        serving_remember(version.model, version)
        version.page_parts = {
            name: getattr(version, f"page_part_{name}") for name in VERSION_PAGE_PARTS
        }
    if viewer is not None:
        remember_grants(viewer, version.model, source=version)
    return version


def _version_read_row(name: str, number: int, *, viewer, page: bool) -> ModelVersion | None:
    """version_read's statement (PostgreSQL), as one fixed SQL text run prepared: the
    ORM took longer to compile it (its joins, annotations and array subqueries) than
    PostgreSQL to run it, and PostgreSQL several times longer to plan it than to run it.
    The rows land as the ORM's select_related("model__team", "model__owner",
    "created_by") with the model's HEAVY_MODEL_FIELDS deferred would leave them, and the
    annotations as their output fields would convert them."""
    User = get_user_model()
    v_table, m_table = ModelVersion._meta.db_table, RegisteredModel._meta.db_table
    # The annotations name the version's and the model's rows by their tables' names.
    version_cols = columns(ModelVersion, v_table)
    model_cols = columns(RegisteredModel, m_table, HEAVY_MODEL_FIELDS)
    team, owner, creator = columns(Team, "t"), columns(User, "u"), columns(User, "cb")
    extras = {**_parts_annotations()}
    if viewer is not None:
        extras.update(
            grant_annotations(
                viewer, model_column=f'"{v_table}"."model_id"', team_column=f'"{m_table}"."team_id"'
            )
        )
    if page:
        extras.update(_page_annotations())
    user_pk = User._meta.pk.column
    row = fetch_one(
        f"SELECT {version_cols.sql}, {model_cols.sql}, {team.sql}, {owner.sql}, {creator.sql}, "
        + ", ".join(f"({extra.sql})" for extra in extras.values())
        + f" FROM {v_table} JOIN {m_table} ON {m_table}.id = {v_table}.model_id"
        f" JOIN {Team._meta.db_table} t ON t.id = {m_table}.team_id"
        f" JOIN {User._meta.db_table} u ON u.{user_pk} = {m_table}.owner_id"
        f" JOIN {User._meta.db_table} cb ON cb.{user_pk} = {v_table}.created_by_id"
        f" WHERE LOWER({m_table}.name) = %s AND {v_table}.number = %s LIMIT 1",
        [*(p for extra in extras.values() for p in extra.params), name.lower(), number],
    )
    if row is None:
        return None
    at = 0
    instances = []
    for cols in (version_cols, model_cols, team, owner, creator):
        instances.append(cols.instance(row, at))
        at += len(cols)
    version, model, model_team, model_owner, created_by = instances
    cache_related(model, "team", model_team)
    cache_related(model, "owner", model_owner)
    cache_related(version, "model", model)
    cache_related(version, "created_by", created_by)
    set_annotations(version, extras, row[at:])
    return version


def _as_jsonb_returns(value: Any) -> Any:
    """A hyper-parameter value as PostgreSQL's jsonb gives it back: numeric keeps the
    digits of a float's shortest repr, so one written in exponent form that is a whole
    number (1e+16) comes back an integer; every other scalar comes back as it went in."""
    if (
        isinstance(value, float)
        and "e" in repr(value)
        and value.is_integer()
        and connection.vendor == "postgresql"
    ):
        return int(Decimal(repr(value)))
    return value


def version_snapshot(
    version: ModelVersion,
    *,
    model: RegisteredModel,
    card: ModelCard,
    metrics,
    data_versions,
    links,
) -> ModelVersion:
    """A just-registered version as `version_get` would read it, from the rows that
    were written (metrics, data versions and parent links with their parents' models
    loaded), without a query. A new version has no children and no aliases."""
    snapshot = ModelVersion(
        **{f.attname: getattr(version, f.attname) for f in ModelVersion._meta.concrete_fields}
    )
    snapshot._state.adding, snapshot._state.db = False, version._state.db
    snapshot.hyperparameters = {k: _as_jsonb_returns(v) for k, v in version.hyperparameters.items()}
    snapshot.model, snapshot.created_by, snapshot.card = model, version.created_by, card
    snapshot._prefetched_objects_cache = {}
    by_name = sorted(metrics, key=lambda m: (m.name, m.dataset))
    _prefetched(snapshot, "metrics", by_name[: settings.METRICS_MAX_PER_VERSION])
    _prefetched(snapshot, "data_versions", sorted(data_versions, key=lambda d: d.dataset))
    _prefetched(snapshot, "parent_links", sorted(links, key=lambda link: link.parent_id))
    _prefetched(snapshot, "child_links", [])
    _prefetched(snapshot, "aliases", [])  # a new version carries no alias yet
    return snapshot


def card_for(version: ModelVersion) -> ModelCard:
    try:
        return version.card
    except ModelCard.DoesNotExist:  # only for rows made outside the services
        return ModelCard(version=version)


@dataclass(frozen=True)
class CardSection:
    """One card section as pages and the API show it: text and provenance, people by
    username (None when nobody is recorded; "" for an account deleted since)."""

    name: str
    title: str
    text: str
    status: str  # SectionStatus
    counts: bool
    edited_for: int | None
    edited_by: str | None
    edited_at: datetime | None
    inherited_from: int | None
    confirmed_by: str | None
    confirmed_at: datetime | None

    @property
    def is_inherited(self) -> bool:
        return self.status == SectionStatus.INHERITED


def card_sections(card: ModelCard, people: dict[int, str] | None = None) -> list[CardSection]:
    """Every section of the card in display order, with its provenance (one query for
    the people named, unless `people` maps their ids to usernames already, as
    version_read's `card_people` does)."""
    states = {name: card.section_state(name) for name in CARD_SECTION_NAMES}
    ids = {s[k] for s in states.values() for k in ("edited_by", "confirmed_by") if s[k]}
    if people is not None:
        names = people
    else:
        User = get_user_model()
        names = dict(
            User.objects.filter(pk__in=ids).values_list("pk", User.USERNAME_FIELD) if ids else ()
        )

    def person(user_id) -> str | None:
        return None if user_id is None else names.get(user_id, "")

    return [
        CardSection(
            name=name,
            title=title,
            text=getattr(card, name),
            status=states[name]["status"],
            counts=card.section_counts(name),
            edited_for=states[name]["edited_for"],
            edited_by=person(states[name]["edited_by"]),
            edited_at=_when(states[name]["edited_at"]),
            inherited_from=states[name]["inherited_from"],
            confirmed_by=person(states[name]["confirmed_by"]),
            confirmed_at=_when(states[name]["confirmed_at"]),
        )
        for name, title in CARD_SECTIONS
    ]


def _when(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def teams_for_user(user) -> QuerySet:
    if user.is_superuser:
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user)


# --- What the deployment targets serve (issue 10 point 5) --------------------------------

SERVING_LIMIT = 20


@dataclass(frozen=True)
class ServingRow:
    target: str
    environment: str
    target_active: bool
    version_number: int
    version_label: str
    state: str
    endpoint_url: str
    reported_at: datetime
    drift: bool


@dataclass(frozen=True)
class ModelServing:
    """The targets' latest reports about a model, production targets first, at most
    `limit` of them (`more`: there are others), and which production targets serve
    another version than the model's Production version (`drift`)."""

    rows: list[ServingRow]
    more: bool
    production_number: int | None

    @property
    def drift(self) -> list[ServingRow]:
        return [row for row in self.rows if row.drift]


# model_serving's statement for PostgreSQL, fixed (the ORM's compile cost more than the
# run, on every model and version page). {row}: _SERVING_COLUMNS, or them as one JSON
# array; {model}: the model's id. Parameters: _serving_params.
_SERVING_COLUMNS = """t.name, t.environment, t.active, v.number, v.label, s.state,
           s.endpoint_url, s.reported_at,
           (SELECT pv.number FROM registry_modelversion pv
            WHERE pv.model_id = s.model_id AND pv.stage = %s LIMIT 1)"""
_SERVING_SQL = """
    SELECT {row}
    FROM registry_serving s
    JOIN registry_deploymenttarget t ON t.id = s.target_id
    JOIN registry_modelversion v ON v.id = s.version_id
    WHERE s.model_id = {model}
    ORDER BY CASE WHEN t.environment = %s THEN 0 ELSE 1 END, t.name
    LIMIT %s
"""


def _serving_params(limit: int) -> list:
    return [Stage.PRODUCTION, Environment.PRODUCTION, limit + 1]


def serving_annotation(model_column: str, *, limit: int = SERVING_LIMIT) -> dict:
    """model_serving's rows as an annotation (`serving_rows`) of a query that reads the
    model (its id is the SQL `model_column`), for PostgreSQL: a page that reads its model
    anyway needs no query of its own (see serving_remember)."""
    sql = _SERVING_SQL.format(row=f"jsonb_build_array({_SERVING_COLUMNS})", model=model_column)
    return {
        "serving_rows": RawSQL(
            f"ARRAY({sql})", _serving_params(limit), output_field=ArrayField(JSONField())
        )
    }


def serving_remember(model: RegisteredModel, source, *, limit: int = SERVING_LIMIT) -> None:
    """Keep on `model` for its page (registry_serving's tag) what `source`, a row
    annotated with serving_annotation, read."""
    rows = getattr(source, "serving_rows", None)
    if rows is not None:
        rows = [(*row[:7], parse_datetime(row[7]), row[8]) for row in rows]
        model.page_serving = _model_serving(rows, limit)


def _serving_rows(model: RegisteredModel, limit: int) -> list[tuple]:
    """(target name, environment, active, version number, label, state, endpoint URL,
    reported at, the Production version's number) for model_serving."""
    if connection.vendor == "postgresql":
        with fixed_cursor() as cursor:
            sql = _SERVING_SQL.format(row=_SERVING_COLUMNS, model="%s")
            params = _serving_params(limit)
            cursor.execute(sql, [params[0], model.pk, *params[1:]])
            return cursor.fetchall()
    production = ModelVersion.objects.filter(model=model, stage=Stage.PRODUCTION).values("number")
    return [
        (
            row.target.name,
            row.target.environment,
            row.target.active,
            row.version.number,
            row.version.label,
            row.state,
            row.endpoint_url,
            row.reported_at,
            row.production_number,
        )
        for row in Serving.objects.filter(model=model)
        .select_related("target", "version")
        .only(
            "state",
            "endpoint_url",
            "reported_at",
            "target__name",
            "target__environment",
            "target__active",
            "version__number",
            "version__label",
        )
        .annotate(
            production_number=Subquery(production[:1]),
            production_first=Case(
                When(target__environment=Environment.PRODUCTION, then=0), default=1
            ),
        )
        .order_by("production_first", "target__name")[: limit + 1]
    ]


def model_serving(model: RegisteredModel, *, limit: int = SERVING_LIMIT) -> ModelServing:
    """One query, whatever the number of targets or reports; none when the page read
    them with the model (serving_remember)."""
    serving = getattr(model, "page_serving", None)
    if serving is not None:
        return serving
    return _model_serving(_serving_rows(model, limit), limit)


def _model_serving(rows: list[tuple], limit: int) -> ModelServing:
    production_number = rows[0][8] if rows else None
    return ModelServing(
        rows=[
            ServingRow(
                target=target,
                environment=environment,
                target_active=active,
                version_number=number,
                version_label=label,
                state=state,
                endpoint_url=endpoint_url,
                reported_at=reported_at,
                drift=(
                    environment == Environment.PRODUCTION
                    and state == ServingState.SERVING
                    and number != production_number
                ),
            )
            for (
                target,
                environment,
                active,
                number,
                label,
                state,
                endpoint_url,
                reported_at,
                _,
            ) in rows[:limit]
        ],
        more=len(rows) > limit,
        production_number=production_number,
    )


def target_get(ref: str) -> DeploymentTarget:
    """A deployment target by name (any case) or, failing that, by id; or Http404."""
    target = DeploymentTarget.objects.filter(name__iexact=ref).first()
    if target is None and ref.isascii() and ref.isdigit() and len(ref) < 10:
        target = DeploymentTarget.objects.filter(pk=int(ref)).first()
    if target is None:
        raise Http404(f"No deployment target named {ref!r} (or with that id).")
    return target


def _aliases(model: RegisteredModel) -> QuerySet[ModelAlias]:
    return (
        ModelAlias.objects.filter(model=model)
        .select_related("version", "set_by")
        .only(
            "name",
            "model_id",
            "version__number",
            "version__label",
            "version__stage",
            "set_by__username",
            "created_at",
            "updated_at",
        )
        .order_by(Lower("name"))
    )


def model_aliases(model: RegisteredModel) -> list[ModelAlias]:
    """The model's aliases by name, each with its version and who set it (one query;
    none when model_get read them for the page)."""
    if hasattr(model, "page_alias_list"):
        return model.page_alias_list
    aliases = list(_aliases(model))
    for alias in aliases:
        alias.model = model
    return aliases


def alias_get(model: RegisteredModel, name: str) -> ModelAlias:
    """Alias `name` (any case) of `model` with its version, or Http404."""
    alias = _aliases(model).filter(name__lower=(name or "").lower()).first()
    if alias is None:
        raise Http404(f"{model.name} has no alias {name!r}.")
    alias.model = model
    return alias


def alias_resolve(model: RegisteredModel, name: str) -> ModelVersion:
    """The version that alias `name` (any case) of `model` points at, or Http404."""
    version = (
        ModelVersion.objects.filter(model=model, aliases__name__lower=(name or "").lower())
        .select_related("model")
        .first()
    )
    if version is None:
        raise Http404(f"{model.name} has no alias {name!r}.")
    return version
