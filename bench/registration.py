"""Registration benchmark: versions registered per second through the production server.

    .venv/bin/python bench/registration.py                      # this checkout
    .venv/bin/python bench/registration.py --root /work/wt-before --root .   # before / after
    .venv/bin/python bench/registration.py --profile            # also an in-process profile

For each --root (a checkout of Modelgate; default this one) the bench drops and creates
its own PostgreSQL database (--database, mg_bench_registration by default, then _2, _3
for further roots; it never touches mg_bench),
migrates it and seeds --models models across four teams, one user who belongs to every
team and an API token, all with that checkout's code (a subprocess in the checkout).
It then starts that checkout's gunicorn exactly as deployed (config/gunicorn.conf.py,
DEBUG=0, 2 workers, the configured threads) on a free port, and registers versions over
HTTP with `POST /api/models/<name>/versions/` (JSON: label, framework, three metrics,
four hyper-parameters, a run id and a commit; no artifact):

- sequential, a new connection per call (`Connection: close`),
- sequential over one keep-alive connection (gunicorn's configuration closes it after
  each answer, keepalive = 0, so the client reconnects when told to; the reconnections
  are counted),
- 8 clients at once, each on its own connection and its own models.

Modes are interleaved across the roots (mode 1 on every root, then mode 2, ...) so that
the machine's load, shared with other work, hits each checkout alike. Reported: versions/s,
p50/p95 latency, errors (any answer but 201, or none), SQL statements per registration
(counted once per checkout in-process, through the same URL with Django's test client and
CaptureQueriesContext), the machine's load. Results go to bench/results/registration.md.
"""

import argparse
import http.client
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from environment import cpu_times, percentile, python_speed, steal_share  # noqa: E402

ROOT = HERE.parent
RESULTS = ROOT / "bench" / "results" / "registration.md"
HOST = "127.0.0.1"
USER = "bench-pipeline"
TEAMS = ["Payments Risk", "Search Relevance", "Computer Vision", "Demand Planning"]
CLIENTS = 8


def database_name(index: int, prefix: str = "mg_bench_registration") -> str:
    return prefix + (f"_{index + 1}" if index else "")


def database_url(name: str) -> str:
    base = os.environ.get("BENCH_DATABASE_BASE", "postgres://postgres@127.0.0.1:5432")
    return f"{base}/{name}"


def server_env(root: Path, db: str) -> dict:
    return {
        **os.environ,
        "PYTHONPATH": str(root),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(db),
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "MODELGATE_PROCESS": "web",
        "WEB_CONCURRENCY": "2",
    }


def body(number: int) -> dict:
    return {
        "label": f"1.{number // 1000}.{number % 1000}",
        "framework": "pytorch",
        "run_system": "mlflow",
        "run_id": f"run-{number:06d}",
        "code_commit": f"{number:040x}",
        "hyperparameters": {"lr": 0.001, "epochs": 20, "batch_size": 64, "optimizer": "adam"},
        "metrics": [
            {"name": "auc", "value": 0.9 + (number % 97) / 10000, "dataset": "test"},
            {"name": "f1", "value": 0.8, "dataset": "test"},
            {"name": "loss", "value": 0.12, "dataset": "validation", "higher_is_better": False},
        ],
    }


# --- Run inside a checkout (a subprocess): seed, count statements, profile -----------


def prepare(args) -> None:
    """Drop, create, migrate and seed this checkout's database; count the statements of
    one registration in-process; print a JSON line with the token and the model names."""
    import io

    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
    with psycopg.connect(
        host=cfg["HOST"] or HOST, port=cfg["PORT"] or 5432, user=cfg["USER"] or "postgres",
        dbname="postgres", autocommit=True,
    ) as conn:  # fmt: skip
        conn.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from registry.services import model_create, team_create, team_member_add, token_create

    call_command("migrate", interactive=False, verbosity=0, stdout=io.StringIO())
    users = get_user_model()
    admin = users.objects.create_superuser("bench-admin", "admin@example.com", "x" * 20)
    user = users.objects.create_user(USER, "pipeline@example.com", "x" * 20)
    teams = [team_create(actor=admin, name=name) for name in TEAMS]
    for team in teams:
        team_member_add(actor=admin, team=team, user=user)
    names = []
    for i in range(args.models):
        team = teams[i % len(teams)]
        model = model_create(
            actor=user,
            name=f"bench-model-{i:04d}",
            team=team,
            owner=user,
            description=f"Benchmark model {i} of {team.name}.",
            purpose="Measuring registration throughput.",
            license="proprietary",
            data_classification="internal",
            evaluation_coverage="Held-out test split.",
            risk_tier="low",
            tags=["bench", f"team-{i % len(teams)}"],
        )
        names.append(model.name)
    _, secret = token_create(actor=user, name="registration bench")

    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    spare = names[-1]  # warm one registration up, count the next, on a model no client uses
    url = f"/api/models/{spare}/versions/"
    client.post(url, body(900001), content_type="application/json", **auth)
    with CaptureQueriesContext(connection) as captured:
        response = client.post(url, body(900002), content_type="application/json", **auth)
    if response.status_code != 201:
        sys.exit(f"in-process registration answered {response.status_code}: {response.content}")
    statements = [q["sql"] for q in captured.captured_queries]
    profile = ""
    if args.profile:
        profile = _profile(client, url, auth)
    print(
        "BENCH-PREPARED "
        + json.dumps(
            {"token": secret, "models": names[:-1], "statements": statements, "profile": profile}
        )
    )


def _profile(client, url, auth) -> str:
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    started = time.perf_counter()
    for n in range(200):
        profiler.enable()
        client.post(url, body(910000 + n), content_type="application/json", **auth)
        profiler.disable()
    elapsed = time.perf_counter() - started
    out = io.StringIO()
    out.write(f"200 registrations in-process: {elapsed * 5:.1f} ms each (under cProfile)\n")
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(45)
    return out.getvalue()


# --- The server ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(root: Path, db: str):
    port = free_port()
    log = tempfile.NamedTemporaryFile("w+", prefix="mg-regbench-", suffix=".log", delete=False)
    command = [
        sys.executable, "-m", "gunicorn", "-c", str(root / "config" / "gunicorn.conf.py"),
        "--bind", f"{HOST}:{port}", "--access-logfile", "/dev/null", "config.wsgi",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=root, env=server_env(root, db), stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection(HOST, port, timeout=5)
                conn.request("GET", "/accounts/login/")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"gunicorn did not start: {Path(log.name).read_text()[-2000:]}")
                time.sleep(0.3)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        os.unlink(log.name)


# --- The clients ---------------------------------------------------------------------


class Counter:
    def __init__(self, start: int):
        self._next = start
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            self._next += 1
            return self._next


def register_loop(port, token, models, count, numbers, keep_alive, latencies, errors, connects):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if not keep_alive:
        headers["Connection"] = "close"
    conn = None
    for i in range(count):
        model = models[i % len(models)]
        payload = json.dumps(body(numbers.take()))
        if conn is None:
            conn = http.client.HTTPConnection(HOST, port, timeout=60)
            connects.append(1)
        started = time.perf_counter()
        try:
            conn.request("POST", f"/api/models/{model}/versions/", payload, headers)
            response = conn.getresponse()
            answer = response.read()
            latencies.append(time.perf_counter() - started)
            if response.status != 201:
                errors.append(f"{response.status}: {answer[:200]!r}")
            if not keep_alive or response.will_close:
                conn.close()
                conn = None
        except OSError as exc:
            latencies.append(time.perf_counter() - started)
            errors.append(f"{type(exc).__name__}: {exc}")
            conn.close()
            conn = None
    if conn is not None:
        conn.close()


class WaitSampler(threading.Thread):
    """Samples the server's PostgreSQL backends every few milliseconds: how many run a
    statement, and what the running ones wait on (a row lock on the audit chain head,
    another lock, the WAL flush of a commit, the client, the CPU)."""

    def __init__(self, db: str):
        super().__init__(daemon=True)
        self.db, self.stop, self.samples = db, threading.Event(), []

    def run(self):
        import psycopg

        base = os.environ.get("BENCH_DATABASE_BASE", "postgres://postgres@127.0.0.1:5432")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            while not self.stop.is_set():
                rows = conn.execute(
                    "SELECT coalesce(wait_event_type, 'CPU'), coalesce(wait_event, ''), query "
                    "FROM pg_stat_activity WHERE datname = %s AND state = 'active' "
                    "AND backend_type = 'client backend'",
                    [self.db],
                ).fetchall()
                self.samples.append(rows)
                time.sleep(0.005)

    def summary(self) -> dict:
        count = max(1, len(self.samples))
        kinds: dict[str, int] = {}
        for rows in self.samples:
            for kind, event, query in rows:
                if kind == "Lock" and "audit_chain" in query:
                    name = "chain head lock"
                elif kind == "Lock":
                    name = f"other lock ({event})"
                elif kind == "IO" and event.startswith("WAL"):
                    name = "WAL flush"
                else:
                    name = "running" if kind == "CPU" else f"{kind}:{event}"
                kinds[name] = kinds.get(name, 0) + 1
        return {name: n / count for name, n in sorted(kinds.items(), key=lambda x: -x[1])}


def run_mode(
    mode: str, port: int, token: str, models: list[str], count: int, numbers, db: str = ""
) -> dict:
    latencies, errors, connects = [], [], []
    sampler = WaitSampler(db) if db else None
    if sampler:
        sampler.start()
    before_cpu, load_before = cpu_times(), os.getloadavg()[0]
    started = time.perf_counter()
    if mode == "concurrent":
        per_client = count // CLIENTS
        threads = [
            threading.Thread(
                target=register_loop,
                args=(
                    port,
                    token,
                    models[c::CLIENTS],
                    per_client,
                    numbers,
                    True,
                    latencies,
                    errors,
                    connects,
                ),
            )  # fmt: skip
            for c in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        keep_alive = mode == "keep-alive"
        register_loop(port, token, models, count, numbers, keep_alive, latencies, errors, connects)
    elapsed = time.perf_counter() - started
    if sampler:
        sampler.stop.set()
        sampler.join()
    done = len(latencies)
    return {
        "waits": sampler.summary() if sampler else {},
        "done": done,
        "rate": (done - len(errors)) / elapsed,
        "p50": percentile(latencies, 50) * 1000,
        "p95": percentile(latencies, 95) * 1000,
        "errors": errors,
        "connects": len(connects),
        "steal": steal_share(before_cpu, cpu_times()),
        "load": f"{load_before:.2f} / {os.getloadavg()[0]:.2f}",
    }


MODES = {
    "new-connection": "sequential, new connection per call",
    "keep-alive": "sequential, keep-alive client",
    "concurrent": f"{CLIENTS} concurrent clients, different models",
}


def main(args) -> None:
    roots = [Path(r).resolve() for r in (args.root or [str(ROOT)])]
    prepared = []
    for index, root in enumerate(roots):
        db = database_name(index, args.database)
        started = time.monotonic()
        command = [sys.executable, str(Path(__file__).resolve()), "--prepare",
                   "--models", str(args.models + 1)]  # fmt: skip
        if args.profile:
            command.append("--profile")
        out = subprocess.run(
            command, cwd=root, env=server_env(root, db), capture_output=True, text=True
        )
        line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH-PREPARED ")), "")
        if out.returncode or not line:
            sys.exit(f"preparing {root} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
        data = json.loads(line.removeprefix("BENCH-PREPARED "))
        data.update(root=root, db=db, seconds=time.monotonic() - started, git=_git(root))
        prepared.append(data)
        print(f"{root}: seeded {db} in {data['seconds']:.0f} s, "
              f"{len(data['statements'])} statements per registration")  # fmt: skip

    results = {i: {} for i in range(len(roots))}
    numbers = Counter(0)
    with ExitStack() as stack:
        ports = [stack.enter_context(gunicorn(p["root"], p["db"])) for p in prepared]
        for index, port in enumerate(ports):  # warm the workers up (imports, connections)
            run_mode("concurrent", port, prepared[index]["token"], prepared[index]["models"],
                     CLIENTS * 4, numbers)  # fmt: skip
        for mode in MODES:
            for index, port in enumerate(ports):
                result = run_mode(
                    mode, port, prepared[index]["token"], prepared[index]["models"],
                    args.count, numbers, prepared[index]["db"],
                )  # fmt: skip
                results[index][mode] = result
                print(f"{prepared[index]['root']} {mode}: {result['rate']:.1f}/s "
                      f"p50 {result['p50']:.0f} ms p95 {result['p95']:.0f} ms "
                      f"errors {len(result['errors'])}")  # fmt: skip
    write(args, prepared, results)


def _git(root: Path) -> str:
    out = subprocess.run(
        ["git", "log", "-1", "--format=%h %s"], cwd=root, capture_output=True, text=True
    )
    return out.stdout.strip()[:90]


def write(args, prepared, results) -> None:
    now = datetime.now(UTC)
    cpus = os.cpu_count()
    lines = [
        "# Registration benchmark",
        "",
        f"Run {now:%Y-%m-%d %H:%M} UTC with `bench/registration.py "
        f"{' '.join(sys.argv[1:])}`.".replace(" `", "`", 0),
        "",
        f"Machine: {platform.system()} {platform.release()} {platform.machine()}, {cpus} CPUs, "
        f"Python {platform.python_version()} (10M-iteration loop {python_speed():.2f} s); "
        f"PostgreSQL and the clients on the same host. Load average at the end: "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}.",
        "",
        "Server: gunicorn with each checkout's config/gunicorn.conf.py, DEBUG=0, "
        "WEB_CONCURRENCY=2, directly (no proxy). Each registration: JSON with label, "
        "framework, run id, commit, 4 hyper-parameters and 3 metrics, no artifact, on "
        f"{args.models} seeded models in {len(TEAMS)} teams, by a team member's API token. "
        f"{args.count} registrations per row (the {CLIENTS} clients share them, each on its "
        "own models); the modes are interleaved across checkouts.",
        "",
        "| checkout | mode | versions/s | p50 ms | p95 ms | errors | connections | "
        "load 1-min (start / end) | steal |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for index, data in enumerate(prepared):
        for mode, title in MODES.items():
            r = results[index][mode]
            lines.append(
                f"| {data['root'].name} | {title} | {r['rate']:.1f} | {r['p50']:.0f} | "
                f"{r['p95']:.0f} | {len(r['errors'])} | {r['connects']} | {r['load']} | "
                f"{r['steal']} |"
            )
    lines += ["", "| checkout | commit | SQL statements per registration |", "|---|---|---:|"]
    for data in prepared:
        lines.append(f"| {data['root']} | {data['git']} | {len(data['statements'])} |")
    lines += [
        "",
        "What the server's PostgreSQL backends were doing, sampled every ~5 ms during each "
        "row (mean number of backends per sample, by state; a backend waiting on the "
        "audit chain head's row lock shows as 'chain head lock'):",
        "",
        "| checkout | mode | backends: state (mean) |",
        "|---|---|---|",
    ]
    for index, data in enumerate(prepared):
        for mode, title in MODES.items():
            waits = results[index][mode]["waits"]
            shown = ", ".join(f"{name} {share:.2f}" for name, share in waits.items())
            lines.append(f"| {data['root'].name} | {title} | {shown} |")
    for index, data in enumerate(prepared):
        errors = [e for mode in MODES for e in results[index][mode]["errors"]]
        if errors:
            lines += ["", f"Errors on {data['root'].name} (first 5):", ""]
            lines += [f"- `{e}`" for e in errors[:5]]
    for data in prepared:
        lines += ["", f"<details><summary>Statements of one registration, {data['root']}"
                  "</summary>", "", "```sql"]  # fmt: skip
        lines += [s[:300] for s in data["statements"]]
        lines += ["```", "", "</details>"]
        if data["profile"]:
            lines += ["", f"<details><summary>cProfile, {data['root']}</summary>", "", "```"]
            lines += [data["profile"].rstrip(), "```", "", "</details>"]
    output = Path(args.output) if args.output else RESULTS
    notes = ""
    if output.exists():
        old = output.read_text()
        marker = "## Notes"
        if marker in old:
            notes = old[old.index(marker) :]
    output.write_text("\n".join(lines) + "\n" + ("\n" + notes if notes else ""))
    print(f"wrote {output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", action="append", help="a checkout to serve (repeatable)")
    parser.add_argument("--models", type=int, default=300)
    parser.add_argument("--count", type=int, default=400, help="registrations per mode")
    parser.add_argument("--profile", action="store_true", help="cProfile 200 in-process")
    parser.add_argument("--output")
    parser.add_argument(
        "--database",
        default="mg_bench_registration",
        help="name of the first checkout's database (then _2, _3, ...); dropped and re-created",
    )
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.prepare:
        prepare(parsed)
    else:
        main(parsed)
