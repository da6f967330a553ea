"""A registered model's page, and the forms that register it and edit its metadata."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render

from audit.selectors import events_for_model

from .. import services
from ..choices import LineageRelation
from ..errors import Conflict
from ..forms import ModelMetadataForm, model_initial
from ..links import version_url
from ..models import ModelVersion, RegisteredModel, VersionParent, completeness_percent
from ..permissions import can_edit_model, require_edit_model
from ..selectors import (
    model_aliases,
    model_get,
    model_lineage,
    model_metric_series,
    versions_table,
)
from ..stages import Stage

VERSIONS_PER_PAGE = 25  # as the catalog
# The page must stay fast for a model with 10,000 versions: charts and lineage show
# only the most recent part of the history, and the page says so.
CHART_VERSIONS = 200
CHART_SERIES = 24  # charts of the newest version's first metrics; its page lists them all
LINEAGE_LIMIT = 25  # the newest links; each version page lists all of its own


def _versions_page(model: RegisteredModel, page_number) -> tuple[Any, list, ModelVersion | None]:
    """One page of the versions table, newest first, and the production version, in one
    query. Version numbers run 1..last_version_number without gaps (versions are never
    deleted), so pages are ranges of numbers and need no COUNT."""
    paginator = Paginator(range(model.last_version_number, 0, -1), VERSIONS_PER_PAGE)
    page = paginator.get_page(page_number)
    numbers = page.object_list
    if not numbers:
        return page, [], None
    # The card's completeness is counted in SQL (not 25 cards' texts loaded to count them).
    rows = versions_table(model, numbers[-1], numbers[0])
    for version in rows:
        filled = version.card_filled_sections
        version.card_completeness = None if filled is None else completeness_percent(filled)
    versions = [v for v in rows if numbers[-1] <= v.number <= numbers[0]]
    production = next((v for v in rows if v.stage == Stage.PRODUCTION), None)
    return page, versions, production


# "fine-tuned from": get_relation_display() rebuilds the choices' list on every call.
RELATION_TEXT = {value: str(label).lower() for value, label in LineageRelation.choices}


def _lineage_groups(model: RegisteredModel, edges: list[VersionParent]) -> dict[str, list]:
    groups: dict[str, list] = {"from_other_models": [], "used_by_other_models": [], "within": []}
    for edge in edges:
        edge.relation_text = RELATION_TEXT.get(edge.relation, edge.relation)
        edge.child_url = version_url(edge.child.model.name, edge.child.number)
        edge.parent_url = version_url(edge.parent.model.name, edge.parent.number)
        child_here = edge.child.model_id == model.pk
        parent_here = edge.parent.model_id == model.pk
        if child_here and parent_here:
            groups["within"].append(edge)
        elif child_here:
            groups["from_other_models"].append(edge)
        else:
            groups["used_by_other_models"].append(edge)
    return groups


# Registering a model used to live at models/new/. Until a model is named "new", that
# bookmark still leads to the form.
OLD_CREATE_NAME = "new"


@login_required
def model_detail(request, name):
    try:
        model = model_get(name, viewer=request.user, page=True)
    except Http404:
        if name.lower() == OLD_CREATE_NAME:
            return redirect("registry:model_create")
        raise
    page, versions, production = _versions_page(model, request.GET.get("page"))
    series, metrics_available = model_metric_series(
        model, last_versions=CHART_VERSIONS, max_series=CHART_SERIES
    )
    lineage = model_lineage(model, limit=LINEAGE_LIMIT)
    aliases = model_aliases(model)  # all of them, also those of versions on other pages
    for v in versions:
        v.alias_names = [a.name for a in aliases if a.version_id == v.pk]
    return render(
        request,
        "registry/model_detail.html",
        {
            "nav": "catalog",
            "model": model,
            "can_edit": can_edit_model(request.user, model),
            "production": production,
            "versions": versions,
            "page": page,
            "page_range": page.paginator.get_elided_page_range(
                page.number, on_each_side=2, on_ends=1
            ),
            "metric_series": sorted(series.items()),
            "charts_truncated": model.last_version_number > CHART_VERSIONS,
            "chart_versions": CHART_VERSIONS,
            "metrics_available": metrics_available,
            "series_truncated": metrics_available > len(series),
            "lineage": _lineage_groups(model, lineage),
            "lineage_count": len(lineage),
            "lineage_truncated": len(lineage) >= LINEAGE_LIMIT,
            "history_events": events_for_model(model, rows=getattr(model, "page_events", None)),
            "aliases": aliases,
            "protected_aliases": sorted(services.aliases_protected()),
        },
    )


@login_required
def model_create(request):
    form = ModelMetadataForm(
        request.POST or None, user=request.user, initial={"owner": request.user.pk}
    )
    if request.method == "POST" and form.is_valid():
        try:
            model = services.model_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_error(exc)
        except Conflict as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, f"Registered {model.name}. Register its first version next.")
            return redirect("registry:model_detail", name=model.name)
    return render(
        request,
        "registry/model_form.html",
        {"nav": "new", "form": form, "creating": True, "has_teams": bool(form.offered_teams)},
    )


@login_required
def model_edit(request, name):
    model = model_get(name)
    require_edit_model(request.user, model)
    form = ModelMetadataForm(
        request.POST or None,
        user=request.user,
        model=model,
        initial=model_initial(model),
    )
    if request.method == "POST" and form.is_valid():
        try:
            model = services.model_update(actor=request.user, model=model, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_error(exc)
        except Conflict as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, f"Saved the metadata of {model.name}.")
            return redirect("registry:model_detail", name=model.name)
    return render(
        request,
        "registry/model_form.html",
        {"nav": "catalog", "form": form, "model": model, "creating": False, "has_teams": True},
    )
