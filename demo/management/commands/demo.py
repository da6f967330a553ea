"""Create a realistic demo organisation (teams, people, models, versions, cards, named
approvers and a stage history of applied, waiting and rejected transition requests).

Everything is created through the services, so the audit log shows the demo being
built. Running it again leaves an existing demo untouched.
"""

from django.core.management.base import BaseCommand, CommandError

from demo.build import DemoError, demo_build
from demo.content import WALK_APPROVERS, WALK_MODEL, WALK_REQUESTER, WALK_VERSION


def print_logins(stdout, logins) -> None:
    width = max(len("username"), *(len(login.username) for login in logins))
    pwidth = max(len("password"), *(len(login.password) for login in logins))
    stdout.write(f"  {'username'.ljust(width)}  {'password'.ljust(pwidth)}  role")
    for login in logins:
        stdout.write(
            f"  {login.username.ljust(width)}  {login.password.ljust(pwidth)}  {login.role}"
        )


class Command(BaseCommand):
    help = "Create the demo organisation through the services (skipped if it exists)."

    def handle(self, *args, **options):
        try:
            result = demo_build()
        except DemoError as exc:
            raise CommandError(str(exc)) from None
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created the demo organisation: {result.teams} teams, {result.models} "
                    f"models, {result.versions} versions."
                )
            )
            self.stdout.write(
                f"Approvals: {result.applied} transitions applied, {result.waiting} requests "
                f"waiting, {result.rejected} rejected."
            )
        else:
            self.stdout.write("The demo organisation already exists; nothing was changed.")
        self.stdout.write("Demo logins:")
        print_logins(self.stdout, result.logins)
        first, second = WALK_APPROVERS
        self.stdout.write(
            f"Try the approval flow: sign in as {WALK_REQUESTER}, open {WALK_MODEL} "
            f"v{WALK_VERSION} and request Production; then {first} and {second} approve it."
        )
