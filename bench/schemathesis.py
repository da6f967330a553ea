"""The large schemathesis run: the whole API against its published schema, on the demo data.

    .venv/bin/python bench/schemathesis.py                  # about 10-20 minutes
    .venv/bin/python bench/schemathesis.py --max-examples 50 --workers 2

The database is DATABASE_URL (default postgres://postgres@127.0.0.1/mg_bench_schemathesis);
it is migrated and given the demo organisation if needed. A personal token is created for
the demo data scientist `priya`, gunicorn serves the API on a free local port with the
production settings (DEBUG off), and schemathesis runs every phase (examples, coverage,
fuzzing, stateful) with every check and a fixed seed. Its summary and the run's figures
(cases, failures, time) go to bench/results/schemathesis.md; the exit code is
schemathesis's. The quick version of this run is tests/api/test_schemathesis.py.
"""

import argparse
import datetime as dt
import os
import platform
import re
import socket
import subprocess
import sys
import time
import urllib.request

import environment  # beside this script

environment.configure("mg_bench_schemathesis")
ROOT = environment.ROOT
RESULTS = ROOT / "bench" / "results" / "schemathesis.md"
BIN = os.path.dirname(sys.executable)
NOTES = "## Notes"


def prepare() -> str:
    """Migrate, load the demo, and return a fresh API token for priya."""
    environment.setup_django()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from registry.services import token_create

    call_command("migrate", interactive=False, verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("demo", stdout=quiet)  # builds the demo, or reuses it
    user = get_user_model().objects.get(username="priya")
    _ensure_target(get_user_model().objects.filter(is_superuser=True).first())
    _, secret = token_create(actor=user, name=f"schemathesis {dt.datetime.now():%H%M%S}")
    return secret


def _ensure_target(admin) -> None:
    """The deployment target the report examples name (argo-prod-eu, for every model), so
    that reports about the demo's models can succeed."""
    from registry.models import DeploymentTarget
    from registry.services import deployment_target_create

    if not DeploymentTarget.objects.filter(name="argo-prod-eu").exists():
        deployment_target_create(
            actor=admin,
            name="argo-prod-eu",
            environment="production",
            url="https://93.184.215.14/hooks",
            events=["test"],
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"the server did not answer {url}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args()

    secret = prepare()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [f"{BIN}/gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "4", "--timeout", "120"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(f"{base}/api/schema/?format=json")
        command = [
            f"{BIN}/schemathesis", "--config-file", str(ROOT / "schemathesis.toml"),
            "run", f"{base}/api/schema/?format=json",
            "--header", f"Authorization: Bearer {secret}",
            "--checks", "all",
            "--phases", "examples,coverage,fuzzing,stateful",
            "--max-examples", str(args.max_examples),
            "--seed", str(args.seed),
            "--workers", str(args.workers),
            "--generation-database", "none",
            "--request-timeout", "60",
            "--no-color",
        ]  # fmt: skip
        started = time.monotonic()
        run = subprocess.run(command, capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(run.stdout)
    print(run.stderr, file=sys.stderr)
    summary = run.stdout[run.stdout.rfind("SUMMARY") :] if "SUMMARY" in run.stdout else ""
    cases = re.search(r"Test cases:\s*\n?\s*(\d+) generated", run.stdout)
    failures = re.search(r"(\d+) unique failures?", run.stdout)
    # The hand-written notes after NOTES (history, what the configuration allows) stay.
    previous = RESULTS.read_text() if RESULTS.exists() else ""
    notes = previous[previous.find(NOTES) :] if NOTES in previous else ""
    RESULTS.write_text(
        "# Schemathesis against the running server\n\n"
        f"`python bench/schemathesis.py --max-examples {args.max_examples} "
        f"--workers {args.workers} --seed {args.seed}`, {dt.date.today()}, "
        f"{platform.python_version()}, {os.cpu_count()} CPUs.\n\n"
        "| cases | failures | time | exit code |\n|---:|---:|---:|---:|\n"
        f"| {cases.group(1) if cases else '?'} | "
        f"{failures.group(1) if failures else 0} | {elapsed:.0f} s | {run.returncode} |\n\n"
        "Schemathesis's summary:\n\n```\n"
        + summary.strip()
        + "\n```\n"
        + ("\n" + notes if notes else "")
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
