"""Teams and their members. Membership of a team is what lets a person edit its models,
so every change here is a permission change: each is checked and audited.

Who may do what (the governance rule, also in the README):
- platform admins (superusers) create teams and manage every team's members and
  maintainers;
- a team's maintainers manage their own team: they add and remove members and make a
  member a maintainer; they step down themselves, but only an admin takes the role (or
  the membership) away from another maintainer, so that one maintainer cannot lock the
  others out;
- a team that has maintainers always keeps at least one: the last maintainer can be
  neither removed nor demoted.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from ..audit_actions import Action
from ..choices import TeamRole
from ..errors import Conflict, RegistryError
from ..models import RegisteredModel, Team, TeamMembership
from ..permissions import can_manage_team, forget_cached_permissions
from .events import log_event

User = get_user_model()


def _require_admin(actor) -> None:
    if not (actor and actor.is_superuser):
        raise PermissionDenied("Only platform admins manage teams.")


def _require_team_manager(actor, team: Team) -> None:
    if not (actor and can_manage_team(actor, team)):
        raise PermissionDenied(f"Only platform admins and maintainers of {team.name} manage it.")


def _membership_for_update(team: Team, user) -> TeamMembership | None:
    return TeamMembership.objects.select_for_update().filter(team=team, user=user).first()


def _refuse_removing_last_maintainer(team: Team, membership: TeamMembership) -> None:
    if membership.role != TeamRole.MAINTAINER:
        return
    # Lock every maintainer row, so two concurrent removals cannot both see "another one".
    maintainers = list(
        TeamMembership.objects.select_for_update()
        .filter(team=team, role=TeamRole.MAINTAINER)
        .values_list("pk", flat=True)
    )
    if maintainers == [membership.pk]:
        raise RegistryError(
            f"{membership.user.get_username()} is the last maintainer of {team.name}. "
            "Make someone else a maintainer first."
        )


def _event(*, actor, action: Action, team: Team, user, **changes) -> None:
    """A membership event names the team and the user as they are called now."""
    changes = {"team": team.name, "user": user.get_username(), **changes}
    log_event(team, action, actor=actor, changes=changes)


@transaction.atomic
def team_create(*, actor, name: str, description: str = "") -> Team:
    """Create a team. Admins only; names are unique."""
    _require_admin(actor)
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["A team needs a name."]})
    slug = slugify(name)
    if not slug:
        raise ValidationError({"name": ["A team name needs at least one letter or digit."]})
    if Team.objects.filter(name__iexact=name).exists() or Team.objects.filter(slug=slug).exists():
        raise Conflict(f"A team named {name!r} already exists.")
    try:
        with transaction.atomic():
            team = Team.objects.create(name=name, slug=slug, description=description)
    except IntegrityError:
        raise Conflict(f"A team named {name!r} already exists.") from None
    changes = {"name": name, "description": description}
    log_event(team, Action.TEAM_CREATED, actor=actor, changes=changes)
    return team


@transaction.atomic
def team_member_add(*, actor, team: Team, user, role: TeamRole = TeamRole.MEMBER) -> TeamMembership:
    """Add an active user to a team, as a member or straight away as a maintainer.
    Admins and the team's maintainers; adding an existing member is an error."""
    _require_team_manager(actor, team)
    if not user.is_active:
        raise RegistryError(f"{user.get_username()} is deactivated and cannot join a team.")
    if TeamMembership.objects.filter(team=team, user=user).exists():
        raise Conflict(f"{user.get_username()} is already a member of {team.name}.")
    try:
        with transaction.atomic():
            membership = TeamMembership.objects.create(team=team, user=user, role=role)
    except IntegrityError:  # a concurrent add of the same person
        raise Conflict(f"{user.get_username()} is already a member of {team.name}.") from None
    _event(actor=actor, action=Action.TEAM_MEMBER_ADDED, team=team, user=user, role=role)
    forget_cached_permissions(user)
    return membership


# How many of a leaving member's models a refusal names.
OWNED_MODELS_NAMED = 5


@transaction.atomic
def team_member_remove(*, actor, team: Team, user) -> None:
    """Remove a user from a team, which takes away their edit rights on its models.

    Admins remove anyone; maintainers remove members and themselves, not another
    maintainer. Refused for the last maintainer, and for the owner of one of the team's
    models (the owner must belong to the owning team: hand the model over first)."""
    _require_team_manager(actor, team)
    membership = _membership_for_update(team, user)
    if membership is None:
        raise RegistryError(f"{user.get_username()} is not a member of {team.name}.")
    if membership.role == TeamRole.MAINTAINER and user.pk != actor.pk and not actor.is_superuser:
        raise PermissionDenied(f"Only a platform admin removes another maintainer of {team.name}.")
    _refuse_removing_last_maintainer(team, membership)
    owned = list(
        RegisteredModel.objects.filter(team=team, owner=user)
        .order_by("name")
        .values_list("name", flat=True)[: OWNED_MODELS_NAMED + 1]
    )
    if owned:
        names = ", ".join(owned[:OWNED_MODELS_NAMED]) + (
            " and more" if len(owned) > OWNED_MODELS_NAMED else ""
        )
        raise ValidationError(
            {
                "user": [
                    f"{user.get_username()} owns models of {team.name} ({names}); give them "
                    "another owner from the team first."
                ]
            }
        )
    membership.delete()
    _event(
        actor=actor, action=Action.TEAM_MEMBER_REMOVED, team=team, user=user, role=membership.role
    )
    forget_cached_permissions(user)


@transaction.atomic
def team_maintainer_add(*, actor, team: Team, user) -> TeamMembership:
    """Make a member of the team one of its maintainers. Admins and the team's
    maintainers; the user must already be a member (add them as a maintainer with
    team_member_add otherwise)."""
    _require_team_manager(actor, team)
    membership = _membership_for_update(team, user)
    if membership is None:
        raise RegistryError(f"{user.get_username()} is not a member of {team.name}.")
    if membership.role == TeamRole.MAINTAINER:
        raise Conflict(f"{user.get_username()} is already a maintainer of {team.name}.")
    membership.role = TeamRole.MAINTAINER
    membership.save(update_fields=["role"])
    _event(actor=actor, action=Action.TEAM_MAINTAINER_ADDED, team=team, user=user)
    forget_cached_permissions(user)
    return membership


@transaction.atomic
def team_maintainer_remove(*, actor, team: Team, user) -> TeamMembership:
    """Make a maintainer a plain member again (they stay in the team). Admins for
    anyone, a maintainer for themselves; never the last maintainer."""
    _require_team_manager(actor, team)
    if user.pk != actor.pk and not actor.is_superuser:
        raise PermissionDenied(f"Only a platform admin removes another maintainer of {team.name}.")
    membership = _membership_for_update(team, user)
    if membership is None or membership.role != TeamRole.MAINTAINER:
        raise RegistryError(f"{user.get_username()} is not a maintainer of {team.name}.")
    _refuse_removing_last_maintainer(team, membership)
    membership.role = TeamRole.MEMBER
    membership.save(update_fields=["role"])
    _event(actor=actor, action=Action.TEAM_MAINTAINER_REMOVED, team=team, user=user)
    forget_cached_permissions(user)
    return membership
