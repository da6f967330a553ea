"""Which models match a query (full text and facet filters) and in what order."""

from django.contrib.postgres.search import SearchQuery
from django.db.models import QuerySet

from ..models import RegisteredModel
from .documents import SEARCH_CONFIG, is_postgres
from .query import SORT_COLUMNS, CatalogQuery


def text_filter(qs: QuerySet, q: str) -> QuerySet:
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


def facet_filter(qs: QuerySet, name: str, values: list[str]) -> QuerySet:
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


def filtered(query: CatalogQuery, *, skip: str | None = None, rows=None) -> QuerySet:
    qs = text_filter(RegisteredModel.objects.all() if rows is None else rows, query.q)
    for name, values in query.filters.items():
        if name != skip:
            qs = facet_filter(qs, name, values)
    return qs


def ordered(qs: QuerySet, query: CatalogQuery) -> QuerySet:
    """SQLite's order (PostgreSQL ranks in registry.search.bounded): "Best match" sorts
    by name there, as the README's table says."""
    return qs.order_by(SORT_COLUMNS.get(query.sort, "name"), "pk")
