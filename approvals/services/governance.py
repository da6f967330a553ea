"""Governance: publishing policy versions and naming approvers."""

import math
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from audit.services import event_record
from registry.choices import CARD_SECTION_NAMES, RiskTier
from registry.models import RegisteredModel, Team
from registry.permissions import forget_cached_permissions
from registry.stages import Stage

from .. import tasks
from ..approvers import codename
from ..audit_actions import ApprovalAction
from ..models import TARGET_STAGE_CHOICES, Comparator, Policy, PolicyScope
from .transitions import _clean_reason

PUBLISH_PERMISSION = "approvals.publish_policy"
ASSIGN_PERMISSION = "approvals.assign_approvers"
MAX_APPROVALS = 10
MAX_RULES = 50
RULE_FIELDS = (
    "required_approvals",
    "separation_of_duties",
    "required_sections",
    "thresholds",
    "max_regression",
    "require_lineage",
    "require_metadata",
    "allow_skip_staging",
)


def _number(value: Any, where: str, errors: list[str]) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        errors.append(f"{where}: give a number.")
        return None
    try:
        number = float(value)
    except ValueError:
        errors.append(f"{where}: {value!r} is not a number.")
        return None
    if not math.isfinite(number):
        errors.append(f"{where}: give a finite number.")
        return None
    return number


def _metric_ref(item: Any, where: str, errors: list[str]) -> dict[str, str] | None:
    if not isinstance(item, Mapping):
        errors.append(f"{where}: give an object with metric, dataset and the rule.")
        return None
    metric, dataset = item.get("metric"), item.get("dataset", "")
    if not isinstance(metric, str) or not metric.strip() or len(metric) > 100:
        errors.append(f"{where}: name the metric (1-100 characters).")
        return None
    if not isinstance(dataset, str) or len(dataset) > 200:
        errors.append(f"{where}: the dataset is a text of at most 200 characters.")
        return None
    return {"metric": metric.strip(), "dataset": dataset.strip()}


def clean_rules(rules: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a policy's rules; raise ValidationError naming each bad field."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(rules) - set(RULE_FIELDS))
    for name in unknown:
        errors[name] = ["Not a policy rule."]
    out: dict[str, Any] = {}
    approvals = rules.get("required_approvals", 1)
    if (
        isinstance(approvals, bool)
        or not isinstance(approvals, int)
        or not 0 <= approvals <= MAX_APPROVALS
    ):
        errors["required_approvals"] = [f"A whole number from 0 to {MAX_APPROVALS}."]
    out["required_approvals"] = approvals
    for flag in (
        "separation_of_duties",
        "require_lineage",
        "require_metadata",
        "allow_skip_staging",
    ):
        value = rules.get(flag, flag == "separation_of_duties")
        if not isinstance(value, bool):
            errors[flag] = ["true or false."]
        out[flag] = value
    sections = rules.get("required_sections", [])
    if not isinstance(sections, list) or not all(isinstance(s, str) for s in sections):
        errors["required_sections"] = ["A list of card section names."]
    else:
        bad = [s for s in sections if s not in CARD_SECTION_NAMES]
        if bad:
            errors["required_sections"] = [f"Not a card section: {', '.join(bad)}."]
        out["required_sections"] = [s for s in CARD_SECTION_NAMES if s in sections]
    for field, check in (("thresholds", _threshold), ("max_regression", _regression)):
        items = rules.get(field, [])
        problems: list[str] = []
        if not isinstance(items, list) or len(items) > MAX_RULES:
            errors[field] = [f"A list of at most {MAX_RULES} rules."]
            continue
        cleaned = [check(item, f"rule {i + 1}", problems) for i, item in enumerate(items)]
        keys = [(c["metric"], c["dataset"]) for c in cleaned if c]
        if len(keys) != len(set(keys)):
            problems.append("Each metric and dataset appears once.")
        if problems:
            errors[field] = problems
        out[field] = [c for c in cleaned if c]
    if errors:
        raise ValidationError(errors)
    return out


def _threshold(item: Any, where: str, errors: list[str]) -> dict | None:
    ref = _metric_ref(item, where, errors)
    if ref is None:
        return None
    if item.get("comparator") not in Comparator.values:
        errors.append(f"{where}: the comparator is one of {', '.join(Comparator.values)}.")
        return None
    value = _number(item.get("value"), where, errors)
    return None if value is None else {**ref, "comparator": item["comparator"], "value": value}


def _regression(item: Any, where: str, errors: list[str]) -> dict | None:
    ref = _metric_ref(item, where, errors)
    if ref is None:
        return None
    drop = _number(item.get("max_drop"), where, errors)
    if drop is not None and drop < 0:
        errors.append(f"{where}: max_drop is 0 or more.")
        return None
    return None if drop is None else {**ref, "max_drop": drop}


def _require(actor, permission: str, what: str) -> None:
    if actor is None or not actor.has_perm(permission):
        raise PermissionDenied(f"Only governance staff and admins can {what}.")


def _rules_of(policy: Policy | None) -> dict[str, Any] | None:
    return None if policy is None else {f: getattr(policy, f) for f in RULE_FIELDS}


@transaction.atomic
def policy_publish(
    *,
    actor,
    stage: str,
    rules: Mapping[str, Any],
    reason: str,
    risk_tier: str = "",
    team: Team | None = None,
    model: RegisteredModel | None = None,
) -> Policy:
    """Publish the next version of the policy for `stage` at one scope: the organisation
    default for `risk_tier`, a team's override for that tier, or a model's own. The
    previous version is marked superseded, never edited."""
    _require(actor, PUBLISH_PERMISSION, "publish approval policies")
    if stage not in dict(TARGET_STAGE_CHOICES):
        raise ValidationError({"stage": ["Choose staging, production or archived."]})
    if team is not None and model is not None:
        raise ValidationError({"scope": ["A policy is for a team or for a model, not both."]})
    if model is None and risk_tier not in RiskTier.values:
        raise ValidationError({"risk_tier": [f"Choose one of: {', '.join(RiskTier.values)}."]})
    if model is not None:
        risk_tier = ""
    cleaned = clean_rules(rules)
    if cleaned["allow_skip_staging"] and stage != Stage.PRODUCTION:
        raise ValidationError({"allow_skip_staging": ["Only a production policy can allow it."]})
    reason = _clean_reason(reason)
    scope = PolicyScope.MODEL if model else PolicyScope.TEAM if team else PolicyScope.ORGANISATION
    previous = (
        Policy.objects.select_for_update()
        .filter(scope=scope, team=team, model=model, stage=stage, risk_tier=risk_tier)
        .order_by("-number")
        .first()
    )
    if previous is not None and previous.superseded_at is None:
        previous.superseded_at = timezone.now()
        previous.save(update_fields=["superseded_at"])
    policy = Policy.objects.create(
        scope=scope,
        team=team,
        model=model,
        stage=stage,
        risk_tier=risk_tier,
        number=(previous.number + 1) if previous else 1,
        reason=reason,
        published_by=actor,
        **cleaned,
    )
    event_record(
        actor=actor,
        action=ApprovalAction.POLICY_PUBLISHED,
        model=model,
        object_type="policy",
        object_id=policy.pk,
        reason=reason,
        changes={
            "scope": scope,
            "team": team.name if team else None,
            "stage": stage,
            "risk_tier": risk_tier,
            "number": policy.number,
            "rules": cleaned,
            "previous": _rules_of(previous),
        },
    )
    if model is None:
        # Approvals given under the previous version no longer count: reviewers see
        # those requests again (a model's own policy is refreshed through its event).
        transaction.on_commit(lambda: tasks.stage_reviews_stale_refresh.delay(stage))
    return policy


def _approver_change(*, actor, stage: str, grant: bool, model, team, user, group) -> None:
    _require(actor, ASSIGN_PERMISSION, "name approvers")
    if (model is None) == (team is None):
        raise ValidationError({"scope": ["Name approvers for one model or for one team."]})
    if (user is None) == (group is None):
        raise ValidationError({"holder": ["Name one user or one group."]})
    if stage not in dict(TARGET_STAGE_CHOICES):
        raise ValidationError({"stage": ["Choose staging, production or archived."]})
    if grant and user is not None and not user.is_active:
        raise ValidationError({"user": [f"{user.get_username()} is deactivated."]})
    target = model if model is not None else team
    perm = codename(stage, type(target))
    holder = user if user is not None else group
    (assign_perm if grant else remove_perm)(perm, holder, target)
    if user is not None:
        forget_cached_permissions(user)
    event_record(
        actor=actor,
        action=ApprovalAction.APPROVER_GRANTED if grant else ApprovalAction.APPROVER_REVOKED,
        model=model,
        object_type="model" if model is not None else "team",
        object_id=target.pk,
        changes={
            "stage": stage,
            **({"user": user.get_username()} if user is not None else {"group": group.name}),
            "on": "model" if model is not None else "team",
            "team": (team or model.team).name,
        },
    )


@transaction.atomic
def approver_grant(*, actor, stage: str, model=None, team=None, user=None, group=None) -> None:
    """Name a user or group approver of `stage` for one model, or for every model of a team."""
    _approver_change(
        actor=actor, stage=stage, grant=True, model=model, team=team, user=user, group=group
    )


@transaction.atomic
def approver_revoke(*, actor, stage: str, model=None, team=None, user=None, group=None) -> None:
    _approver_change(
        actor=actor, stage=stage, grant=False, model=model, team=team, user=user, group=group
    )
