"""Manage teams from the command line (platform admins): every change goes through the
services, so it is validated and audited like a change made anywhere else."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from registry.errors import RegistryError
from registry.models import Team
from registry.services import team_create, team_member_add, team_member_remove


class Command(BaseCommand):
    help = "Create teams and add or remove members, acting as a named superuser."

    def add_arguments(self, parser):
        parser.add_argument("--as", dest="actor", required=True, help="username of a superuser")
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("name")
        create.add_argument("--description", default="")
        for name in ("add", "remove"):
            p = sub.add_parser(name)
            p.add_argument("team", help="team slug")
            p.add_argument("username")

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
                team_member_add(actor=actor_user, team=team, user=user)
                self.stdout.write(f"Added {user} to {team}.")
            else:
                team_member_remove(actor=actor_user, team=team, user=user)
                self.stdout.write(f"Removed {user} from {team}.")
        except User.DoesNotExist:
            raise CommandError("No such user.") from None
        except Team.DoesNotExist:
            raise CommandError(f"No team with slug {options.get('team')!r}.") from None
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        except (PermissionDenied, RegistryError) as exc:
            raise CommandError(str(exc)) from None
