"""Governance pages: a model's named approvers and risk tier, the policies and their
versions, and the break-glass rollback.

Everyone signed in may read the approvers and the policies (one registry per company);
changing them needs the Governance role (or admin), and rolling back the break-glass
permission. Every change goes through one service, which checks the permission again
and writes the audit event.
"""

from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from registry.choices import RiskTier
from registry.errors import RegistryError
from registry.models import RegisteredModel
from registry.selectors import model_get
from registry.services import model_risk_tier_set
from registry.services.models import RISK_TIER_PERMISSION
from registry.stages import STAGE_LABELS

from . import services
from .approvers import grants_for
from .governance_forms import (
    ON_MODEL,
    ApproverGrantForm,
    ApproverRevokeForm,
    PolicyForm,
    RegressionFormSet,
    RiskTierForm,
    ThresholdFormSet,
    formset_rows,
    policy_initial,
    show_service_errors,
)
from .models import Policy, PolicyScope
from .policies import TARGET_STAGES, describe
from .selectors import current_policies, policy_recent_versions, policy_versions
from .services.governance import ASSIGN_PERMISSION, PUBLISH_PERMISSION
from .services.transitions import ROLLBACK_PERMISSION
from .status import previous_production, production_version


def _require(user, permission: str, what: str) -> None:
    """The pages' one permission check; the services check again."""
    if not user.has_perm(permission):
        raise PermissionDenied(f"Only {what} can do this.")


def _approvers_page(request, model: RegisteredModel, grant_form=None, tier_form=None, status=200):
    can_assign = request.user.has_perm(ASSIGN_PERMISSION)
    can_set_tier = request.user.has_perm(RISK_TIER_PERMISSION)
    grants = grants_for(model)
    return render(
        request,
        "approvals/model_approvers.html",
        {
            "nav": "catalog",
            "model": model,
            "stages": [
                {
                    "value": stage,
                    "label": STAGE_LABELS[stage],
                    "grants": [g for g in grants if g.stage == stage],
                }
                for stage in TARGET_STAGES
            ],
            "can_assign": can_assign,
            "can_set_tier": can_set_tier,
            "grant_form": grant_form or ApproverGrantForm(),
            "tier_form": tier_form or RiskTierForm(initial={"risk_tier": model.risk_tier}),
        },
        status=status,
    )


@login_required
def model_approvers(request, name: str):
    return _approvers_page(request, model_get(name))


@login_required
@require_POST
def approver_add(request, name: str):
    model = model_get(name)
    _require(request.user, ASSIGN_PERMISSION, "governance staff and admins")
    form = ApproverGrantForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        on_model = d["on"] == ON_MODEL
        try:
            services.approver_grant(
                actor=request.user,
                stage=d["stage"],
                model=model if on_model else None,
                team=None if on_model else model.team,
                user=d["user"],
                group=d["group"],
            )
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            holder = d["user"].get_username() if d["user"] else f"group {d['group'].name}"
            where = model.name if on_model else f"every model of {model.team.name}"
            messages.success(
                request,
                f"{holder} may now approve moves into {STAGE_LABELS[d['stage']]} for {where}.",
            )
            return redirect("approvals:model_approvers", name=model.name)
    return _approvers_page(request, model, grant_form=form, status=400)


@login_required
@require_POST
def approver_remove(request, name: str):
    model = model_get(name)
    _require(request.user, ASSIGN_PERMISSION, "governance staff and admins")
    form = ApproverRevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That grant could not be read; reload the page and try again.")
        return redirect("approvals:model_approvers", name=model.name)
    d = form.cleaned_data
    on_model = d["on"] == ON_MODEL
    try:
        services.approver_revoke(
            actor=request.user,
            stage=d["stage"],
            model=model if on_model else None,
            team=None if on_model else model.team,
            user=d["user"],
            group=d["group"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("approvals:model_approvers", name=model.name)
    holder = d["user"].get_username() if d["user"] else f"group {d['group'].name}"
    messages.success(
        request, f"{holder} no longer approves moves into {STAGE_LABELS[d['stage']]} here."
    )
    return redirect("approvals:model_approvers", name=model.name)


@login_required
@require_POST
def risk_tier_set(request, name: str):
    model = model_get(name)
    _require(request.user, RISK_TIER_PERMISSION, "governance staff and admins")
    form = RiskTierForm(request.POST)
    if form.is_valid():
        try:
            model = model_risk_tier_set(
                actor=request.user,
                model=model,
                risk_tier=form.cleaned_data["risk_tier"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"{model.name} is now {model.get_risk_tier_display().lower()} risk; "
                "the policies of that tier apply.",
            )
            return redirect("approvals:model_approvers", name=model.name)
    return _approvers_page(request, model, tier_form=form, status=400)


# The policies in force are a page of POLICIES_PER_PAGE (the organisation defaults alone
# are 3 stages x 4 tiers; teams' and models' overrides add to them); under each, its
# RECENT_VERSIONS latest earlier versions, and a link to all of them, HISTORY_PER_PAGE a page.
POLICIES_PER_PAGE = 50
RECENT_VERSIONS = 3
HISTORY_PER_PAGE = 20


def _policy_groups(policies: list[Policy], earlier: dict[int, list[Policy]]) -> list[dict]:
    """Current policies (in current_policies' order) grouped by stage, then tier (model
    overrides apply whatever the tier: their own group), each with its latest earlier
    versions."""
    groups = []
    for stage, in_stage in groupby(policies, key=lambda p: p.stage):
        tiers = []
        for tier, in_tier in groupby(in_stage, key=lambda p: p.risk_tier):
            label = f"{RiskTier(tier).label} risk" if tier else "Model overrides (any risk tier)"
            rows = [
                {
                    "policy": p,
                    "rules": describe(p),
                    "history": earlier.get(p.pk, []),
                    "earlier_count": p.number - 1,  # numbered 1, 2, ... without gaps
                }
                for p in in_tier
            ]
            tiers.append({"label": label, "policies": rows})
        groups.append({"stage": stage, "label": STAGE_LABELS[stage], "tiers": tiers})
    return groups


@login_required
def policies(request):
    page = Paginator(current_policies(), POLICIES_PER_PAGE).get_page(request.GET.get("page"))
    in_force = list(page.object_list)
    return render(
        request,
        "approvals/policies.html",
        {
            "nav": "policies",
            "groups": _policy_groups(in_force, policy_recent_versions(in_force, RECENT_VERSIONS)),
            "page": page,
            "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2),
            "can_publish": request.user.has_perm(PUBLISH_PERMISSION),
        },
    )


@login_required
def policy_history(request, pk: int):
    """Every version of one policy (any of its versions' pk), newest first, a page at a time."""
    policy = get_object_or_404(Policy.objects.select_related("team", "model"), pk=pk)
    page = Paginator(policy_versions(policy), HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "approvals/policy_history.html",
        {
            "nav": "policies",
            "policy": policy,
            "stage_label": STAGE_LABELS[policy.stage],
            "versions": [{"policy": p, "rules": describe(p)} for p in page.object_list],
            "page": page,
            "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2),
            "pagination_label": "Version pages",
            "can_publish": request.user.has_perm(PUBLISH_PERMISSION),
        },
    )


@login_required
def policy_publish(request):
    _require(request.user, PUBLISH_PERMISSION, "governance staff and admins")
    initial, based_on = {}, None
    if request.GET.get("from", "").isdigit():
        based_on = get_object_or_404(
            Policy.objects.select_related("team", "model"), pk=request.GET["from"]
        )
        initial = policy_initial(based_on)
    data = request.POST if request.method == "POST" else None
    form = PolicyForm(data, initial=initial)
    thresholds = ThresholdFormSet(
        data, prefix="thresholds", initial=based_on.thresholds if based_on else None
    )
    regressions = RegressionFormSet(
        data, prefix="regression", initial=based_on.max_regression if based_on else None
    )
    rule_errors: dict[str, list[str]] = {}
    if request.method == "POST" and all(
        [form.is_valid(), thresholds.is_valid(), regressions.is_valid()]
    ):
        d = form.cleaned_data
        try:
            policy = services.policy_publish(
                actor=request.user,
                stage=d["stage"],
                rules={
                    **form.rules(),
                    "thresholds": formset_rows(thresholds),
                    "max_regression": formset_rows(regressions),
                },
                reason=d["reason"],
                risk_tier=d["risk_tier"] if d["scope"] != PolicyScope.MODEL else "",
                team=d["team"],
                model=d["model"],
            )
        except ValidationError as exc:
            rule_errors = show_service_errors(form, exc)
        else:
            messages.success(request, f"Published {policy}.")
            # Its own page: the page of all policies may have it on another page.
            return redirect("approvals:policy_history", pk=policy.pk)
    return render(
        request,
        "approvals/policy_publish.html",
        {
            "nav": "policies",
            "form": form,
            "thresholds": thresholds,
            "regressions": regressions,
            "rule_errors": rule_errors,
            "based_on": based_on,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def rollback(request, name: str):
    """Confirm an emergency rollback with a reason; then show its follow-up review."""
    model = model_get(name)
    _require(request.user, ROLLBACK_PERMISSION, "holders of the break-glass permission")
    error = ""
    if request.method == "POST":
        try:
            review = services.rollback_emergency(
                actor=request.user, model=model, reason=request.POST.get("reason", "")
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        except RegistryError as exc:
            messages.error(request, str(exc))
            return redirect("registry:model_detail", name=model.name)
        else:
            messages.warning(
                request,
                f"v{review.version.number} is back in Production. Named approvers must now "
                "review this emergency rollback.",
            )
            return redirect("approvals:request", pk=review.pk)
    current, previous = production_version(model), previous_production(model)
    if request.method == "GET" and (current is None or previous is None):
        messages.error(request, f"{model.name} has no earlier Production version to go back to.")
        return redirect("registry:model_detail", name=model.name)
    return render(
        request,
        "approvals/rollback_confirm.html",
        {
            "nav": "catalog",
            "model": model,
            "current": current,
            "previous": previous,
            "error": error,
            "reason": request.POST.get("reason", ""),
        },
        status=400 if error else 200,
    )
