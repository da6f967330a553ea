"""Migrate, load the demo organisation and serve it on 127.0.0.1:8000.

The README's quick start runs `DEBUG=1 manage.py rundemo`: settings are read at start-up,
so DEBUG (static files, the fixed demo passwords) comes from the environment.
"""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from audit.verification import chain_verify

DEFAULT_ADDRPORT = "127.0.0.1:8000"


class Command(BaseCommand):
    help = "Migrate, create the demo organisation if missing, and run the development server."

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
        call_command("migrate", interactive=False, verbosity=0)
        call_command("demo", stdout=self.stdout)  # builds it, or reuses it; prints logins
        # No Celery beat runs in the embedded setup: verify the audit chain once at start,
        # so the audit page shows a real result (and a tampered local log is reported).
        check, _ = chain_verify()
        self.stdout.write(check.summary())
        host = addrport if ":" in addrport else f"127.0.0.1:{addrport}"
        self.stdout.write(self.style.SUCCESS(f"Modelgate is at http://{host}/"))
        # No autoreloader: it would start a second process and print all of this again.
        call_command("runserver", addrport, use_reloader=False)
