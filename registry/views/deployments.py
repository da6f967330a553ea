"""The deployment pages: targets (create, edit, rotate their secret), a target's
deliveries, a delivery's attempts, and the buttons that redeliver or send a test event.
Every change goes through registry.services (deployments, deliveries), which decide
who may; their refusals show as the 403 page with their message, their validation
errors on the fields.

A target's secret is in the response to the POST that made it and nowhere else: those
responses are never cached, and no other page renders the secret. A Git target has no
secret: its pages show its repository, branch and manifest path instead."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import services
from ..deployment_forms import DeliveryFilterForm, TargetForm, target_initial
from ..deployments.models import Delivery, DeliveryAttempt, DeploymentTarget, TargetKind
from ..deployments.selectors import (
    DeliveryFilters,
    can_manage_any_target,
    target_deliveries,
    targets_for_user,
)
from ..services.deployments import deployment_target_may_manage

TARGETS_PER_PAGE = 25
DELIVERIES_PER_PAGE = 50
ATTEMPTS_SHOWN = 100


def _require_target_pages(user) -> None:
    if not can_manage_any_target(user):
        raise PermissionDenied(
            "Only platform admins and members of a team manage deployment targets."
        )


def _get_target_for_manager(request, pk: int) -> DeploymentTarget:
    target = get_object_or_404(DeploymentTarget.objects.select_related("team"), pk=pk)
    if not deployment_target_may_manage(request.user, target):
        raise PermissionDenied(
            f"Only platform admins and the people who may manage target {target.name} "
            "(its team's maintainers, or the team of its chosen models) see it."
        )
    return target


@login_required
@require_GET
def target_list(request):
    _require_target_pages(request.user)
    page = Paginator(targets_for_user(request.user), TARGETS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "registry/target_list.html",
        {
            "nav": "deployments",
            "page": page,
            "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2),
            "pagination_label": "Target pages",
        },
    )


@never_cache  # the response to a successful POST carries the new secret
@login_required
@require_http_methods(["GET", "POST"])
def target_create(request):
    _require_target_pages(request.user)
    kind = request.GET.get("kind")
    kind = kind if kind in TargetKind.values else TargetKind.WEBHOOK
    form = TargetForm(request.POST or None, user=request.user, kind=kind)
    if request.method == "POST" and form.is_valid():
        try:
            target, secret = services.deployment_target_create(
                actor=request.user, kind=kind, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            if target.is_git:
                messages.success(request, f"Created Git target {target.name}.")
                return redirect("deployments:target", pk=target.pk)
            return _secret_page(request, target, secret, created=True)
    return render(
        request,
        "registry/target_form.html",
        {"nav": "deployments", "form": form, "creating": True, "kind": kind},
        status=400 if form.errors else 200,
    )


def _secret_page(request, target: DeploymentTarget, secret: str, *, created: bool):
    return render(
        request,
        "registry/target_secret.html",
        {"nav": "deployments", "target": target, "secret": secret, "created": created},
    )


@login_required
@require_http_methods(["GET", "POST"])
def target_edit(request, pk):
    target = _get_target_for_manager(request, pk)
    form = TargetForm(
        request.POST or None, user=request.user, kind=target.kind, initial=target_initial(target)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.deployment_target_update(
                actor=request.user, target=target, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Saved target {form.cleaned_data['name']}.")
            return redirect("deployments:target", pk=target.pk)
    return render(
        request,
        "registry/target_form.html",
        {
            "nav": "deployments",
            "form": form,
            "creating": False,
            "target": target,
            "kind": target.kind,
        },
        status=400 if form.errors else 200,
    )


@never_cache  # the response to the POST carries the new secret
@login_required
@require_http_methods(["GET", "POST"])
def target_rotate(request, pk):
    target = _get_target_for_manager(request, pk)
    if target.is_git:
        messages.error(
            request,
            f"{target.name} is a Git target: it has no secret to rotate (the worker's Git "
            "credentials authenticate its pushes).",
        )
        return redirect("deployments:target", pk=target.pk)
    if request.method == "POST":
        target, secret = services.deployment_target_rotate_secret(actor=request.user, target=target)
        return _secret_page(request, target, secret, created=False)
    return render(
        request,
        "registry/target_rotate.html",
        {
            "nav": "deployments",
            "target": target,
            "rotation_hours": settings.WEBHOOK_SECRET_ROTATION_HOURS,
        },
    )


@login_required
@require_POST
def target_rotation_end(request, pk):
    target = _get_target_for_manager(request, pk)
    try:
        services.deployment_target_rotation_end(actor=request.user, target=target)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request, f"{target.name}'s previous secret is retired: only the new one signs now."
        )
    return redirect("deployments:target", pk=target.pk)


@login_required
@require_POST
def target_test(request, pk):
    target = _get_target_for_manager(request, pk)
    try:
        delivery = services.deployment_target_test(actor=request.user, target=target)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("deployments:target", pk=target.pk)
    messages.success(request, f"Test event queued for {target.name}.")
    return redirect("deployments:delivery", pk=delivery.pk)


@login_required
@require_GET
def target_detail(request, pk):
    """The target, its buttons, and its deliveries, filtered and paged by keyset."""
    target = _get_target_for_manager(request, pk)
    form = DeliveryFilterForm(request.GET)
    if not form.is_valid():
        rows, more = [], False
    else:
        data = form.cleaned_data
        filters = DeliveryFilters(
            state=data["state"],
            event=data["event"],
            model=data["model"].strip(),
            since=data["since"],
            until=data["until"],
        )
        rows, more = target_deliveries(
            target, filters, after=data["after"], limit=DELIVERIES_PER_PAGE
        )
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "registry/target_detail.html",
        {
            "nav": "deployments",
            "target": target,
            "chosen_models": list(target.chosen_models.order_by("name")[:20]),
            "form": form,
            "deliveries": rows,
            "older": rows[-1].pk if more else None,
            "paged": bool(form.is_valid() and form.cleaned_data["after"]),
            "filter_query": query.urlencode(),
        },
        status=200 if form.is_valid() else 400,
    )


@login_required
@require_GET
def delivery_detail(request, pk):
    delivery = get_object_or_404(
        Delivery.objects.select_related("target__team", "model", "version"), pk=pk
    )
    _get_target_for_manager(request, delivery.target_id)
    attempts = list(
        DeliveryAttempt.objects.filter(delivery=delivery).order_by("-number")[:ATTEMPTS_SHOWN]
    )
    total = attempts[0].number if attempts else 0
    return render(
        request,
        "registry/delivery_detail.html",
        {
            "nav": "deployments",
            "delivery": delivery,
            "target": delivery.target,
            "attempts": attempts,
            "attempt_total": total,
            "attempts_truncated": total > len(attempts),
        },
    )


@login_required
@require_POST
def delivery_redeliver(request, pk):
    delivery = get_object_or_404(Delivery.objects.select_related("target"), pk=pk)
    _get_target_for_manager(request, delivery.target_id)
    try:
        services.delivery_redeliver(actor=request.user, delivery=delivery)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"Sending {delivery.webhook_id} again to {delivery.target.name}.")
    return redirect("deployments:delivery", pk=delivery.pk)
