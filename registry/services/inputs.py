"""Validation of the structured inputs of a version (metrics, params, data, lineage).

Shared by every entry point through the services, so the browser, the API and the
management commands reject the same things with the same messages.
"""

import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from ..choices import DataClassification, LineageRelation
from ..limits import check_count

PARAM_SCALARS = (str, int, float, bool, type(None))


def _need(item: Mapping[str, Any], key: str, where: str, errors: list[str]) -> Any:
    value = item.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append(f"{where}: '{key}' is required.")
    return value


def clean_metrics(
    metrics: Iterable[Mapping[str, Any]], *, recorded: int = 0
) -> list[dict[str, Any]]:
    """`recorded`: how many the version already has (METRICS_MAX_PER_VERSION in all)."""
    metrics = list(metrics)
    limit = settings.METRICS_MAX_PER_VERSION
    check_count("metrics", recorded + len(metrics), limit, "metrics per version")
    cleaned, errors, seen = [], [], set()
    for i, item in enumerate(metrics, start=1):
        where = f"metric {i}"
        if not isinstance(item, Mapping):
            errors.append(f"{where}: must be an object with name and value.")
            continue
        name = _need(item, "name", where, errors)
        value = item.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.append(f"{where}: 'value' must be a number.")
        elif not math.isfinite(value):
            errors.append(f"{where}: 'value' must be a finite number.")
        dataset = str(item.get("dataset") or "").strip()
        hib = item.get("higher_is_better", True)
        if not isinstance(hib, bool):
            errors.append(f"{where}: 'higher_is_better' must be true or false.")
        if isinstance(name, str) and len(name) > 100:
            errors.append(f"{where}: 'name' is longer than 100 characters.")
        key = (str(name).strip(), dataset)
        if key in seen:
            errors.append(f"{where}: {key[0]!r} on {dataset or 'no dataset'!r} appears twice.")
        seen.add(key)
        if not errors:
            cleaned.append(
                {"name": key[0], "value": float(value), "dataset": dataset, "higher_is_better": hib}
            )
    if errors:
        raise ValidationError({"metrics": errors})
    return cleaned


def clean_params(params: Any, *, recorded: Iterable[str] = ()) -> dict[str, Any]:
    """`recorded`: the names the version already has (HYPERPARAMETERS_MAX_PER_VERSION
    names in all)."""
    if not isinstance(params, Mapping):
        raise ValidationError({"hyperparameters": ["Must be an object of name: value pairs."]})
    limit = settings.HYPERPARAMETERS_MAX_PER_VERSION
    check_count("hyperparameters", len(set(recorded) | set(params)), limit, "hyper-parameters")
    name_max = settings.HYPERPARAMETER_NAME_MAX_CHARS
    value_max = settings.HYPERPARAMETER_VALUE_MAX_CHARS
    errors = []
    for key, value in params.items():
        if not isinstance(key, str) or not key.strip() or len(key) > name_max:
            errors.append(f"{str(key)[:name_max]!r}: names are 1-{name_max:,} characters.")
        elif not isinstance(value, PARAM_SCALARS):
            errors.append(f"{key}: values must be a string, number, boolean or null.")
        elif isinstance(value, float) and not math.isfinite(value):
            errors.append(f"{key}: numbers must be finite.")
        elif len(value if isinstance(value, str) else repr(value)) > value_max:
            errors.append(f"{key}: values are at most {value_max:,} characters.")
    if errors:
        raise ValidationError({"hyperparameters": errors})
    return dict(params)


def clean_data_versions(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    cleaned, errors = [], []
    for i, item in enumerate(items, start=1):
        where = f"data version {i}"
        if not isinstance(item, Mapping):
            errors.append(f"{where}: must be an object.")
            continue
        dataset = _need(item, "dataset", where, errors)
        ref = _need(item, "version_or_uri", where, errors)
        classification = item.get("classification")
        if classification not in DataClassification.values:
            errors.append(
                f"{where}: 'classification' must be one of {', '.join(DataClassification.values)}."
            )
        if not errors:
            cleaned.append(
                {
                    "dataset": str(dataset).strip()[:200],
                    "version_or_uri": str(ref).strip()[:1000],
                    "content_hash": str(item.get("content_hash") or "").strip()[:200],
                    "classification": classification,
                }
            )
    if errors:
        raise ValidationError({"data_versions": errors})
    return cleaned


def clean_relation(relation: str) -> str:
    if relation not in LineageRelation.values:
        raise ValidationError(
            {"parents": [f"relation must be one of {', '.join(LineageRelation.values)}."]}
        )
    return relation
