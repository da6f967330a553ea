"""Reads shared by the dashboard and the API, with their query shapes decided once.

Query counts here are fixed: a catalog page, a model page and a version page issue the
same number of queries whatever the number of models, versions or metrics.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.paginator import Paginator
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404

from .choices import DataClassification, Framework, Stage
from .models import (
    Metric,
    ModelCard,
    ModelVersion,
    RegisteredModel,
    Tag,
    Team,
    VersionParent,
)
from .search import SEARCH_CONFIG, is_postgres

SORTS = {
    "relevance": "Best match",
    "name": "Name (A-Z)",
    "-name": "Name (Z-A)",
    "-updated": "Recently updated",
    "updated": "Least recently updated",
}
FACETS = ("team", "stage", "license", "classification", "framework", "tag")
MAX_PER_PAGE = 100
FACET_LIMIT = 25


@dataclass
class CatalogQuery:
    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 25

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
            page = max(1, int(params.get("page") or 1))
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


def _filtered(query: CatalogQuery, *, skip: str | None = None) -> QuerySet:
    qs = _text_filter(RegisteredModel.objects.all(), query.q)
    for name, values in query.filters.items():
        if name != skip:
            qs = _facet_filter(qs, name, values)
    return qs


def _facet_counts(query: CatalogQuery, name: str) -> list[FacetValue]:
    # Disjunctive facets: counts ignore the facet's own selection, so a user can widen it.
    qs = _filtered(query, skip=name if name != "tag" else None)
    selected = set(query.filters.get(name, []))
    if name == "tag":
        rows = (
            Tag.objects.filter(models__in=qs.values("pk"))
            .values("name")
            .annotate(n=Count("pk"))
            .order_by("-n", "name")[:FACET_LIMIT]
        )
        return [FacetValue(r["name"], r["name"], r["n"], r["name"] in selected) for r in rows]
    column, labels = {
        "team": ("team__slug", None),
        "stage": ("current_stage", dict(Stage.choices)),
        "license": ("license", None),
        "classification": ("data_classification", dict(DataClassification.choices)),
        "framework": ("latest_framework", dict(Framework.choices)),
    }[name]
    values = ["team__slug", "team__name"] if name == "team" else [column]
    rows = (
        qs.order_by().values(*values).annotate(n=Count("pk")).order_by("-n", column)[:FACET_LIMIT]
    )
    result = []
    for r in rows:
        value = r[column]
        if value in ("", None):
            continue
        label = r["team__name"] if name == "team" else (labels or {}).get(value, value)
        result.append(FacetValue(value, label, r["n"], value in selected))
    return result


def catalog_search(query: CatalogQuery) -> CatalogResult:
    """One page of the catalog with facet counts: 2 + len(FACETS) + 1 queries."""
    qs = _filtered(query).select_related("team")
    if query.sort == "relevance" and query.q and is_postgres():
        rank = SearchRank(
            F("search_vector"), SearchQuery(query.q, search_type="websearch", config=SEARCH_CONFIG)
        )
        qs = qs.annotate(rank=rank).order_by("-rank", "name")
    else:
        qs = qs.order_by(
            {
                "name": "name",
                "-name": "-name",
                "-updated": "-updated_at",
                "updated": "updated_at",
            }.get(query.sort, "name"),
            "pk",
        )
    qs = qs.defer("search_text", "search_vector").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name"))
    )
    paginator = Paginator(qs, query.per_page)
    page = paginator.get_page(query.page)
    facets = {name: _facet_counts(query, name) for name in FACETS}
    return CatalogResult(query=query, page=page, facets=facets)


def model_get(name: str) -> RegisteredModel:
    """A model by name (any case) with its team, owner and tags, or Http404."""
    model = (
        RegisteredModel.objects.select_related("team", "owner")
        .defer("search_text", "search_vector")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
        .filter(name__iexact=name)
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


def model_metric_series(model: RegisteredModel) -> dict[str, list[dict[str, Any]]]:
    """For the chart: {"metric@dataset": [{"version": n, "label": l, "value": v}, ...]}."""
    rows = (
        Metric.objects.filter(version__model=model)
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
    return series


def model_lineage(model: RegisteredModel) -> list[VersionParent]:
    """Every lineage edge touching the model's versions (inside and across models)."""
    return list(
        VersionParent.objects.filter(Q(child__model=model) | Q(parent__model=model))
        .select_related("child__model", "parent__model")
        .order_by("child__model__name", "child__number", "parent__number")
    )


def version_get(model: RegisteredModel, number: int) -> ModelVersion:
    """A version with everything its page shows, in a fixed number of queries."""
    version = (
        ModelVersion.objects.select_related("model__team", "created_by", "card__updated_by")
        .prefetch_related(
            "metrics",
            "data_versions",
            Prefetch(
                "parent_links",
                queryset=VersionParent.objects.select_related("parent__model").order_by(
                    "parent_id"
                ),
            ),
            Prefetch(
                "child_links",
                queryset=VersionParent.objects.select_related("child__model").order_by("child_id"),
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


def teams_for_user(user) -> QuerySet:
    if user.is_superuser:
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user)
