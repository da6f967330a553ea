from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from audit.actions import Action
from audit.services import event_record

from ..errors import Conflict, RegistryError
from ..models import RegisteredModel, Team, TeamMembership
from ..permissions import forget_cached_permissions

User = get_user_model()


def _require_admin(actor) -> None:
    if not (actor and actor.is_superuser):
        raise PermissionDenied("Only platform admins manage teams.")


@transaction.atomic
def team_create(*, actor, name: str, description: str = "") -> Team:
    """Create a team. Admins only; names are unique."""
    _require_admin(actor)
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["A team needs a name."]})
    slug = slugify(name)
    if Team.objects.filter(name__iexact=name).exists() or Team.objects.filter(slug=slug).exists():
        raise Conflict(f"A team named {name!r} already exists.")
    try:
        with transaction.atomic():
            team = Team.objects.create(name=name, slug=slug, description=description)
    except IntegrityError:
        raise Conflict(f"A team named {name!r} already exists.") from None
    event_record(
        actor=actor,
        action=Action.TEAM_CREATED,
        object_type="team",
        object_id=team.pk,
        changes={"name": name, "description": description},
    )
    return team


@transaction.atomic
def team_member_add(*, actor, team: Team, user) -> TeamMembership:
    """Add a user to a team. Admins only; adding an existing member is an error."""
    _require_admin(actor)
    if TeamMembership.objects.filter(team=team, user=user).exists():
        raise RegistryError(f"{user.get_username()} is already a member of {team.name}.")
    membership = TeamMembership.objects.create(team=team, user=user)
    event_record(
        actor=actor,
        action=Action.TEAM_MEMBER_ADDED,
        object_type="team",
        object_id=team.pk,
        changes={"team": team.name, "user": user.get_username()},
    )
    forget_cached_permissions(user)
    return membership


# How many of a leaving member's models a refusal names.
OWNED_MODELS_NAMED = 5


@transaction.atomic
def team_member_remove(*, actor, team: Team, user) -> None:
    """Remove a user from a team. Admins only. A member who owns models of the team
    stays until those models have another owner (owners belong to the owning team)."""
    _require_admin(actor)
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
    deleted, _ = TeamMembership.objects.filter(team=team, user=user).delete()
    if not deleted:
        raise RegistryError(f"{user.get_username()} is not a member of {team.name}.")
    event_record(
        actor=actor,
        action=Action.TEAM_MEMBER_REMOVED,
        object_type="team",
        object_id=team.pk,
        changes={"team": team.name, "user": user.get_username()},
    )
    forget_cached_permissions(user)
