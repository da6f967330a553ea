"""The catalog search engine, behind one entry point.

Searching: `catalog_search(CatalogQuery)` returns a `CatalogResult` (one page of models,
facet values and counts; beyond SEARCH_EXACT_LIMIT matches the counts are estimates,
marked as such, and `rounded` gives the figure a page shows); the constants below are
the limits pages and the API validate against. Keeping the index current: services
call `search_refresh(model)` after changing what a model's search document is made of;
bulk loaders build it with
`search_document` and `refresh_vectors`. Reads that load models without searching
defer `HEAVY_MODEL_FIELDS`.

Code outside this package imports from here only; the modules inside are its own.
"""

from .documents import HEAVY_MODEL_FIELDS, refresh_vectors, search_document, search_refresh
from .engine import catalog_search
from .facets import FACET_LIMIT, FACET_MAX
from .query import (
    FACETS,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_RESULTS,
    SORTS,
    CatalogQuery,
    CatalogResult,
    FacetValue,
    rounded,
)

__all__ = [
    "FACETS",
    "FACET_LIMIT",
    "FACET_MAX",
    "HEAVY_MODEL_FIELDS",
    "MAX_PAGE",
    "MAX_PER_PAGE",
    "MAX_RESULTS",
    "SORTS",
    "CatalogQuery",
    "CatalogResult",
    "FacetValue",
    "catalog_search",
    "rounded",
    "refresh_vectors",
    "search_document",
    "search_refresh",
]
