"""What an approver saw, as digests: an approval counts only while they still match.

Each digest is SHA-256 over a canonical JSON form of one part of what a request is
about. `digests_of` computes them now; `changed_parts` names the parts that differ
from the ones recorded with an approval.
"""

import hashlib
import json
from typing import Any

from registry.choices import CARD_SECTION_NAMES
from registry.models import ModelVersion

from .models import Policy, TransitionRequest

PART_LABELS = {
    "artifact": "the artifact",
    "card": "the model card",
    "metrics": "the metrics",
    "metadata": "the model's or version's metadata",
    "policy": "the policy",
    "baseline": "the production version it would replace",
}


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _card(version: ModelVersion) -> Any:
    card = getattr(version, "card", None)
    if card is None:
        return None
    return {
        name: [getattr(card, name), card.provenance.get(name, {}).get("status")]
        for name in CARD_SECTION_NAMES
    }


def _metadata(version: ModelVersion) -> Any:
    model = version.model
    return {
        "model": {
            f: getattr(model, f)
            for f in (
                "name",
                "owner_id",
                "team_id",
                "description",
                "purpose",
                "license",
                "data_classification",
                "evaluation_coverage",
                "risk_tier",
            )
        },
        "version": {
            f: getattr(version, f)
            for f in (
                "label",
                "framework",
                "flavor",
                "run_system",
                "run_id",
                "run_url",
                "code_repository",
                "code_commit",
                "hyperparameters",
            )
        },
        "data": sorted(
            version.data_versions.values_list(
                "dataset", "version_or_uri", "content_hash", "classification"
            )
        ),
        "parents": sorted(version.parent_links.values_list("parent_id", "relation")),
    }


def digests_of(version: ModelVersion, policy: Policy, baseline_id: int | None) -> dict[str, str]:
    return {
        "artifact": _digest(
            [
                version.artifact.name if version.artifact else "",
                version.artifact_uri,
                version.artifact_sha256,
            ]
        ),
        "card": _digest(_card(version)),
        "metrics": _digest(
            sorted(version.metrics.values_list("name", "dataset", "value", "higher_is_better"))
        ),
        "metadata": _digest(_metadata(version)),
        "policy": f"{policy.pk}:{policy.number}",
        "baseline": str(baseline_id or ""),
    }


def request_digests(request: TransitionRequest, baseline_id: int | None) -> dict[str, str]:
    return digests_of(request.version, request.policy, baseline_id)


def changed_parts(recorded: dict[str, str], now: dict[str, str]) -> list[str]:
    """The parts (PART_LABELS keys) whose digest differs, in a fixed order."""
    return [part for part in PART_LABELS if recorded.get(part) != now.get(part)]
