"""Reads shared by the dashboard and the API, with their query shapes decided once.

Query counts here are fixed: a catalog page, a model page and a version page issue the
same number of queries whatever the number of models, versions or metrics.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404
from django.utils.dateparse import parse_datetime

from .choices import (
    CARD_SECTION_NAMES,
    CARD_SECTIONS,
    DataClassification,
    Framework,
    SectionStatus,
    Stage,
)
from .models import (
    Metric,
    ModelCard,
    ModelVersion,
    RegisteredModel,
    Tag,
    Team,
    VersionParent,
)
from .names import name_key
from .search import SEARCH_CONFIG, is_postgres

SORTS = {
    "relevance": "Best match",
    "name": "Name (A-Z)",
    "-name": "Name (Z-A)",
    "-updated": "Recently updated",
    "updated": "Least recently updated",
}
SORT_COLUMNS = {
    "name": "name",
    "-name": "-name",
    "-updated": "-updated_at",
    "updated": "updated_at",
}
# The search document: large, and read by the catalog's SQL only, never by a page.
HEAVY_MODEL_FIELDS = ("search_text", "search_vector")
FACETS = ("team", "stage", "license", "classification", "framework", "tag")
MAX_PER_PAGE = 100
# Deeper pages than any catalog has; keeps the SQL offset far inside bigint.
MAX_PAGE = 100_000
# The landing page's facets scan every model; they are cached for a minute and dropped
# by this process's own writes (registry.search.catalog_changed).
UNFILTERED_FACETS_SECONDS = 60
UNFILTERED_FACETS_KEY = "catalog:unfiltered-facets:v2"  # v2: with distinct-value totals
# A facet lists its FACET_LIMIT most frequent values; "show all" (CatalogQuery.show_all)
# lists up to FACET_MAX, and the page says how many values it leaves out beyond that.
FACET_LIMIT = 25
FACET_MAX = 500


@dataclass
class CatalogQuery:
    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 25
    # Facets listed in full (up to FACET_MAX values) instead of their top FACET_LIMIT.
    show_all: tuple[str, ...] = ()

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "CatalogQuery":
        """Build from a QueryDict (or dict of lists); malformed values fall back to defaults."""
        getlist = params.getlist if hasattr(params, "getlist") else lambda k: params.get(k, [])
        q = (params.get("q") or "").strip()[:200]
        filters = {}
        for name in FACETS:
            values = [v for v in getlist(name) if v][:20]
            if values:
                filters[name] = values
        sort = params.get("sort") or ("relevance" if q else "name")
        if sort not in SORTS:
            sort = "relevance" if q else "name"
        try:
            page = min(MAX_PAGE, max(1, int(params.get("page") or 1)))
        except (TypeError, ValueError):
            page = 1
        try:
            per_page = min(MAX_PER_PAGE, max(1, int(params.get("per_page") or 25)))
        except (TypeError, ValueError):
            per_page = 25
        return cls(q=q, filters=filters, sort=sort, page=page, per_page=per_page)


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class CatalogResult:
    query: CatalogQuery
    page: Any  # django.core.paginator.Page of RegisteredModel
    facets: dict[str, list[FacetValue]]
    # How many distinct values each facet has among the matches (listed or not).
    facet_totals: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.page.paginator.count


def _text_filter(qs: QuerySet, q: str) -> QuerySet:
    if not q:
        return qs
    if is_postgres():
        return qs.filter(
            search_vector=SearchQuery(q, search_type="websearch", config=SEARCH_CONFIG)
        )
    # SQLite fallback: every word must appear somewhere in the search text.
    for word in q.split():
        qs = qs.filter(search_text__icontains=word.strip('"'))
    return qs


def _facet_filter(qs: QuerySet, name: str, values: list[str]) -> QuerySet:
    if name == "team":
        return qs.filter(team__slug__in=values)
    if name == "stage":
        return qs.filter(current_stage__in=values)
    if name == "license":
        return qs.filter(license__in=values)
    if name == "classification":
        return qs.filter(data_classification__in=values)
    if name == "framework":
        return qs.filter(latest_framework__in=values)
    if name == "tag":
        # A model must carry every selected tag.
        for tag in values:
            qs = qs.filter(tags__name=tag)
        return qs
    raise ValueError(name)


def _filtered(query: CatalogQuery, *, skip: str | None = None, rows=None) -> QuerySet:
    qs = _text_filter(RegisteredModel.objects.all() if rows is None else rows, query.q)
    for name, values in query.filters.items():
        if name != skip:
            qs = _facet_filter(qs, name, values)
    return qs


# facet -> (column on RegisteredModel, labels for its values)
SCALAR_FACETS = {
    "team": ("team_id", None),
    "stage": ("current_stage", dict(Stage.choices)),
    "license": ("license", None),
    "classification": ("data_classification", dict(DataClassification.choices)),
    "framework": ("latest_framework", dict(Framework.choices)),
}


def _grouping_sets(columns: list[str]) -> tuple[str, str]:
    """SQL for counting each column's values and the total in one scan:
    (select list: columns, their GROUPING() flags as `g`, COUNT(*) as `n`; the sets)."""
    flags = ", ".join(f"GROUPING({c})" for c in columns) or "0"
    select = ", ".join([*columns, f"ARRAY[{flags}] AS g", "COUNT(*) AS n"])
    return select, ", ".join([f"({c})" for c in columns] + ["()"])


def _read_grouping_sets(facets: list[str], rows) -> tuple[dict[str, dict], int]:
    """(values..., flags, n) rows of _grouping_sets -> ({facet: {value: n}}, total)."""
    counts: dict[str, dict] = {f: {} for f in facets}
    total = 0
    for *values, flags, n in rows:
        grouped = [i for i, flag in enumerate(flags) if flag == 0] if facets else []
        if grouped:
            counts[facets[grouped[0]]][values[grouped[0]]] = n
        else:
            total = n
    return counts, total


def _grouped_counts(qs: QuerySet, facets: list[str]) -> tuple[dict[str, dict], int]:
    """Counts per value of each scalar facet over `qs`, plus the total.

    On PostgreSQL this is one scan with GROUPING SETS; elsewhere one query per facet.
    """
    columns = [SCALAR_FACETS[f][0] for f in facets]
    if is_postgres():
        inner, params = qs.order_by().values(*columns or ["pk"]).query.sql_with_params()
        select, sets = _grouping_sets(columns)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {select} FROM ({inner}) AS m GROUP BY GROUPING SETS ({sets})", params
            )
            return _read_grouping_sets(facets, cursor.fetchall())
    counts: dict[str, dict] = {}
    for facet, column in zip(facets, columns, strict=True):
        rows = qs.order_by().values(column).annotate(n=Count("pk"))
        counts[facet] = {r[column]: r["n"] for r in rows}
    return counts, qs.count()


def _tag_counts(qs: QuerySet, limit: int) -> tuple[dict[str, int], int]:
    """The `limit` most frequent tags of `qs` with their counts, and the number of
    distinct tags."""
    if is_postgres():
        inner, params = qs.order_by().values("tag_list").query.sql_with_params()
        sql = f"""
            WITH tg AS (SELECT tag, COUNT(*) AS n FROM ({inner}) AS m,
                        jsonb_array_elements_text(m.tag_list) AS tag GROUP BY tag)
            SELECT (SELECT json_agg(t) FROM (SELECT * FROM tg ORDER BY n DESC, tag LIMIT %s) t),
                   (SELECT COUNT(*) FROM tg)
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, limit])
            rows, total = cursor.fetchone()
        return {r["tag"]: r["n"] for r in rows or []}, total
    tags = Tag.objects.filter(models__in=qs.values("pk"))
    rows = tags.values("name").annotate(n=Count("pk")).order_by("-n", "name")[:limit]
    return {r["name"]: r["n"] for r in rows}, tags.values("name").distinct().count()


def _facet_counts(query: CatalogQuery, shared: dict[str, dict], total: int):
    """Add the counts of the facets that have a selection to `shared` (one query each).

    Scalar facets are disjunctive: a facet's counts ignore its own selection, so a user
    can widen it. Tags are conjunctive (a model must carry every selected tag), so their
    counts use every filter and come with the shared counts.
    """
    counts = dict(shared)
    for facet in SCALAR_FACETS:
        if facet in query.filters:
            own, _ = _grouped_counts(_filtered(query, skip=facet), [facet])
            counts.update(own)
    return counts, total


def _facet_values(query: CatalogQuery, counts: dict[str, dict]) -> dict[str, list[FacetValue]]:
    """Counts turned into labelled, sorted facet values (one query for team names), at
    most FACET_MAX per facet."""
    team_ids = list(counts["team"])
    teams = {t.pk: t for t in Team.objects.filter(pk__in=team_ids)} if team_ids else {}
    result: dict[str, list[FacetValue]] = {}
    for facet in FACETS:
        selected = set(query.filters.get(facet, []))
        labels = SCALAR_FACETS[facet][1] if facet in SCALAR_FACETS else None
        values = []
        for value, n in counts[facet].items():
            if value in ("", None):
                continue
            if facet == "team":
                team = teams.get(value)
                if team is None:
                    continue
                value, label = team.slug, team.name
            else:
                label = (labels or {}).get(value, value)
            values.append(FacetValue(value, label, n, value in selected))
        values.sort(key=lambda v: (-v.count, v.label.lower()))
        result[facet] = values[:FACET_MAX]
    return result


def _totals(facets: dict[str, list[FacetValue]], tag_total: int) -> dict[str, int]:
    """Each facet's number of distinct values: the tags', counted in SQL, and the scalar
    facets' (all of whose values are counted)."""
    return {f: tag_total if f == "tag" else len(values) for f, values in facets.items()}


def _listed(query: CatalogQuery, facets: dict[str, list[FacetValue]]):
    """The values a page lists: each facet's top FACET_LIMIT, or up to FACET_MAX when
    the query asks to show all of it."""
    return {
        f: values if f in query.show_all else values[:FACET_LIMIT] for f, values in facets.items()
    }


def _facets(query: CatalogQuery) -> tuple[dict[str, list[FacetValue]], dict[str, int], int]:
    """Facet values (up to FACET_MAX each), each facet's number of distinct values, and
    the number of matching models; a query per kind of count."""
    all_filters = _filtered(query)
    shared, total = _grouped_counts(
        all_filters, [f for f in SCALAR_FACETS if f not in query.filters]
    )
    shared["tag"], tag_total = _tag_counts(all_filters, FACET_MAX)
    counts, total = _facet_counts(query, shared, total)
    facets = _facet_values(query, counts)
    return facets, _totals(facets, tag_total), total


class _KnownCountPaginator(Paginator):
    """A paginator told the total, so it does not run its own COUNT(*)."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @property
    def count(self) -> int:
        return self._known_count


def _ordered(qs: QuerySet, query: CatalogQuery) -> QuerySet:
    if query.sort == "relevance" and query.q and is_postgres():
        return qs.annotate(rank=_rank(query.q)).order_by("-rank", "name", "pk")
    return qs.order_by(SORT_COLUMNS.get(query.sort, "name"), "pk")


def _rank(q: str) -> SearchRank:
    return SearchRank(
        F("search_vector"), SearchQuery(q, search_type="websearch", config=SEARCH_CONFIG)
    )


def _scalar_condition(facet: str) -> str:
    """SQL keeping the single pass's rows (CTE `m`) that carry one of a facet's selected
    values (given as one array parameter)."""
    if facet == "team":
        return "m.team_id IN (SELECT id FROM registry_team WHERE slug = ANY(%s))"
    return f"m.{SCALAR_FACETS[facet][0]} = ANY(%s)"


def _scalar_filters(query: CatalogQuery, *, skip: str | None = None) -> tuple[str, list]:
    """A WHERE clause over the single pass's rows for the selected scalar facets."""
    facets = [f for f in SCALAR_FACETS if f in query.filters and f != skip]
    if not facets:
        return "TRUE", []
    return " AND ".join(_scalar_condition(f) for f in facets), [query.filters[f] for f in facets]


def _search_in_one_pass(
    query: CatalogQuery, offset: int
) -> tuple[dict[str, dict], int, list[int], int]:
    """PostgreSQL: one statement reads the text and tag matches once (a materialised
    CTE) and from them gives the facet counts, the total, the ids of one page, and the
    tag counts with the number of distinct tags.

    With a text query, the selected scalar facets are applied to those rows, not to
    the table, so a disjunctive facet's own counts (every other filter, not its own)
    come from the same rows instead of another full-text pass: "recommendations"
    matches ~15,000 of 100k models, and each pass re-reads them. Without one, the
    filters go to the table's indexes and the caller counts the selected facets.
    """
    shared = [f for f in SCALAR_FACETS if f not in query.filters]
    selected = [f for f in SCALAR_FACETS if f in query.filters] if query.q else []
    columns = [SCALAR_FACETS[f][0] for f in shared]
    if query.q:
        matches = _text_filter(RegisteredModel.objects.all(), query.q)
        if "tag" in query.filters:
            matches = _facet_filter(matches, "tag", query.filters["tag"])
    else:
        matches = _filtered(query)
    base = matches.order_by().values(
        "id", "name", "updated_at", "tag_list", *(c for c, _ in SCALAR_FACETS.values())
    )
    order = "name, id"
    if query.sort == "relevance" and query.q:
        base = base.annotate(rank=_rank(query.q))
        order = "rank DESC, name, id"
    elif query.sort in SORT_COLUMNS:
        column = SORT_COLUMNS[query.sort]
        order = f"{column.lstrip('-')}{' DESC' if column.startswith('-') else ''}, id"
    inner, params = base.query.sql_with_params()
    params = list(params)
    where, where_params = _scalar_filters(query) if query.q else ("TRUE", [])
    # The rows that pass every filter: a copy of m only when scalar filters remove some.
    hits = (
        f"MATERIALIZED (SELECT * FROM m WHERE {where})"
        if where_params
        else "NOT MATERIALIZED (SELECT * FROM m)"
    )
    select, sets = _grouping_sets(columns)
    # Each selected facet's own counts, under every other filter.
    own_parts, own_params = [], []
    for facet in selected:
        others, others_params = _scalar_filters(query, skip=facet)
        column = SCALAR_FACETS[facet][0]
        own_parts.append(
            f"SELECT %s AS facet, {column}::text AS value, COUNT(*) AS n FROM m"
            f" WHERE {others} GROUP BY {column}"
        )
        own_params += [facet, *others_params]
    own_sql = " UNION ALL ".join(own_parts) or "SELECT NULL AS facet, NULL, 0 AS n WHERE FALSE"
    sql = f"""
        WITH m AS MATERIALIZED ({inner}),
        h AS {hits},
        f AS (SELECT {select} FROM h GROUP BY GROUPING SETS ({sets})),
        tg AS (SELECT tag, COUNT(*) AS n FROM h, jsonb_array_elements_text(h.tag_list) AS tag
               GROUP BY tag),
        t AS (SELECT * FROM tg ORDER BY n DESC, tag LIMIT %s),
        p AS (SELECT id FROM h ORDER BY {order} LIMIT %s OFFSET %s),
        o AS ({own_sql})
        SELECT (SELECT json_agg(f) FROM f), (SELECT json_agg(t) FROM t),
               (SELECT json_agg(p.id) FROM p), (SELECT json_agg(o) FROM o),
               (SELECT COUNT(*) FROM tg)
    """
    tag_limit = FACET_MAX if "tag" in query.show_all else FACET_LIMIT
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [*params, *where_params, tag_limit, query.per_page, offset, *own_params]
        )
        facet_rows, tag_rows, ids, own_rows, tag_total = cursor.fetchone()
    rows = [(*(r[c] for c in columns), r["g"], r["n"]) for r in facet_rows or []]
    counts, total = _read_grouping_sets(shared, rows)
    counts["tag"] = {r["tag"]: r["n"] for r in tag_rows or []}
    for facet in selected:
        counts[facet] = {}
    for r in own_rows or []:
        value = int(r["value"]) if r["facet"] == "team" else r["value"]
        counts[r["facet"]][value] = r["n"]
    return counts, total, ids or [], tag_total


def catalog_search(query: CatalogQuery) -> CatalogResult:
    """One page of the catalog with facet counts; rows carry their tags in `tag_list`.

    PostgreSQL with a query or filters: one pass over the matches (facets, total, tags,
    page ids), the page's rows by id and team names; without a text query, one more
    query per selected scalar facet. The unfiltered catalog's facets (the landing
    page, a scan of every model) are cached for UNFILTERED_FACETS_SECONDS; its page
    walks the (name, id) index.
    """
    rows = RegisteredModel.objects.select_related("team", "owner").defer(*HEAVY_MODEL_FIELDS)
    if is_postgres() and (query.q or query.filters):
        offset = (query.page - 1) * query.per_page
        shared, total, ids, tag_total = _search_in_one_pass(query, offset)
        paginator = _KnownCountPaginator([], query.per_page, count=total)
        number = paginator.validate_number(query.page) if total else 1
        if number != query.page:  # past the last page: show the last one, as get_page does
            _, _, ids, _ = _search_in_one_pass(query, (number - 1) * query.per_page)
        by_id = rows.in_bulk(ids)
        page = Page([by_id[i] for i in ids if i in by_id], number, paginator)
        counts = shared if query.q else _facet_counts(query, shared, total)[0]
        facets = _facet_values(query, counts)
        return CatalogResult(
            query=query,
            page=page,
            facets=_listed(query, facets),
            facet_totals=_totals(facets, tag_total),
        )

    if query.q or query.filters:
        facets, totals, total = _facets(query)
    else:
        facets, totals, _ = cache.get_or_set(
            UNFILTERED_FACETS_KEY, lambda: _facets(query), UNFILTERED_FACETS_SECONDS
        )
        # The total is always fresh: a stale one could hide the newest models' page.
        total = RegisteredModel.objects.count()
    qs = _ordered(_filtered(query, rows=rows), query)
    page = _KnownCountPaginator(qs, query.per_page, count=total).get_page(query.page)
    return CatalogResult(query=query, page=page, facets=_listed(query, facets), facet_totals=totals)


def model_named_like(name: str, *, exclude_pk: int | None = None) -> RegisteredModel | None:
    """The model whose name `name` near-duplicates (registry.names), if any."""
    key = name_key(name)
    if not key:
        return None
    rows = RegisteredModel.objects.filter(name_key=key)
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return rows.only("pk", "name").first()


def model_get(name: str) -> RegisteredModel:
    """A model by name (any case) with its team and owner, or Http404."""
    # Pages show model.tag_list (kept in step with the tags by the services), so the
    # tags table is not read here.
    model = (
        RegisteredModel.objects.select_related("team", "owner")
        .defer(*HEAVY_MODEL_FIELDS)
        .filter(name__lower=name.lower())
        .first()
    )
    if model is None:
        raise Http404(f"No model named {name!r}.")
    return model


def model_versions(model: RegisteredModel) -> QuerySet:
    """The model's versions, newest first, with what the versions table shows."""
    return (
        ModelVersion.objects.filter(model=model)
        .select_related("created_by", "card")
        .order_by("-number")
    )


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
    in_range = Metric.objects.filter(
        version__model=model, version__number__gt=model.last_version_number - last_versions
    )
    newest = in_range.order_by("-version__number").values("version_id")[:1]
    first = Metric.objects.filter(version_id=Subquery(newest)).order_by("name", "dataset")
    charted = first.values("pk")[:max_series]
    rows = (
        # The names let the (version, name, dataset) index find the rows; the pairs decide.
        in_range.filter(
            Exists(
                Metric.objects.filter(
                    pk__in=charted, name=OuterRef("name"), dataset=OuterRef("dataset")
                )
            ),
            name__in=first.values("name")[:max_series],
        )
        .order_by("name", "dataset", "version__number")
        .values("name", "dataset", "value", "higher_is_better", "version__number", "version__label")
    )
    series: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        key = f"{r['name']} ({r['dataset']})" if r["dataset"] else r["name"]
        series.setdefault(key, []).append(
            {
                "version": r["version__number"],
                "label": r["version__label"],
                "value": r["value"],
                "higher_is_better": r["higher_is_better"],
            }
        )
    # Every charted metric is one of the newest version's: only a full set may hide more.
    available = len(series)
    if available == max_series:
        available = Metric.objects.filter(version_id=Subquery(newest)).count()
    return series, available


def model_lineage(model: RegisteredModel, *, limit: int = 100) -> list[VersionParent]:
    """The `limit` newest lineage edges touching the model's versions, inside the model
    and across models."""
    # One index range scan per side (links store both models); an OR across joins to
    # the versions made PostgreSQL walk all 283k links of the bench catalog (~1 s).
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


def card_sections(card: ModelCard) -> list[CardSection]:
    """Every section of the card in display order, with its provenance (one query for
    the people named)."""
    states = {name: card.section_state(name) for name in CARD_SECTION_NAMES}
    ids = {s[k] for s in states.values() for k in ("edited_by", "confirmed_by") if s[k]}
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
