"""A version's page, its artifact download, and the side-by-side comparison of two versions."""

import os

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render

from .. import compare, services
from ..models import ModelVersion
from ..permissions import can_download_artifacts, can_edit_model
from ..selectors import (
    card_for,
    card_sections,
    model_get,
    model_versions,
    version_get,
    version_read,
)

# Enough to pick from in a select; older versions can still be compared by URL.
COMPARE_CHOICES = 500


@login_required
def version_detail(request, name, number):
    version = version_read(name, number, viewer=request.user, page=True)
    model = version.model
    card = card_for(version)
    return render(
        request,
        "registry/version_detail.html",
        {
            "nav": "catalog",
            "model": model,
            "version": version,
            "card": card,
            "card_sections": card_sections(card, getattr(version, "card_people", None)),
            "can_edit": can_edit_model(request.user, model),
            "can_download": can_download_artifacts(request.user, model),
            "params": sorted(version.hyperparameters.items()),
        },
    )


@login_required
def artifact_download(request, name, number):
    version = version_read(name, number, viewer=request.user)
    model = version.model
    if not version.artifact:
        return render(
            request,
            "registry/artifact_unavailable.html",
            {"model": model, "version": version, "reason": "external"},
            status=404,
        )
    try:
        handle = services.artifact_download(actor=request.user, version=version, via="web")
    except FileNotFoundError:
        return render(
            request,
            "registry/artifact_unavailable.html",
            {"model": model, "version": version, "reason": "missing"},
            status=404,
        )
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=version.artifact_filename or os.path.basename(version.artifact.name),
    )
    response["X-Checksum-SHA256"] = version.artifact_sha256
    return response


def _pick(model, raw: str, which: str) -> tuple[ModelVersion | None, str]:
    """(version, error message) for the `a` or `b` parameter."""
    try:
        number = int(raw)
    except ValueError:
        return None, f"Version {which}: {raw!r} is not a version number."
    if not 1 <= number <= model.last_version_number:
        return None, f"Version {which}: {model.name} has no version {number}."
    try:
        return version_get(model, number), ""
    except Http404:
        return None, f"Version {which}: {model.name} has no version {number}."


@login_required
def version_compare(request, name):
    model = model_get(name)
    # A version left out is the one the picker shows selected (the newest two by
    # default), so the page compares what the user sees picked.
    raw_b = request.GET.get("b") or str(model.last_version_number)
    raw_a = request.GET.get("a") or str(_default_a(model, raw_b))
    a, error_a = _pick(model, raw_a, "A") if model.last_version_number else (None, "")
    b, error_b = _pick(model, raw_b, "B") if model.last_version_number else (None, "")
    errors = [e for e in (error_a, error_b) if e]
    only_one = model.last_version_number == 1 and not errors
    if a and b and a.pk == b.pk and not only_one:
        errors = ["Pick two different versions to compare."]
    choices = list(model_versions(model).values_list("number", "label")[:COMPARE_CHOICES])
    listed = {n for n, _ in choices}
    for extra in (a, b):
        if extra and extra.number not in listed:
            choices.append((extra.number, extra.label))
            listed.add(extra.number)
    context = {
        "nav": "catalog",
        "model": model,
        "choices": choices,
        "selected_a": a.number if a else None,
        "selected_b": b.number if b else None,
        "errors": errors,
        "only_one": only_one,
    }
    if a and b and not errors and not only_one:
        context.update(
            a=a,
            b=b,
            metadata_rows=compare.metadata_rows(a, b),
            param_rows=compare.param_rows(a, b),
            metric_rows=compare.metric_rows(a, b),
            card_diffs=compare.card_diffs(a, b),
        )
    # A value that names no version is bad input; the picker stays usable.
    status = 400 if error_a or error_b else 200
    return render(request, "registry/version_compare.html", context, status=status)


def _default_a(model, raw_b: str) -> int:
    """The version before B (or before the newest, when B is not a number)."""
    try:
        b = int(raw_b)
    except ValueError:
        b = model.last_version_number
    return max(min(b, model.last_version_number) - 1, 1)
