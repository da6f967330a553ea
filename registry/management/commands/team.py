"""Manage teams from the command line (platform admins): every change goes through the
services, so it is validated and audited like a change made anywhere else."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from registry.choices import TeamRole
from registry.errors import RegistryError
from registry.models import Team
from registry.services import (
    team_create,
    team_maintainer_add,
    team_maintainer_remove,
    team_member_add,
    team_member_remove,
)


class Command(BaseCommand):
    help = (
        "Create teams, add or remove members, and make members maintainers or not, acting "
        "as a named superuser or team maintainer (the Teams pages do the same)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--as", dest="actor", required=True, help="username of a superuser or maintainer"
        )
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("name")
        create.add_argument("--description", default="")
        for name in ("add", "remove", "maintainer-add", "maintainer-remove"):
            p = sub.add_parser(name)
            p.add_argument("team", help="team slug")
            p.add_argument("username")
            if name == "add":
                p.add_argument("--maintainer", action="store_true", help="add as a maintainer")

    def handle(self, *args, actor, action, **options):
        User = get_user_model()
        try:
            actor_user = User.objects.get(username=actor)
            if action == "create":
                team = team_create(
                    actor=actor_user, name=options["name"], description=options["description"]
                )
                self.stdout.write(f"Created team {team.name} ({team.slug}).")
                return
            team = Team.objects.get(slug=options["team"])
            user = User.objects.get(username=options["username"])
            if action == "add":
                role = TeamRole.MAINTAINER if options["maintainer"] else TeamRole.MEMBER
                team_member_add(actor=actor_user, team=team, user=user, role=role)
                self.stdout.write(f"Added {user} to {team} as {role.label.lower()}.")
            elif action == "remove":
                team_member_remove(actor=actor_user, team=team, user=user)
                self.stdout.write(f"Removed {user} from {team}.")
            elif action == "maintainer-add":
                team_maintainer_add(actor=actor_user, team=team, user=user)
                self.stdout.write(f"{user} now maintains {team}.")
            else:
                team_maintainer_remove(actor=actor_user, team=team, user=user)
                self.stdout.write(f"{user} no longer maintains {team} (still a member).")
        except User.DoesNotExist:
            raise CommandError("No such user.") from None
        except Team.DoesNotExist:
            raise CommandError(f"No team with slug {options.get('team')!r}.") from None
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        except (PermissionDenied, RegistryError) as exc:
            raise CommandError(str(exc)) from None
