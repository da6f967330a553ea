"""Two versions side by side: metadata, hyper-parameters, metrics and card sections, as
rows the compare page and the review page of a transition request both show."""

import difflib
from typing import Any

from django.template.defaultfilters import filesizeformat

from .choices import CARD_SECTIONS
from .models import ModelVersion
from .selectors import card_for
from .stages import STAGE_LABELS
from .templatetags.registry_tags import FRAMEWORK_LABELS


def metadata_rows(a: ModelVersion, b: ModelVersion) -> list[dict[str, Any]]:
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
            "Parents": ", ".join(
                f"{link.get_relation_display().lower()} {link.parent.model.name} "
                f"v{link.parent.number}"
                for link in v.parent_links.select_related("parent__model").order_by("pk")
            )
            or "—",
            "Card completeness": f"{card_for(v).completeness}%",
            "Registered by": v.created_by.get_username(),
        }

    left, right = describe(a), describe(b)
    return [{"field": f, "a": left[f], "b": right[f], "changed": left[f] != right[f]} for f in left]


_MISSING = object()


def param_rows(a: ModelVersion, b: ModelVersion) -> list[dict[str, Any]]:
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


def metric_rows(a: ModelVersion, b: ModelVersion) -> list[dict[str, Any]]:
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


def line_diff(old: str, new: str) -> list[tuple[str, str]]:
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


def card_diffs(a: ModelVersion, b: ModelVersion) -> list[dict[str, Any]]:
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
                "lines": line_diff(old, new) if old != new else [],
            }
        )
    return diffs
