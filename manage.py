#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Commands (migrate, synth, audit_verify...) may run long statements; the servers
    # started from here answer web requests and keep the web statement timeout.
    if sys.argv[1:2] not in (["runserver"], ["rundemo"]):
        os.environ.setdefault("MODELGATE_PROCESS", "command")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
