"""What requesting a stage change for a version would meet, before anyone files it: per
target stage, whether the state machine and the policy allow the move, the gates as they
stand now, and who would approve. Reads only; the request form shows it."""

from dataclasses import dataclass

from registry.models import ModelVersion
from registry.stages import STAGE_LABELS, TARGET_STAGES, transition_problem

from .approvers import approvers
from .gates import Gate, gate_results
from .models import PENDING_STATES, Policy, RequestKind, TransitionRequest
from .policies import policy_for
from .status import production_version


@dataclass(frozen=True)
class StageOption:
    stage: str
    label: str
    problem: str  # why this move cannot be requested now; "" when it can
    policy: Policy
    policy_why: str
    gates: list[Gate]
    approvers: list
    pending: TransitionRequest | None  # a request for this move already waiting

    @property
    def allowed(self) -> bool:
        return not self.problem

    @property
    def gates_passed(self) -> bool:
        return all(g.passed for g in self.gates)


def _baseline(version: ModelVersion) -> ModelVersion | None:
    baseline = production_version(version.model)
    return None if baseline is not None and baseline.pk == version.pk else baseline


def _option(
    version: ModelVersion,
    stage: str,
    *,
    baseline: ModelVersion | None,
    waiting: TransitionRequest | None,
    gates_anyway: bool = False,
) -> StageOption:
    model = version.model
    applied = policy_for(model, stage)
    problem = transition_problem(
        version.stage, stage, allow_skip_staging=applied.policy.allow_skip_staging
    )
    if not problem and waiting is not None:
        problem = f"Request #{waiting.pk} for this move is already waiting."
    evaluate = gates_anyway or not problem
    return StageOption(
        stage=stage,
        label=STAGE_LABELS[stage],
        problem=problem,
        policy=applied.policy,
        policy_why=applied.why,
        gates=gate_results(version, applied.policy, to_stage=stage, baseline=baseline)
        if evaluate
        else [],
        approvers=approvers(model, stage) if evaluate else [],
        pending=waiting,
    )


def stage_options(version: ModelVersion) -> list[StageOption]:
    """One entry per stage a request may target, other than the version's own stage."""
    baseline = _baseline(version)
    pending = {
        r.to_stage: r
        for r in TransitionRequest.objects.filter(
            version=version, state__in=PENDING_STATES
        ).exclude(kind=RequestKind.ALIAS)
    }
    return [
        _option(version, stage, baseline=baseline, waiting=pending.get(stage))
        for stage in TARGET_STAGES
        if stage != version.stage
    ]


def stage_preview(version: ModelVersion, stage: str) -> tuple[StageOption, ModelVersion | None]:
    """The dry run of one request (the API's): like an entry of `stage_options`, but with
    the gates and approvers even when the move cannot be requested, so that everything
    in the way shows at once; and the production version it would replace."""
    baseline = _baseline(version)
    waiting = (
        TransitionRequest.objects.filter(version=version, to_stage=stage, state__in=PENDING_STATES)
        .exclude(kind=RequestKind.ALIAS)
        .first()
    )
    option = _option(version, stage, baseline=baseline, waiting=waiting, gates_anyway=True)
    return option, baseline
