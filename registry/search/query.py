"""What a catalog search asks for and what it answers: parameters, limits, results."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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
FACETS = ("team", "stage", "license", "classification", "framework", "tag")
MAX_PER_PAGE = 100
# Deeper pages than any catalog has; keeps the SQL offset far inside bigint.
MAX_PAGE = 100_000
# Results a search pages through (as Elasticsearch's max_result_window): a page past
# them is the last one within them. Deep offsets cost work that grows with the offset.
MAX_RESULTS = 10_000


@dataclass
class CatalogQuery:
    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 25
    # Facets listed in full (up to FACET_MAX values) instead of their top FACET_LIMIT.
    show_all: tuple[str, ...] = ()
    # Exact totals and facet counts whatever the number of matches ("count exactly").
    exact: bool = False
    # Where the estimates' sample window starts (tests); None: derived from the query.
    sample_start: int | None = None

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
        page = min(page, max(1, MAX_RESULTS // per_page))
        exact = (params.get("exact") or "").lower() in ("1", "true", "yes")
        return cls(q=q, filters=filters, sort=sort, page=page, per_page=per_page, exact=exact)


def rounded(n: int) -> int:
    """An estimate as a page shows it: two significant digits (15,512 -> 16,000)."""
    if n < 100:
        return n
    step = 10 ** (len(str(n)) - 2)
    return (n + step // 2) // step * step


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool
    # False when `count` is an estimate from a sample (rounded on pages).
    exact: bool = True


@dataclass
class CatalogResult:
    query: CatalogQuery
    page: Any  # django.core.paginator.Page of RegisteredModel
    facets: dict[str, list[FacetValue]]
    # How many distinct values each facet has among the matches (listed or not).
    facet_totals: dict[str, int] = field(default_factory=dict)
    # False when the total (and page count) is an estimate from a sample.
    total_is_exact: bool = True
    # False when any facet count is an estimate; per facet in `facet_exact`.
    facets_are_exact: bool = True
    facet_exact: dict[str, bool] = field(default_factory=dict)
    # Why exact counts were asked for and not given (the statement timeout).
    exact_error: str = ""

    @property
    def total(self) -> int:
        return self.page.paginator.count
