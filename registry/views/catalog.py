"""The catalog: full-text search, facets, sorting and pagination, all carried in the URL
so that a search can be shared by copying the address."""

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse

from ..permissions import can_edit_model, prefetch_edit_permissions
from ..search import (
    FACET_LIMIT,
    FACET_MAX,
    FACETS,
    SORTS,
    CatalogQuery,
    CatalogResult,
    FacetValue,
    catalog_search,
)
from ..templatetags.registry_tags import (
    CLASSIFICATION_LABELS,
    FRAMEWORK_LABELS,
    stage_badge,
    timestamp,
)

FACET_TITLES = {
    "team": "Team",
    "stage": "Stage",
    "license": "License",
    "classification": "Data classification",
    "framework": "Framework",
    "tag": "Tag",
}
FACET_PLURALS = {
    "team": "teams",
    "stage": "stages",
    "license": "licenses",
    "classification": "classifications",
    "framework": "frameworks",
    "tag": "tags",
}
# ?show_all=tag lists every tag (up to FACET_MAX) instead of the FACET_LIMIT most used.
SHOW_ALL = "show_all"


def _without(params, name: str, value: str | None = None) -> str:
    """The current query string minus one facet value (or the whole facet), from page 1."""
    params = params.copy()
    params.pop("page", None)
    if value is None:
        params.pop(name, None)
    else:
        params.setlist(name, [v for v in params.getlist(name) if v != value])
    return params.urlencode()


def _with_show_all(params, names) -> str:
    params = params.copy()
    params.pop("page", None)
    params.setlist(SHOW_ALL, list(names))
    return params.urlencode()


def _facet_groups(query: CatalogQuery, result: CatalogResult, params):
    groups = []
    for name in FACETS:
        values = result.facets.get(name, [])
        listed = len(values)
        total = max(result.facet_totals.get(name, listed), listed)
        expanded = name in query.show_all
        # Offered when the top values leave some out; when listing all, the page says
        # how many are still left out past FACET_MAX. Their links are built only then.
        expandable = not expanded and total > listed
        collapsible = expanded and total > FACET_LIMIT
        more = {
            "total": total,
            "plural": FACET_PLURALS[name],
            "expandable": expandable,
            "expand_query": (_with_show_all(params, [*query.show_all, name]) if expandable else ""),
            "collapsible": collapsible,
            "collapse_query": (
                _with_show_all(params, [f for f in query.show_all if f != name])
                if collapsible
                else ""
            ),
            "left_out": total - listed if expanded else 0,
            "top": FACET_LIMIT,
        }
        # A selected value with no hits left must stay visible, or resubmitting the
        # form would silently drop it.
        shown = {v.value for v in values}
        for missing in query.filters.get(name, []):
            if missing not in shown:
                values.append(FacetValue(missing, missing, 0, True))
        groups.append({"name": name, "title": FACET_TITLES[name], "values": values, **more})
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


def _rows(user, models) -> list[dict]:
    """What each result row shows, formatted here once: a page renders 25 of these, and
    each template tag and filter a row used cost more than its formatting (two URL
    reversals, truncatechars, three label look-ups per row)."""
    detail = reverse("registry:model_detail", args=["NAME"])
    edit = reverse("registry:model_edit", args=["NAME"])
    rows = []
    for m in models:
        path = quote(m.name, safe="")
        description = m.description
        rows.append(
            {
                "name": m.name,
                "url": detail.replace("NAME", path),
                "edit_url": edit.replace("NAME", path) if can_edit_model(user, m) else "",
                # As truncatechars:160 does: 159 characters and an ellipsis.
                "snippet": description if len(description) <= 160 else description[:159] + "…",
                "tags": m.tag_list,
                "team": m.team.name,
                "stage": stage_badge(m.current_stage),
                "framework": FRAMEWORK_LABELS.get(m.latest_framework, m.latest_framework) or "—",
                "license": m.license,
                "classification": CLASSIFICATION_LABELS.get(
                    m.data_classification, m.data_classification
                ),
                "updated": timestamp(m.updated_at, "date"),
            }
        )
    return rows


def _with(params, **changes) -> str:
    """The current query string with some parameters set (or, given None, removed)."""
    params = params.copy()
    for name, value in changes.items():
        params.pop(name, None)
        if value is not None:
            params[name] = value
    return params.urlencode()


def _page_range(result: CatalogResult):
    """Page links: all of them (elided) for an exact total; for an estimate, the pages
    up to the next one only, since the last page's number is itself an estimate."""
    page = result.page
    if result.total_is_exact:
        return page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    last = page.number + 1 if page.has_next() else page.number
    numbers = list(range(max(1, page.number - 2), last + 1))
    if numbers[0] > 1:
        numbers = [1, *([page.paginator.ELLIPSIS] if numbers[0] > 2 else []), *numbers]
    if page.has_next():
        numbers.append(page.paginator.ELLIPSIS)
    return numbers


@login_required
def catalog(request):
    query = CatalogQuery.from_params(request.GET)
    # Not part of from_params: the API's facets keep their fixed size.
    query.show_all = tuple(f for f in FACETS if f in request.GET.getlist(SHOW_ALL))
    result = catalog_search(query, viewer=request.user)
    models = list(result.page.object_list)
    prefetch_edit_permissions(request.user, models)
    rows = _rows(request.user, models)
    groups = _facet_groups(query, result, request.GET)
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
            "page_range": _page_range(result),
            "count_is_estimate": not result.total_is_exact,
            "exact_query": _with(request.GET, exact="1"),
            "first_page_query": _with(request.GET, page=None),
            "rows": rows,
            "facet_groups": groups,
            "active_filters": _active_filters(request, groups),
            "sorts": SORTS,
            "clear_filters_query": clear_filters.urlencode(),
            "is_first_run": result.total == 0 and not query.q and not query.filters,
            "facet_max": FACET_MAX,
        },
    )
