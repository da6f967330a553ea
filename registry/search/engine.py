"""The catalog search: one page of models with facet counts, in a fixed number of
queries and bounded work whatever the size of the catalog."""

import math
from dataclasses import replace

from django.conf import settings
from django.core.paginator import Page, Paginator

from ..fixed_sql import model_rows
from ..models import RegisteredModel
from ..permissions import grant_annotations, remember_grants
from .bounded import ExactCountTimeout, search_bounded
from .documents import HEAVY_MODEL_FIELDS, is_postgres
from .facets import catalog_facets, facet_values, listed, totals
from .matching import filtered, ordered
from .query import MAX_RESULTS, CatalogQuery, CatalogResult


class _KnownCountPaginator(Paginator):
    """A paginator told the total, so it does not run its own COUNT(*)."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @property
    def count(self) -> int:
        return self._known_count


class _BoundedPage(Page):
    """A page whose total may be an estimate: whether another page follows is known
    (one id more than a page was read), not derived from the total."""

    def __init__(self, object_list, number, paginator, *, has_next: bool):
        super().__init__(object_list, number, paginator)
        self._has_next = has_next

    def has_next(self) -> bool:
        return self._has_next

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


def _num_pages_within_window(total: int, per_page: int) -> int:
    return max(1, min(math.ceil(total / per_page), MAX_RESULTS // per_page))


class _BoundedPaginator(_KnownCountPaginator):
    @property
    def num_pages(self) -> int:
        return _num_pages_within_window(self.count, self.per_page)


def _page_models(ids: list[int], viewer) -> dict[int, RegisteredModel]:
    """The page's models by id, with their team and owner and, with `viewer`, the
    viewer's grants on each (remember_grants: the rows' permission checks then need no
    query): one fixed SQL text, run prepared."""
    if not ids:
        return {}
    table = RegisteredModel._meta.db_table
    extras = {}
    if viewer is not None:
        columns = {"model_column": f'"{table}"."id"', "team_column": f'"{table}"."team_id"'}
        extras = grant_annotations(viewer, **columns)
    models = model_rows(f"{table}.id = ANY(%s)", [ids], exclude=HEAVY_MODEL_FIELDS, extras=extras)
    for model in models:
        remember_grants(viewer, model)  # nothing without grants read
    return {model.pk: model for model in models}


def catalog_search(query: CatalogQuery, *, viewer=None) -> CatalogResult:
    """One page of the catalog with facet counts; rows carry their tags in `tag_list`.

    PostgreSQL: `bounded.search_bounded` (three statements at most, the work bounded
    whatever the number of matches; estimates beyond SEARCH_EXACT_LIMIT matches), then
    the page's rows by id (with `viewer`'s grants on them) and the facets' team names.
    SQLite (the embedded setup, a small catalog): exact counts and a sorted page
    through the ORM.
    """
    if is_postgres():
        exact_error = ""
        try:
            found = search_bounded(query)
        except ExactCountTimeout:
            exact_error = (
                f"Counting exactly took longer than {settings.SEARCH_EXACT_TIMEOUT_SECONDS} s"
                " and was stopped; the figures below are estimates. Narrow the search to"
                " count it exactly."
            )
            query = replace(query, exact=False)
            found = search_bounded(query)
        if not found.ids and query.page > 1 and found.total_is_exact:
            # Past the last page: show the last one, as get_page does.
            last = _num_pages_within_window(found.total, query.per_page)
            query = replace(query, page=min(query.page, last))
            found = search_bounded(query)
        paginator = _BoundedPaginator([], query.per_page, count=found.total)
        by_id = _page_models(found.ids, viewer)
        page = _BoundedPage(
            [by_id[i] for i in found.ids if i in by_id],
            query.page,
            paginator,
            has_next=found.has_next,
        )
        facets = facet_values(query, found.counts, found.teams)
        for facet, values in facets.items():
            for value in values:
                value.exact = found.facet_exact[facet]
        return CatalogResult(
            query=query,
            page=page,
            facets=listed(query, facets),
            facet_totals=totals(facets, found.tag_total),
            total_is_exact=found.total_is_exact,
            facets_are_exact=all(found.facet_exact.values()),
            facet_exact=found.facet_exact,
            exact_error=exact_error,
        )

    facets, facet_totals, total = catalog_facets(query)
    rows = RegisteredModel.objects.select_related("team", "owner").defer(*HEAVY_MODEL_FIELDS)
    qs = ordered(filtered(query, rows=rows), query)
    page = _BoundedPaginator(qs, query.per_page, count=total).get_page(query.page)
    return CatalogResult(
        query=query, page=page, facets=listed(query, facets), facet_totals=facet_totals
    )
