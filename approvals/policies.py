"""Which policy applies to a model's move into a stage, and why.

The most specific current policy wins: the model's own, else its team's for the
model's risk tier, else the organisation default for that tier (created by migration
0002, so one always exists).
"""

from dataclasses import dataclass

from django.db.models import Q

from registry.choices import CARD_SECTIONS
from registry.models import RegisteredModel
from registry.stages import STAGE_LABELS

from .models import TARGET_STAGE_CHOICES, Policy, PolicyScope

SECTION_TITLES = dict(CARD_SECTIONS)
TARGET_STAGES = [value for value, _ in TARGET_STAGE_CHOICES]


class PolicyMissing(Exception):
    pass


@dataclass(frozen=True)
class AppliedPolicy:
    policy: Policy
    why: str


def _explain(policy: Policy, model: RegisteredModel) -> str:
    tier = model.get_risk_tier_display().lower()
    if policy.scope == PolicyScope.MODEL:
        return f"{model.name} has its own {STAGE_LABELS[policy.stage]} policy."
    if policy.scope == PolicyScope.TEAM:
        return f"Team {model.team.name} overrides the default for {tier}-risk models."
    return f"The organisation default for {tier}-risk models."


def _rank(policy: Policy) -> int:
    return {PolicyScope.MODEL: 0, PolicyScope.TEAM: 1, PolicyScope.ORGANISATION: 2}[policy.scope]


def policies_for(model: RegisteredModel) -> dict[str, AppliedPolicy]:
    """The policy that applies to each target stage of `model`, in one query (none on
    the model page, which reads them with the model: selectors.policies_part)."""
    from .selectors import page_part, policies_from_part

    rows = page_part(model, "policies")
    if rows is not None:
        current = policies_from_part(rows)
    else:
        current = Policy.objects.filter(superseded_at__isnull=True).filter(
            Q(scope=PolicyScope.MODEL, model=model)
            | Q(scope=PolicyScope.TEAM, team_id=model.team_id, risk_tier=model.risk_tier)
            | Q(scope=PolicyScope.ORGANISATION, risk_tier=model.risk_tier)
        )
    best: dict[str, Policy] = {}
    for policy in current:
        held = best.get(policy.stage)
        if held is None or _rank(policy) < _rank(held):
            best[policy.stage] = policy
    missing = [s for s in TARGET_STAGES if s not in best]
    if missing:
        raise PolicyMissing(
            f"No policy covers {', '.join(missing)} for {model.risk_tier}-risk models; "
            "governance staff must publish one."
        )
    return {
        stage: AppliedPolicy(best[stage], _explain(best[stage], model)) for stage in TARGET_STAGES
    }


def policy_for(model: RegisteredModel, stage: str) -> AppliedPolicy:
    return policies_for(model)[stage]


def describe(policy: Policy) -> list[tuple[str, str]]:
    """The policy's rules as (rule, requirement) lines for pages."""
    lines = [
        (
            "Approvals",
            f"{policy.required_approvals} distinct named approver"
            f"{'' if policy.required_approvals == 1 else 's'}"
            if policy.required_approvals
            else "none: applied as soon as the gates pass",
        ),
        (
            "Separation of duties",
            "the requester and the version's author cannot approve"
            if policy.separation_of_duties
            else "off",
        ),
    ]
    if policy.required_sections:
        titles = ", ".join(SECTION_TITLES.get(s, s) for s in policy.required_sections)
        lines.append(("Card sections", titles))
    for t in policy.thresholds:
        where = f" on {t['dataset']}" if t.get("dataset") else ""
        lines.append(("Threshold", f"{t['metric']}{where} {t['comparator']} {t['value']}"))
    for r in policy.max_regression:
        where = f" on {r['dataset']}" if r.get("dataset") else ""
        lines.append(
            ("No regression", f"{r['metric']}{where} within {r['max_drop']} of production")
        )
    if policy.require_lineage:
        lines.append(("Lineage", "training run, code commit and data versions"))
    if policy.require_metadata:
        lines.append(
            ("Metadata", "owner, purpose, license, data classification, evaluation coverage")
        )
    if policy.stage == "production":
        lines.append(
            ("From", "any stage before it" if policy.allow_skip_staging else "Staging only")
        )
    return lines
