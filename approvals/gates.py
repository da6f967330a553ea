"""Gate evaluation: what a policy requires of a version, what the version has, pass/fail.

`gate_results` reads the version's card, metrics, lineage and model metadata and
returns one row per check. It changes nothing; services store the rows on the request
and in the audit event, so what was judged is kept as it was.
"""

from dataclasses import asdict, dataclass
from math import isfinite

from registry.models import Metric, ModelVersion
from registry.stages import STAGE_LABELS, transition_problem

from .models import Comparator, Policy
from .policies import SECTION_TITLES

METADATA_CHECKS = (
    ("owner_id", "owner"),
    ("purpose", "purpose"),
    ("license", "license"),
    ("data_classification", "data classification"),
    ("evaluation_coverage", "evaluation coverage"),
)
_COMPARE = {
    Comparator.GTE: lambda a, b: a >= b,
    Comparator.GT: lambda a, b: a > b,
    Comparator.LTE: lambda a, b: a <= b,
    Comparator.LT: lambda a, b: a < b,
}


@dataclass(frozen=True)
class Gate:
    check: str
    required: str
    actual: str
    passed: bool


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _metric_label(metric: str, dataset: str) -> str:
    return f"{metric} on {dataset}" if dataset else metric


def _card_gates(version: ModelVersion, sections: list[str]) -> list[Gate]:
    card = getattr(version, "card", None)
    gates = []
    for name in sections:
        title = SECTION_TITLES.get(name, name)
        if card is None or not getattr(card, name, "").strip():
            actual, passed = "empty", False
        elif card.section_counts(name):
            actual, passed = "filled for this version", True
        else:
            actual, passed = "inherited, not yet reviewed for this version", False
        gates.append(Gate(f"Card: {title}", "written or reviewed for this version", actual, passed))
    return gates


def _metrics_of(version: ModelVersion | None) -> dict[tuple[str, str], Metric]:
    if version is None:
        return {}
    return {(m.name, m.dataset): m for m in version.metrics.all()}


def _threshold_gates(metrics, thresholds: list[dict]) -> list[Gate]:
    gates = []
    for t in thresholds:
        key = (t["metric"], t.get("dataset", ""))
        label = _metric_label(*key)
        required = f"{t['comparator']} {_fmt(float(t['value']))}"
        metric = metrics.get(key)
        if metric is None:
            gates.append(Gate(f"Threshold: {label}", required, "not recorded", False))
            continue
        passed = isfinite(metric.value) and _COMPARE[t["comparator"]](
            metric.value, float(t["value"])
        )
        gates.append(Gate(f"Threshold: {label}", required, _fmt(metric.value), passed))
    return gates


def _regression_gates(metrics, baseline: ModelVersion | None, rules: list[dict]) -> list[Gate]:
    gates = []
    base = _metrics_of(baseline)
    for r in rules:
        key = (r["metric"], r.get("dataset", ""))
        label = _metric_label(*key)
        allowed = float(r["max_drop"])
        check = f"No regression: {label}"
        if baseline is None:
            gates.append(
                Gate(check, f"within {_fmt(allowed)}", "no production version to compare", True)
            )
            continue
        required = f"within {_fmt(allowed)} of production v{baseline.number}"
        ours, theirs = metrics.get(key), base.get(key)
        if ours is None:
            gates.append(Gate(check, required, "not recorded", False))
            continue
        if theirs is None:
            gates.append(Gate(check, required, f"{_fmt(ours.value)}; production has none", True))
            continue
        # A drop is a fall for higher-is-better metrics, a rise for lower-is-better ones.
        drop = theirs.value - ours.value if theirs.higher_is_better else ours.value - theirs.value
        actual = f"{_fmt(ours.value)} vs {_fmt(theirs.value)} ({_fmt(ours.value - theirs.value):+})"
        gates.append(Gate(check, required, actual, isfinite(drop) and drop <= allowed))
    return gates


def _lineage_gate(version: ModelVersion) -> Gate:
    missing = []
    if not version.run_id:
        missing.append("training run")
    if not version.code_commit:
        missing.append("code commit")
    if not version.data_versions.exists():
        missing.append("data versions")
    actual = "complete" if not missing else "missing " + ", ".join(missing)
    return Gate("Lineage", "training run, code commit, data versions", actual, not missing)


def _metadata_gate(version: ModelVersion) -> Gate:
    model = version.model
    missing = [
        label for field, label in METADATA_CHECKS if not str(getattr(model, field) or "").strip()
    ]
    actual = "complete" if not missing else "missing " + ", ".join(missing)
    return Gate(
        "Metadata standard", ", ".join(label for _, label in METADATA_CHECKS), actual, not missing
    )


def gate_results(
    version: ModelVersion, policy: Policy, *, to_stage: str, baseline: ModelVersion | None
) -> list[Gate]:
    """Every check `policy` makes of moving `version` to `to_stage`, in display order.
    `baseline` is the model's current production version (None if there is none)."""
    problem = transition_problem(
        version.stage, to_stage, allow_skip_staging=policy.allow_skip_staging
    )
    gates = [
        Gate(
            "Allowed move",
            f"{STAGE_LABELS[version.stage]} to {STAGE_LABELS[to_stage]}",
            problem or "allowed",
            not problem,
        )
    ]
    gates += _card_gates(version, policy.required_sections)
    metrics = _metrics_of(version)
    gates += _threshold_gates(metrics, policy.thresholds)
    gates += _regression_gates(metrics, baseline, policy.max_regression)
    if policy.require_lineage:
        gates.append(_lineage_gate(version))
    if policy.require_metadata:
        gates.append(_metadata_gate(version))
    return gates


def as_rows(gates: list[Gate]) -> list[dict]:
    return [asdict(g) for g in gates]
