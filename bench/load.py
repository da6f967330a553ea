"""Load benchmark: the production server under concurrent clients and a slowloris attack.

    .venv/bin/python bench/load.py                      # gunicorn behind nginx, as documented
    .venv/bin/python bench/load.py --direct             # gunicorn alone, no proxy
    .venv/bin/python bench/load.py --workers 2 --threads 4 --output /tmp/load.md   # tuning

The database is DATABASE_URL (default postgres://postgres@127.0.0.1/mg_bench_load); it is
created, migrated and given the demo organisation (`manage.py demo`) if missing.

The server is started here exactly as the README documents it: `gunicorn -c
config/gunicorn.conf.py config.wsgi` (worker counts can be overridden for tuning), with
nginx in front running deploy/nginx/modelgate-proxy.conf (Debian's `nginx` or
`nginx-light` package) inside a minimal main configuration. Clients are closed loops in
one asyncio process, each on its own keep-alive connection: it sends a request, reads the
whole answer, and sends the next. They cycle through the pages a signed-in person reads
(catalog, a search, a model page, a version page) and the API (a search, a model) with a
session cookie or an API token. For each number of clients the run warms up, then counts
the answers completed in a fixed window: requests/second, latency percentiles, and every
answer that was not a 200 (or no answer) as an error.

Slowloris: 64 clients connect and trickle a request head byte by byte, never finishing
it, reconnecting whenever the server drops them; meanwhile one normal client measures its
latency, compared with the same client on an idle server.

The machine has 2 cores shared with other work: CPU busy and steal during each step and
the load average are recorded beside the figures, and each row is measured in rounds
interleaved with the others. Results go to bench/results/load.md.
"""

import argparse
import asyncio
import io
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import environment  # beside this script
from environment import percentile, python_speed
from loadclients import HOST, Step, Target, measure, merge, slowloris

environment.configure("mg_bench_load")
ROOT = environment.ROOT

RESULTS = ROOT / "bench" / "results" / "load.md"
READER = "priya"  # a demo data scientist: sees every model, edits her team's
TOKEN_NAME = "load benchmark"


# --- The data and the signed-in client ---------------------------------------------


def prepare() -> tuple[list[Target], str, dict]:
    """Migrate, load the demo if missing, sign in, create a token; the requests to send."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from registry.models import APIToken, RegisteredModel
    from registry.services import token_create, token_revoke

    call_command("migrate", interactive=False, verbosity=0)
    call_command("demo", stdout=io.StringIO())
    user = get_user_model().objects.get(username=READER)
    for old in APIToken.objects.filter(user=user, name=TOKEN_NAME, revoked_at__isnull=True):
        token_revoke(actor=user, token=old)
    token, secret = token_create(actor=user, name=TOKEN_NAME)
    browser = Client()
    browser.force_login(user)
    page = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}
    api = {"Authorization": f"Bearer {secret}"}

    models = list(RegisteredModel.objects.order_by("-last_version_number", "name")[:6])
    targets = []
    for i, model in enumerate(models):
        query = ["fraud", "ranking", "forecast", "churn", "vision", "speech"][i]
        targets += [
            Target("catalog", reverse("registry:catalog"), page),
            Target("model page", reverse("registry:model_detail", args=[model.name]), page),
            Target(
                "version page",
                reverse("registry:version_detail", args=[model.name, model.last_version_number]),
                page,
            ),
            Target("search", f"{reverse('registry:catalog')}?q={query}", page),
            Target("API search", f"{reverse('api:model-list')}?q={query}", api),
            Target("API model", reverse("api:model-detail", args=[model.name]), api),
        ]
    data = {
        "models": RegisteredModel.objects.count(),
        "versions": sum(m.last_version_number for m in RegisteredModel.objects.all()),
        "token": token,
        "user": user,
    }
    return targets, secret, data


# --- The server ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _wait_until_answering(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection((HOST, port), timeout=2) as sock:
                sock.sendall(b"GET /accounts/login/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                sock.settimeout(10)
                if sock.recv(12).startswith(b"HTTP/1."):
                    return
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit(f"server did not answer on port {port}: {log.read_text()[-2000:]}")


NGINX_MAIN = """\
worker_processes auto;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log {tmp}/nginx-access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream modelgate {{
        server {upstream};
    }}
    server {{
        listen {host}:{port};
        include snippets/modelgate-proxy.conf;
    }}
}}
"""


@contextmanager
def production_server(args):
    """gunicorn with config/gunicorn.conf.py, behind nginx with the sample proxy config
    (unless --direct); yields the port clients connect to."""
    tmp = Path(tempfile.mkdtemp(prefix="mg-load-"))
    tmp.chmod(0o755)  # nginx workers run as an unprivileged user
    processes = []
    try:
        app_port = _free_port()
        command = [
            sys.executable, "-m", "gunicorn", "-c", str(ROOT / "config" / "gunicorn.conf.py"),
            "--bind", f"{HOST}:{app_port}",
        ]  # fmt: skip
        if args.worker_class:
            command += ["--worker-class", args.worker_class]
        command.append("config.wsgi")
        env = {**os.environ, "MODELGATE_PROCESS": "web"}
        gunicorn_log = tmp / "gunicorn.log"
        processes.append(
            subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=gunicorn_log.open("w"), stderr=subprocess.STDOUT
            )
        )
        _wait_until_answering(app_port, processes[-1], gunicorn_log)
        if args.direct:
            yield app_port
            return
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            sys.exit("nginx is not installed (Debian: apt-get install nginx-light)")
        port = _free_port()
        (tmp / "snippets").symlink_to(ROOT / "deploy" / "nginx")
        conf = tmp / "nginx.conf"
        conf.write_text(
            NGINX_MAIN.format(tmp=tmp, host=HOST, port=port, upstream=f"{HOST}:{app_port}")
        )
        nginx_log = tmp / "nginx-error.log"
        processes.append(
            subprocess.Popen(
                [nginx, "-p", str(tmp), "-c", str(conf), "-e", str(nginx_log), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
        )
        _wait_until_answering(port, processes[-1], nginx_log)
        yield port
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(tmp, ignore_errors=True)


# --- The report ----------------------------------------------------------------------


def describe_server(args) -> str:
    from django.conf import settings

    parts = [
        f"{name}={os.environ[name]}"
        for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS")
        if name in os.environ
    ]
    parts.append("gunicorn -c config/gunicorn.conf.py")
    if args.worker_class:
        parts.append(f"--worker-class {args.worker_class}")
    conf = {}
    exec((ROOT / "config" / "gunicorn.conf.py").read_text(), conf)  # the documented defaults
    kind = args.worker_class or conf["worker_class"]
    workers = args.workers or conf["workers"]
    threads = args.threads or conf["threads"]
    shape = f"{workers} {kind} workers" + (
        f" x {threads} threads, {conf['worker_connections']} connections each, keep-alive "
        f"{conf['keepalive']} s, backlog {conf['backlog']}"
        if kind == "gthread"
        else ""
    )
    proxy = "no proxy" if args.direct else "behind nginx (deploy/nginx/modelgate-proxy.conf)"
    db = settings.DATABASES["default"]
    return (
        f"`{' '.join(parts)}` ({shape}), {proxy}; DATABASE_CONN_MAX_AGE="
        f"{db['CONN_MAX_AGE']}, health checks {'on' if db['CONN_HEALTH_CHECKS'] else 'off'}, "
        f"statement timeout {settings.DATABASE_STATEMENT_TIMEOUT} s"
    )


def write_report(args, data, steps: list[Step], slow: tuple[Step, Step] | None, notes) -> None:
    peak = max(steps, key=lambda s: s.throughput)
    last = steps[-1]
    lines = [
        "# Load benchmark",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `bench/load.py` on "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()} "
        f"(a 10-million-step Python loop took {notes['python_loop']:.2f} s); PostgreSQL on "
        f"the same host. Load average before the run: {notes['load_before']:.1f}.",
        "",
        f"Server: {describe_server(args)}.",
        "",
        f"Data: the demo organisation ({data['models']} models, {data['versions']} versions). "
        f"Each client cycles through {len(set(t.name for t in notes['targets']))} kinds of "
        "request on one keep-alive connection: signed-in pages (catalog, a catalog search, "
        "a model page, a version page) and the API with a token (a search, a model), over "
        "6 models and 6 search words. "
        f"Each row is {args.rounds} rounds of {args.warmup:g} s warm-up and "
        f"{args.duration / args.rounds:g} s counted ({args.duration:g} s in all), the rows' "
        "rounds interleaved (1, 4, 16, 32, 1, 4, ...) so that a change in the machine's other "
        "load falls on every row alike. The load column is the highest 1-minute load "
        "average seen at the end of a round.",
        "",
        "CPU busy and steal are for the whole machine during the counted window (the "
        "server, PostgreSQL, the load client and anything else running); client CPU is "
        "the load generator's own share of one core.",
        "",
        "| clients | req/s | p50 ms | p95 ms | p99 ms | errors | Little's-law p95 bound "
        "ms (1.5 x clients / req/s) | CPU busy | steal | load | client CPU |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in steps:
        bound = 1500 * s.clients / s.throughput if s.throughput else float("inf")
        lines.append(
            f"| {s.clients} | {s.throughput:.1f} | {s.ms(50):.0f} | {s.ms(95):.0f} | "
            f"{s.ms(99):.0f} | {len(s.errors)} | {bound:.0f} | {s.cpu_busy:.0f}% | "
            f"{s.steal:.0f}% | {s.load:.1f} | {s.client_cpu:.0f}% |"
        )
    errors = sum(len(s.errors) for s in steps)
    bound = 1500 * last.clients / last.throughput
    goals = [
        (
            f"throughput at {last.clients} clients within 10 % of the peak "
            f"({last.throughput:.1f} vs {peak.throughput:.1f} req/s at {peak.clients})",
            last.throughput >= 0.9 * peak.throughput,
        ),
        (f"0 errors ({errors})", errors == 0),
        (
            f"p95 at {last.clients} clients <= 1.5 x {last.clients} / throughput "
            f"({last.ms(95):.0f} ms vs {bound:.0f} ms)",
            last.ms(95) <= bound,
        ),
    ]
    if slow:
        idle, attacked = slow
        ratio = attacked.ms(95) / idle.ms(95)
        goals.append(
            (
                f"a normal client's p95 under slowloris <= 2 x its idle p95 "
                f"({attacked.ms(95):.0f} ms vs {idle.ms(95):.0f} ms: {ratio:.2f} x)",
                ratio <= 2 and not attacked.errors,
            )
        )
    lines += ["", "Goals:", ""]
    lines += [f"- {'met' if ok else 'NOT MET'}: {text}" for text, ok in goals]

    lines += [
        "",
        "## By kind of request",
        "",
        "| clients | " + " | ".join(f"{k} p50 / p95 ms" for k in notes["kinds"]) + " |",
        "|---:|" + "---:|" * len(notes["kinds"]),
    ]
    for s in steps:
        cells = []
        for kind in notes["kinds"]:
            times = [x.seconds for x in s.samples if x.kind == kind]
            cells.append(
                f"{1000 * statistics.median(times):.0f} / {1000 * percentile(times, 95):.0f}"
                if times
                else "-"
            )
        lines.append(f"| {s.clients} | " + " | ".join(cells) + " |")

    if slow:
        idle, attacked = slow
        stats = attacked.extra
        lines += [
            "",
            "## Slowloris",
            "",
            f"{args.slow_clients} clients each open a connection and send a request head one "
            f"byte every {args.trickle:g} s without ever finishing it, reconnecting whenever "
            "the server drops them. One normal client (same request mix, closed loop) runs "
            "on the idle server, then beside them.",
            "",
            "| normal client | requests | req/s | p50 ms | p95 ms | p99 ms | errors | "
            "slow connections open (mean) | slow connections made / dropped by the server |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| idle server | {len(idle.samples)} | {idle.throughput:.1f} | {idle.ms(50):.0f} | "
            f"{idle.ms(95):.0f} | {idle.ms(99):.0f} | {len(idle.errors)} | 0 | - |",
            f"| beside {args.slow_clients} slow clients | {len(attacked.samples)} | "
            f"{attacked.throughput:.1f} | {attacked.ms(50):.0f} | {attacked.ms(95):.0f} | "
            f"{attacked.ms(99):.0f} | {len(attacked.errors)} | {stats.get('held', 0):.0f} | "
            f"{stats.get('connections', 0)} / {stats.get('dropped', 0)} |",
        ]
    error_kinds = {}
    for s in steps + (list(slow) if slow else []):
        for e in s.errors:
            error_kinds[str(e.status)] = error_kinds.get(str(e.status), 0) + 1
    if error_kinds:
        lines += ["", "Errors by answer: " + ", ".join(f"{k}: {v}" for k, v in error_kinds.items())]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten to {args.output}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,4,16,32", help="comma-separated client counts")
    parser.add_argument("--duration", type=float, default=30, help="counted seconds per row")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds over the client counts, interleaved"
    )
    parser.add_argument("--warmup", type=float, default=3, help="uncounted seconds per row")
    parser.add_argument("--direct", action="store_true", help="no nginx in front")
    parser.add_argument("--workers", type=int, help="WEB_CONCURRENCY for gunicorn")
    parser.add_argument("--threads", type=int, help="GUNICORN_THREADS for gunicorn")
    parser.add_argument("--worker-class", help="override the gunicorn config")
    parser.add_argument("--slow-clients", type=int, default=64)
    parser.add_argument("--trickle", type=float, default=1.0, help="seconds between bytes")
    parser.add_argument("--no-slowloris", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    # The gunicorn configuration reads these (worker_connections follows the threads).
    if args.workers:
        os.environ["WEB_CONCURRENCY"] = str(args.workers)
    if args.threads:
        os.environ["GUNICORN_THREADS"] = str(args.threads)

    environment.setup_django()
    from registry.services import token_revoke

    targets, _, data = prepare()
    notes = {
        "python_loop": python_speed(),
        "load_before": os.getloadavg()[0],
        "targets": targets,
        "kinds": list(dict.fromkeys(t.name for t in targets)),
    }
    counts = [int(c) for c in args.clients.split(",")]
    try:
        with production_server(args) as port:

            async def run():
                rounds: dict[int, list[Step]] = {c: [] for c in counts}
                for _ in range(args.rounds):  # interleaved, so drifting load hits every row
                    for clients in counts:
                        step = await measure(
                            port, targets, clients, args.warmup, args.duration / args.rounds
                        )
                        print(
                            f"{clients:>3} clients: {step.throughput:6.1f} req/s, p95 "
                            f"{step.ms(95):5.0f} ms, {len(step.errors)} errors, CPU "
                            f"{step.cpu_busy:.0f}%, steal {step.steal:.0f}%, "
                            f"load {step.load:.1f}",
                            flush=True,
                        )
                        rounds[clients].append(step)
                steps = [merge(rounds[c]) for c in counts]
                slow = None if args.no_slowloris else await slowloris(port, targets, args)
                return steps, slow

            steps, slow = asyncio.run(run())
    finally:
        token_revoke(actor=data["user"], token=data["token"])
    write_report(args, data, steps, slow, notes)


if __name__ == "__main__":
    main()
