"""Facet counts: how many matches carry each team, stage, license, classification,
framework and tag, turned into the labelled values a page lists."""

from django.db.models import Count, QuerySet

from ..choices import DataClassification, Framework
from ..models import Tag, Team
from ..stages import Stage
from .matching import filtered
from .query import FACETS, CatalogQuery, FacetValue

# A facet lists its FACET_LIMIT most frequent values; "show all" (CatalogQuery.show_all)
# lists up to FACET_MAX, and the page says how many values it leaves out beyond that.
FACET_LIMIT = 25
FACET_MAX = 500

# facet -> (column on RegisteredModel, labels for its values)
SCALAR_FACETS = {
    "team": ("team_id", None),
    "stage": ("current_stage", dict(Stage.choices)),
    "license": ("license", None),
    "classification": ("data_classification", dict(DataClassification.choices)),
    "framework": ("latest_framework", dict(Framework.choices)),
}


def tag_limit(query: CatalogQuery) -> int:
    """How many tags the single pass counts for a page."""
    return FACET_MAX if "tag" in query.show_all else FACET_LIMIT


def grouping_sets(columns: list[str]) -> tuple[str, str]:
    """SQL for counting each column's values and the total in one scan:
    (select list: columns, their GROUPING() flags as `g`, COUNT(*) as `n`; the sets)."""
    flags = ", ".join(f"GROUPING({c})" for c in columns) or "0"
    select = ", ".join([*columns, f"ARRAY[{flags}] AS g", "COUNT(*) AS n"])
    return select, ", ".join([f"({c})" for c in columns] + ["()"])


def read_grouping_sets(facets: list[str], rows) -> tuple[dict[str, dict], int]:
    """(values..., flags, n) rows of grouping_sets -> ({facet: {value: n}}, total)."""
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
    """Counts per value of each scalar facet over `qs`, plus the total (SQLite: the
    embedded catalog is small; PostgreSQL counts in registry.search.bounded)."""
    counts: dict[str, dict] = {}
    for facet in facets:
        column = SCALAR_FACETS[facet][0]
        rows = qs.order_by().values(column).annotate(n=Count("pk"))
        counts[facet] = {r[column]: r["n"] for r in rows}
    return counts, qs.count()


def _tag_counts(qs: QuerySet, limit: int) -> tuple[dict[str, int], int]:
    """The `limit` most frequent tags of `qs` with their counts, and the number of
    distinct tags."""
    tags = Tag.objects.filter(models__in=qs.values("pk"))
    rows = tags.values("name").annotate(n=Count("pk")).order_by("-n", "name")[:limit]
    return {r["name"]: r["n"] for r in rows}, tags.values("name").distinct().count()


def facet_counts(query: CatalogQuery, shared: dict[str, dict], total: int):
    """Add the counts of the facets that have a selection to `shared` (one query each).

    Scalar facets are disjunctive: a facet's counts ignore its own selection, so a user
    can widen it. Tags are conjunctive (a model must carry every selected tag), so their
    counts use every filter and come with the shared counts.
    """
    counts = dict(shared)
    for facet in SCALAR_FACETS:
        if facet in query.filters:
            own, _ = _grouped_counts(filtered(query, skip=facet), [facet])
            counts.update(own)
    return counts, total


def facet_values(
    query: CatalogQuery, counts: dict[str, dict], teams: dict[int, tuple[str, str]] | None = None
) -> dict[str, list[FacetValue]]:
    """Counts turned into labelled, sorted facet values, at most FACET_MAX per facet.
    `teams` ({id: (slug, name)}) names the counted teams; without it, one query does."""
    if teams is None:
        team_ids = list(counts["team"])
        rows = Team.objects.filter(pk__in=team_ids).values_list("pk", "slug", "name")
        teams = {pk: (slug, name) for pk, slug, name in rows} if team_ids else {}
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
                value, label = team
            else:
                label = (labels or {}).get(value, value)
            values.append(FacetValue(value, label, n, value in selected))
        values.sort(key=lambda v: (-v.count, v.label.lower()))
        result[facet] = values[:FACET_MAX]
    return result


def totals(facets: dict[str, list[FacetValue]], tag_total: int) -> dict[str, int]:
    """Each facet's number of distinct values: the tags', counted in SQL, and the scalar
    facets' (all of whose values are counted)."""
    return {f: tag_total if f == "tag" else len(values) for f, values in facets.items()}


def listed(query: CatalogQuery, facets: dict[str, list[FacetValue]]):
    """The values a page lists: each facet's top FACET_LIMIT, or up to FACET_MAX when
    the query asks to show all of it."""
    return {
        f: values if f in query.show_all else values[:FACET_LIMIT] for f, values in facets.items()
    }


def catalog_facets(
    query: CatalogQuery,
) -> tuple[dict[str, list[FacetValue]], dict[str, int], int]:
    """Facet values (up to FACET_MAX each), each facet's number of distinct values, and
    the number of matching models; a query per kind of count."""
    all_filters = filtered(query)
    shared, total = _grouped_counts(
        all_filters, [f for f in SCALAR_FACETS if f not in query.filters]
    )
    shared["tag"], tag_total = _tag_counts(all_filters, FACET_MAX)
    counts, total = facet_counts(query, shared, total)
    facets = facet_values(query, counts)
    return facets, totals(facets, tag_total), total
