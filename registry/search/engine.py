"""The catalog search: one page of models with facet counts, in a fixed number of
queries whatever the size of the catalog."""

from django.core.paginator import Page, Paginator

from ..models import RegisteredModel
from .documents import HEAVY_MODEL_FIELDS, is_postgres
from .facet_cache import unfiltered_facets
from .facets import catalog_facets, facet_counts, facet_values, listed, totals
from .matching import filtered, ordered
from .one_pass import search_in_one_pass
from .query import CatalogQuery, CatalogResult


class _KnownCountPaginator(Paginator):
    """A paginator told the total, so it does not run its own COUNT(*)."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @property
    def count(self) -> int:
        return self._known_count


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
        shared, total, ids, tag_total = search_in_one_pass(query, offset)
        paginator = _KnownCountPaginator([], query.per_page, count=total)
        number = paginator.validate_number(query.page) if total else 1
        if number != query.page:  # past the last page: show the last one, as get_page does
            _, _, ids, _ = search_in_one_pass(query, (number - 1) * query.per_page)
        by_id = rows.in_bulk(ids)
        page = Page([by_id[i] for i in ids if i in by_id], number, paginator)
        counts = shared if query.q else facet_counts(query, shared, total)[0]
        facets = facet_values(query, counts)
        return CatalogResult(
            query=query,
            page=page,
            facets=listed(query, facets),
            facet_totals=totals(facets, tag_total),
        )

    if query.q or query.filters:
        facets, facet_totals, total = catalog_facets(query)
    else:
        facets, facet_totals, _ = unfiltered_facets(lambda: catalog_facets(query))
        # The total is always fresh: a stale one could hide the newest models' page.
        total = RegisteredModel.objects.count()
    qs = ordered(filtered(query, rows=rows), query)
    page = _KnownCountPaginator(qs, query.per_page, count=total).get_page(query.page)
    return CatalogResult(
        query=query, page=page, facets=listed(query, facets), facet_totals=facet_totals
    )
