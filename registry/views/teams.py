"""The Teams pages: platform admins create teams; admins and a team's maintainers add
and remove its members and maintainers. Every change goes through
registry.services.teams (checked, audited); these views only shape input and show the
services' refusals next to the form they concern."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import services
from ..choices import TeamRole
from ..errors import Conflict, RegistryError
from ..models import RegisteredModel, Team, TeamMembership
from ..permissions import can_manage_any_team, can_manage_team, user_maintained_team_ids
from ..team_forms import TeamCreateForm, TeamMemberAddForm

TEAMS_PER_PAGE = 25
MEMBERS_PER_PAGE = 50


def _require_team_pages(user) -> None:
    if not can_manage_any_team(user):
        raise PermissionDenied("Only platform admins and team maintainers manage teams.")


def _require_admin(user) -> None:
    if not user.is_superuser:
        raise PermissionDenied("Only platform admins create teams.")


def _get_team_for_manager(request, slug: str) -> Team:
    team = get_object_or_404(Team, slug=slug)
    if not can_manage_team(request.user, team):
        raise PermissionDenied(f"Only platform admins and maintainers of {team.name} manage it.")
    return team


def _get_member(team: Team, user_id: int):
    membership = get_object_or_404(
        TeamMembership.objects.select_related("user"), team=team, user_id=user_id
    )
    return membership.user


@login_required
@require_http_methods(["GET", "POST"])
def team_list(request):
    """The teams the user manages (all of them for admins); admins create teams here
    (a POST), so that no team's name can shadow a page of its own, as `new` would."""
    _require_team_pages(request.user)
    form = TeamCreateForm(request.POST or None) if request.user.is_superuser else None
    if request.method == "POST":
        _require_admin(request.user)
        if form.is_valid():
            try:
                team = services.team_create(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_service_error(exc)
            except Conflict as exc:
                form.add_error("name", exc.message)
            else:
                messages.success(request, f"Created team {team.name}. Add its members next.")
                return redirect("teams:detail", slug=team.slug)
    teams = Team.objects.annotate(
        member_count=Count("memberships"),
        maintainer_count=Count("memberships", filter=Q(memberships__role=TeamRole.MAINTAINER)),
    ).order_by("name")
    if not request.user.is_superuser:
        teams = teams.filter(pk__in=user_maintained_team_ids(request.user))
    page = Paginator(teams, TEAMS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/team_list.html",
        {
            "nav": "teams",
            "page": page,
            "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2),
            "pagination_label": "Team pages",
            "form": form,
        },
        status=400 if form is not None and form.errors else 200,
    )


def _render_detail(request, team: Team, add_form: TeamMemberAddForm, status: int = 200):
    members = (
        TeamMembership.objects.filter(team=team)
        .select_related("user")
        .annotate(
            maintainer_first=Case(
                When(role=TeamRole.MAINTAINER, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("maintainer_first", "user__username")
    )
    page = Paginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    user = request.user
    return render(
        request,
        "registry/team_detail.html",
        {
            "nav": "teams",
            "team": team,
            "page": page,
            "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2),
            "pagination_label": "Member pages",
            "maintainer_count": TeamMembership.objects.filter(
                team=team, role=TeamRole.MAINTAINER
            ).count(),
            "model_count": RegisteredModel.objects.filter(team=team).count(),
            "add_form": add_form,
            # A maintainer steps down or leaves; only an admin removes another maintainer.
            "is_admin": user.is_superuser,
        },
        status=status,
    )


@login_required
@require_GET
def team_detail(request, slug):
    team = _get_team_for_manager(request, slug)
    return _render_detail(request, team, TeamMemberAddForm())


@login_required
@require_POST
def team_member_add(request, slug):
    team = _get_team_for_manager(request, slug)
    form = TeamMemberAddForm(request.POST)
    if form.is_valid():
        try:
            services.team_member_add(
                actor=request.user, team=team, user=form.user, role=form.cleaned_data["role"]
            )
        except RegistryError as exc:
            form.add_error("username", exc.message)
        else:
            role = TeamRole(form.cleaned_data["role"]).label.lower()
            messages.success(request, f"Added {form.user.get_username()} to {team.name} as {role}.")
            return redirect("teams:detail", slug=team.slug)
    return _render_detail(request, team, form, status=400)


def _change(request, slug: str, user_id: int, service, done: str):
    """Run one service on a member of the team; show its refusal as a message (and a
    refusal for lack of rights as a 403)."""
    team = _get_team_for_manager(request, slug)
    user = _get_member(team, user_id)
    try:
        service(actor=request.user, team=team, user=user)
    except RegistryError as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, done.format(user=user.get_username(), team=team.name))
        if not can_manage_team(request.user, team):  # they left or stepped down
            return redirect("registry:catalog")
    return redirect("teams:detail", slug=team.slug)


@login_required
@require_POST
def team_member_remove(request, slug, user_id):
    return _change(
        request, slug, user_id, services.team_member_remove, "Removed {user} from {team}."
    )


@login_required
@require_POST
def team_maintainer_add(request, slug, user_id):
    return _change(
        request, slug, user_id, services.team_maintainer_add, "{user} now maintains {team}."
    )


@login_required
@require_POST
def team_maintainer_remove(request, slug, user_id):
    return _change(
        request,
        slug,
        user_id,
        services.team_maintainer_remove,
        "{user} is no longer a maintainer of {team} (still a member).",
    )
