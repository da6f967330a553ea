"""A version's page, its artifact download, and the side-by-side comparison of two versions."""

import difflib
import os
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat

from .. import services
from ..choices import CARD_SECTIONS
from ..models import ModelVersion
from ..permissions import can_download_artifacts, can_edit_model
from ..selectors import card_for, card_sections, model_get, model_versions, version_get
from ..stages import STAGE_LABELS
from ..templatetags.registry_tags import FRAMEWORK_LABELS

# Enough to pick from in a select; older versions can still be compared by URL.
COMPARE_CHOICES = 500


@login_required
def version_detail(request, name, number):
    model = model_get(name)
    version = version_get(model, number)
    card = card_for(version)
    return render(
        request,
        "registry/version_detail.html",
        {
            "nav": "catalog",
            "model": model,
            "version": version,
            "card": card,
            "card_sections": card_sections(card),
            "can_edit": can_edit_model(request.user, model),
            "can_download": can_download_artifacts(request.user, model),
            "params": sorted(version.hyperparameters.items()),
        },
    )


@login_required
def artifact_download(request, name, number):
    model = model_get(name)
    version = version_get(model, number)
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


def _metadata_rows(a: ModelVersion, b: ModelVersion) -> list[dict[str, Any]]:
    def describe(v: ModelVersion) -> dict[str, str]:
        return {
            "Label": v.label,
            "Stage": STAGE_LABELS.get(v.stage, v.stage),
            "Framework": FRAMEWORK_LABELS.get(v.framework, v.framework)
            + (f" ({v.flavor})" if v.flavor else ""),
            "Artifact": v.artifact_uri or v.artifact_filename or "—",
            "Artifact SHA-256": v.artifact_sha256 or "—",
            "Artifact size": filesizeformat(v.artifact_size) if v.artifact_size else "—",
            "Code repository": v.code_repository or "—",
            "Commit": v.code_commit or "—",
            "Training run": " ".join(x for x in (v.run_system, v.run_id) if x) or "—",
            "Data versions": ", ".join(
                f"{d.dataset} @ {d.version_or_uri}" for d in v.data_versions.all()
            )
            or "—",
            "Card completeness": f"{card_for(v).completeness}%",
            "Registered by": v.created_by.get_username(),
        }

    left, right = describe(a), describe(b)
    return [{"field": f, "a": left[f], "b": right[f], "changed": left[f] != right[f]} for f in left]


_MISSING = object()


def _param_rows(a: ModelVersion, b: ModelVersion) -> list[dict[str, Any]]:
    rows = []
    for key in sorted(a.hyperparameters.keys() | b.hyperparameters.keys()):
        va = a.hyperparameters.get(key, _MISSING)
        vb = b.hyperparameters.get(key, _MISSING)
        rows.append(
            {
                "name": key,
                "a": va,
                "b": vb,
                "a_missing": va is _MISSING,
                "b_missing": vb is _MISSING,
                "changed": va != vb,
            }
        )
    return rows


def _metric_rows(a: ModelVersion, b: ModelVersion) -> list[dict[str, Any]]:
    left = {(m.name, m.dataset): m for m in a.metrics.all()}
    right = {(m.name, m.dataset): m for m in b.metrics.all()}
    rows = []
    for key in sorted(left.keys() | right.keys()):
        ma, mb = left.get(key), right.get(key)
        higher_is_better = (mb or ma).higher_is_better
        delta = mb.value - ma.value if ma and mb else None
        if not delta:
            verdict = ""
        else:
            verdict = "good" if (delta > 0) == higher_is_better else "bad"
        rows.append(
            {
                "name": key[0],
                "dataset": key[1],
                "a": ma.value if ma else None,
                "b": mb.value if mb else None,
                "delta": delta,
                "verdict": verdict,
                "higher_is_better": higher_is_better,
            }
        )
    return rows


def _line_diff(old: str, new: str) -> list[tuple[str, str]]:
    """(kind, line) pairs, kind in same/add/del; the template escapes the text."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    lines: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines.extend(("same", line) for line in old_lines[i1:i2])
            continue
        lines.extend(("del", line) for line in old_lines[i1:i2])
        lines.extend(("add", line) for line in new_lines[j1:j2])
    return lines


def _card_diffs(a: ModelVersion, b: ModelVersion) -> list[dict[str, Any]]:
    card_a, card_b = card_for(a), card_for(b)
    diffs = []
    for name, title in CARD_SECTIONS:
        old, new = getattr(card_a, name), getattr(card_b, name)
        diffs.append(
            {
                "name": name,
                "title": title,
                "changed": old != new,
                "empty": not old.strip() and not new.strip(),
                "lines": _line_diff(old, new) if old != new else [],
            }
        )
    return diffs


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
            metadata_rows=_metadata_rows(a, b),
            param_rows=_param_rows(a, b),
            metric_rows=_metric_rows(a, b),
            card_diffs=_card_diffs(a, b),
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
