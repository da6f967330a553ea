"""The catalog: full-text search, facets, sorting and pagination, all carried in the URL
so that a search can be shared by copying the address."""

from dataclasses import replace

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from ..choices import Stage
from ..permissions import can_edit_model, prefetch_edit_permissions
from ..selectors import FACETS, SORTS, CatalogQuery, FacetValue, catalog_search

FACET_TITLES = {
    "team": "Team",
    "stage": "Stage",
    "license": "License",
    "classification": "Data classification",
    "framework": "Framework",
    "tag": "Tag",
}


def _without(params, name: str, value: str | None = None) -> str:
    """The current query string minus one facet value (or the whole facet), from page 1."""
    params = params.copy()
    params.pop("page", None)
    if value is None:
        params.pop(name, None)
    else:
        params.setlist(name, [v for v in params.getlist(name) if v != value])
    return params.urlencode()


def _facet_groups(query: CatalogQuery, facets: dict[str, list[FacetValue]]):
    groups = []
    for name in FACETS:
        values = [
            replace(v, label="Not staged") if name == "stage" and v.value == Stage.NONE else v
            for v in facets.get(name, [])
        ]
        # A selected value with no hits left must stay visible, or resubmitting the
        # form would silently drop it.
        shown = {v.value for v in values}
        for missing in query.filters.get(name, []):
            if missing not in shown:
                values.append(FacetValue(missing, missing, 0, True))
        groups.append({"name": name, "title": FACET_TITLES[name], "values": values})
    return groups


def _active_filters(request, groups) -> list[dict[str, str]]:
    return [
        {
            "title": group["title"],
            "label": value.label,
            "remove_query": _without(request.GET, group["name"], value.value),
        }
        for group in groups
        for value in group["values"]
        if value.selected
    ]


@login_required
def catalog(request):
    query = CatalogQuery.from_params(request.GET)
    result = catalog_search(query)
    models = list(result.page.object_list)
    prefetch_edit_permissions(request.user, models)
    rows = [(m, can_edit_model(request.user, m)) for m in models]
    groups = _facet_groups(query, result.facets)
    clear_filters = request.GET.copy()
    for name in (*FACETS, "page"):
        clear_filters.pop(name, None)
    return render(
        request,
        "registry/catalog.html",
        {
            "nav": "catalog",
            "query": query,
            "result": result,
            "page": result.page,
            "page_range": result.page.paginator.get_elided_page_range(
                result.page.number, on_each_side=2, on_ends=1
            ),
            "rows": rows,
            "facet_groups": groups,
            "active_filters": _active_filters(request, groups),
            "sorts": SORTS,
            "clear_filters_query": clear_filters.urlencode(),
            "is_first_run": result.total == 0 and not query.q and not query.filters,
        },
    )
