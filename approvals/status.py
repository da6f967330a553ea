"""A transition request as it stands now: its policy, gates, approvals (which still
count) and whether it can apply. Reads only; pages, the API and the services share it."""

from dataclasses import dataclass

from registry.models import ModelVersion, RegisteredModel, StageChange
from registry.stages import Stage, StageChangeKind

from .approvers import approver_ids
from .digests import changed_parts, digests_of
from .gates import Gate, gate_results
from .models import Decision, Policy, RequestKind, Review, TransitionRequest
from .policies import policy_for


@dataclass(frozen=True)
class CountedApproval:
    review: Review
    stale: list[str]  # PART_LABELS keys that changed since; empty while it counts


@dataclass(frozen=True)
class RequestStatus:
    """What a request has now: its policy, gates, approvals and whether it can apply."""

    policy: Policy
    policy_why: str
    baseline: ModelVersion | None
    digests: dict[str, str]
    gates: list[Gate]
    approvals: list[CountedApproval]  # each reviewer's latest approval, stale or not

    @property
    def gates_passed(self) -> bool:
        return all(g.passed for g in self.gates)

    @property
    def counted(self) -> list[Review]:
        return [a.review for a in self.approvals if not a.stale]

    @property
    def approvals_missing(self) -> int:
        return max(0, self.policy.required_approvals - len(self.counted))


def production_version(model: RegisteredModel) -> ModelVersion | None:
    return (
        ModelVersion.objects.filter(model=model, stage=Stage.PRODUCTION)
        .select_related("model")
        .first()
    )


ROLLBACK_GATE = Gate("Emergency rollback", "already applied; confirm it", "in Production", True)


def request_status(request: TransitionRequest) -> RequestStatus:
    """Evaluate `request` as it stands now (reads only)."""
    version = request.version
    applied = policy_for(request.model, request.to_stage)
    baseline = production_version(request.model)
    if baseline is not None and baseline.pk == version.pk:
        baseline = None
    gates = gate_results(version, applied.policy, to_stage=request.to_stage, baseline=baseline)
    if request.kind == RequestKind.ROLLBACK_REVIEW:
        gates[0] = ROLLBACK_GATE
    elif request.kind == RequestKind.ALIAS:
        # The version keeps its stage: the move check does not apply, the rest does.
        gates[0] = Gate(
            "Alias",
            f"“{request.alias}” points at a version of {request.model.name}",
            f"v{version.number}, {version.get_stage_display()}",
            True,
        )
    baseline_id = (
        request.baseline_id
        if request.kind == RequestKind.ROLLBACK_REVIEW
        else (baseline.pk if baseline else None)
    )
    now = digests_of(version, applied.policy, baseline_id)
    latest: dict[int, Review] = {}
    for review in request.reviews.select_related("reviewer").order_by("created_at", "id"):
        latest[review.reviewer_id] = review
    approvals = [
        CountedApproval(r, changed_parts(r.digests, now))
        for r in latest.values()
        if r.decision == Decision.APPROVE
    ]
    return RequestStatus(applied.policy, applied.why, baseline, now, gates, approvals)


def eligible_approver_ids(request: TransitionRequest, policy: Policy) -> set[int]:
    """Who may still approve `request`: named approvers for its stage, minus the
    requester and (under separation of duties) the version's author."""
    ids = approver_ids(request.model, request.to_stage)
    ids.discard(request.requester_id)
    if policy.separation_of_duties:
        ids.discard(request.version.created_by_id)
    return ids


def previous_production(model: RegisteredModel) -> ModelVersion | None:
    """The version that was in Production before the current one, if it is archived."""
    change = (
        StageChange.objects.filter(
            model=model,
            from_stage=Stage.PRODUCTION,
            kind__in=[StageChangeKind.SUPERSEDED, StageChangeKind.ROLLED_BACK],
        )
        .select_related("version")
        .first()
    )
    if change is None or change.version.stage != Stage.ARCHIVED:
        return None
    return change.version
