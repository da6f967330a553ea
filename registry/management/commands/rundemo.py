"""Migrate, load the demo organisation and serve it on 127.0.0.1:8000.

The README's quick start runs `DEBUG=1 manage.py rundemo`: settings are read at start-up,
so DEBUG (static files, the fixed demo passwords) comes from the environment.
"""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from audit.verification import chain_verify
from registry.demo.build import DemoError, demo_build

from .demo import print_logins

DEFAULT_ADDRPORT = "127.0.0.1:8000"


class Command(BaseCommand):
    help = "Migrate, create the demo organisation if missing, and run the development server."
    # The checks open the database, and on a fresh clone the SQLite folder (var/) does not
    # exist until handle() creates it; runserver runs them once it does.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default=DEFAULT_ADDRPORT)

    def handle(self, *args, addrport, **options):
        if not settings.DEBUG:
            self.stderr.write(
                self.style.WARNING(
                    "DEBUG is off: static files are not served and demo passwords are random. "
                    "Use `DEBUG=1 python manage.py rundemo` for the local demo."
                )
            )
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        try:
            result = demo_build()
        except DemoError as exc:
            raise CommandError(str(exc)) from None
        if result.created:
            self.stdout.write(
                f"Created the demo organisation: {result.teams} teams, {result.models} models, "
                f"{result.versions} versions."
            )
        else:
            self.stdout.write("Using the existing demo organisation.")
        # No Celery beat runs in the embedded setup: verify the audit chain once at start,
        # so the audit page shows a real result (and a tampered local log is reported).
        check, _ = chain_verify()
        self.stdout.write(check.summary())
        host = addrport if ":" in addrport else f"127.0.0.1:{addrport}"
        self.stdout.write("Sign in with one of:")
        print_logins(self.stdout, result.logins)
        self.stdout.write(self.style.SUCCESS(f"Modelgate is at http://{host}/"))
        # No autoreloader: it would start a second process and print all of this again.
        call_command("runserver", addrport, use_reloader=False)
