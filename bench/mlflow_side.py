"""Side by side with MLflow: Modelgate's production server and MLflow's own tracking
server, both on this machine, over the same catalog, timed by one client in the same run.

    .venv/bin/python bench/mlflow_side.py
    .venv/bin/python bench/mlflow_side.py --modelgate-root /work/wt-before --label before \\
        --modelgate-root . --label after          # two checkouts, one run, one table

MLflow's server is installed into a venv outside the repository when missing (default
/work/.mlflow-venv: the newest MLflow 3.x pip can install) and serves its model registry
from PostgreSQL database mg_bench_mlflow, which MLflow creates the schema of and this
script fills with Modelgate's bench catalog (database mg_bench, seeded by
`bench/catalog.py --seed-only`): the same model names, versions, descriptions, tags,
sources and run ids (bench/mlflow_store.py). mg_bench is only read, except for a bench
user with an API token and a session.

Servers: `mlflow server --workers 2` (uvicorn, its default; with a 60 s worker health
check instead of 5 s, which a busy worker misses on a loaded machine) and, for each
--modelgate-root, `gunicorn -c config/gunicorn.conf.py config.wsgi` with 2 workers
(WEB_CONCURRENCY=2; the config's threads) and DEBUG off. The gunicorn config closes
every connection (keepalive 0: nginx keeps the clients' connections in production); here
it gets --keep-alive 5 and --worker-connections 16 (gthread keeps alive only connections
beyond one per thread) so that the keep-alive column means the same on both sides.

Calls (the same names, versions, pages and words on both sides):
- one version: Modelgate's API and its version page (signed in) vs MLflow's
  `model-versions/get`;
- a page of 100 versions of the 10,000-version model (random pages): Modelgate's API
  version list with per_page=100 vs MLflow's `model-versions/search` with max_results=100
  (its page_token is the offset);
- a search: Modelgate's API with ?q=<word>&per_page=25 (full text over name, description,
  purpose, tags and card) vs MLflow's `registered-models/search` with
  `name LIKE '%<word>%'` and max_results=25 (its filters compare fields; it has no
  full-text search);
- the 10,000-version model: Modelgate's API model and its model page vs MLflow's
  `registered-models/get`.

Each call is timed from connect to the last byte, once with a new connection per call
(Connection: close) and once on a kept-alive connection. Rows are measured in rounds,
in shuffled order, so a change in the machine's other load falls on both servers alike.
SQL statements per Modelgate call, and the time they take, are counted in-process
(bench/mlflow_side_probe.py, with the checkout's own code). The script measures and
reports; it checks nothing. Results go to bench/results/mlflow_side.md.
"""

import argparse
import base64
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

import environment  # beside this script
import mlflow_store
from environment import cpu_times, percentile, python_speed, steal_share

environment.configure("mg_bench")
ROOT = environment.ROOT
HOST = "127.0.0.1"
RESULTS = ROOT / "bench" / "results" / "mlflow_side.md"
MLFLOW_DB = "postgresql://postgres@127.0.0.1/mg_bench_mlflow"
CATALOG_DB = "postgresql://postgres@127.0.0.1/mg_bench"
BENCH_USER = "bench-mlflow-side"
TOKEN_NAME = "mlflow side-by-side bench"
MLFLOW_API = "/api/2.0/mlflow"
WORKERS = 2
# Words from bench/catalog.py's QUERIES that occur in the synthetic models' names, so
# that MLflow's name-only search finds something too.
WORDS = ["fraud", "churn", "bert", "moderation", "speech", "sentiment", "pricing", "translation"]
PAGE_SIZE = 100
SEARCH_SIZE = 25


@dataclass
class Row:
    """One kind of call to one server, and what was measured."""

    kind: str  # the comparison it belongs to: "version", "page", "search", "big"
    server: str  # "MLflow" or a Modelgate label
    call: str
    port: int
    urls: list[str]
    headers: dict[str, str] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=lambda: {"new": [], "keep": []})
    errors: list[str] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    items: list[int] = field(default_factory=list)
    reconnects: int = 0
    probe: dict = field(default_factory=dict)


# --- The catalog, the bench user ------------------------------------------------------


def wait_for_catalog(big_model_versions: int) -> None:
    """Wait while `bench/catalog.py --seed-only` runs (another process may be filling
    mg_bench), then check the catalog is there: its big model is loaded last."""
    import psycopg

    def seeding() -> bool:
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                args = cmdline.read_bytes().split(b"\0")
            except OSError:
                continue
            if any(a.endswith(b"catalog.py") for a in args) and b"--seed-only" in args:
                return True
        return False

    while seeding():
        print("bench/catalog.py is running (seeding mg_bench?); waiting ...", flush=True)
        time.sleep(15)
    with psycopg.connect(CATALOG_DB) as conn:
        big = conn.execute("SELECT max(last_version_number) FROM registry_registeredmodel")
        if (big.fetchone()[0] or 0) < big_model_versions:
            sys.exit(
                "mg_bench has no model with "
                f"{big_model_versions:,} versions: run bench/catalog.py --seed-only"
            )


def sign_in() -> dict:
    """A plain signed-in user (no team: reads every model, edits none) with an API
    token and a session; written to mg_bench through Modelgate's own code."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from registry.models import APIToken
    from registry.services import token_create, token_revoke

    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    for old in APIToken.objects.filter(user=user, name=TOKEN_NAME, revoked_at__isnull=True):
        token_revoke(actor=user, token=old)
    token, secret = token_create(actor=user, name=TOKEN_NAME)
    browser = Client()
    browser.force_login(user)
    return {
        "user": user,
        "token": token,
        "api": {"Authorization": f"Bearer {secret}"},
        "session": browser.cookies["sessionid"].value,
    }


def sign_out(auth: dict) -> None:
    from django.contrib.sessions.models import Session

    from registry.services import token_revoke

    token_revoke(actor=auth["user"], token=auth["token"])
    Session.objects.filter(session_key=auth["session"]).delete()


def sample(args) -> dict:
    """The versions, pages and words both servers are asked for."""
    from registry.models import ModelVersion, RegisteredModel

    rng = random.Random(11)
    big = RegisteredModel.objects.order_by("-last_version_number").first()
    max_id = RegisteredModel.objects.order_by("-pk").values_list("pk", flat=True).first()
    ids = [rng.randint(1, max_id) for _ in range(300)]
    versions = list(
        ModelVersion.objects.filter(model_id__in=ids, model__last_version_number__lt=1000)
        .order_by("model_id", "number")
        .values_list("model__name", "number")
    )
    rng.shuffle(versions)
    pages = rng.sample(range(1, big.last_version_number // PAGE_SIZE + 1), 40)
    return {"versions": versions[:100], "big": big.name, "pages": pages, "words": WORDS}


def dataset_size() -> dict:
    from registry.models import ModelVersion, RegisteredModel

    return {"models": RegisteredModel.objects.count(), "versions": ModelVersion.objects.count()}


# --- The rows -------------------------------------------------------------------------


def mlflow_rows(port: int, s: dict) -> list[Row]:
    def url(endpoint, **params):
        return f"{MLFLOW_API}/{endpoint}?{urlencode(params)}"

    def page_token(page):
        offset = (page - 1) * PAGE_SIZE
        # MLflow's SearchUtils.create_page_token: base64 of {"offset": n}.
        return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()

    pages = [
        url("model-versions/search", filter=f"name='{s['big']}'", max_results=PAGE_SIZE)
        + (f"&page_token={quote(page_token(p))}" if p > 1 else "")
        for p in s["pages"]
    ]
    return [
        Row("version", "MLflow", "`model-versions/get`", port,
            [url("model-versions/get", name=n, version=v) for n, v in s["versions"]]),
        Row("page", "MLflow", "`model-versions/search` max_results=100", port, pages),
        Row("search", "MLflow", "`registered-models/search` name LIKE, max_results=25", port,
            [url("registered-models/search", filter=f"name LIKE '%{w}%'",
                 max_results=SEARCH_SIZE) for w in s["words"]]),
        Row("big", "MLflow", "`registered-models/get`", port,
            [url("registered-models/get", name=s["big"])]),
    ]  # fmt: skip


def modelgate_rows(label: str, port: int, s: dict, auth: dict) -> list[Row]:
    api, page = auth["api"], {"Cookie": f"sessionid={auth['session']}"}
    big = quote(s["big"])
    return [
        Row("version", label, "API version", port,
            [f"/api/models/{quote(n)}/versions/{v}/" for n, v in s["versions"]], api),
        Row("version", label, "version page (HTML)", port,
            [f"/models/{quote(n)}/v/{v}/" for n, v in s["versions"]], page),
        Row("page", label, "API versions, per_page=100", port,
            [f"/api/models/{big}/versions/?per_page={PAGE_SIZE}&page={p}" for p in s["pages"]],
            api),
        Row("search", label, "API search ?q=, per_page=25", port,
            [f"/api/models/?{urlencode({'q': w, 'per_page': SEARCH_SIZE})}"
             for w in s["words"]], api),
        Row("big", label, "API model", port, [f"/api/models/{big}/"], api),
        Row("big", label, "model page (HTML)", port, [f"/models/{big}/"], page),
    ]  # fmt: skip


# --- The servers ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def get(port: int, url: str, headers: dict, conn=None) -> tuple[int, bytes, bool]:
    """One GET; (status, body, whether the server keeps the connection open)."""
    own = conn is None
    conn = conn or http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        conn.request("GET", url, headers={**headers, **({"Connection": "close"} if own else {})})
        response = conn.getresponse()
        return response.status, response.read(), not response.will_close
    finally:
        if own:
            conn.close()


def wait_until_answering(port: int, path: str, process, log: Path, timeout=300) -> None:
    """Until several answers in a row come back 200: a loaded machine boots workers
    slowly, and uvicorn restarts a worker that is slow to report in."""
    deadline, good = time.monotonic() + timeout, 0
    while good < 2 * WORKERS + 2:
        if process.poll() is not None:
            sys.exit(f"server exited: {log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            sys.exit(f"server did not answer on port {port}: {log.read_text()[-3000:]}")
        try:
            status, _, _ = get(port, path, {})
            good = good + 1 if status == 200 else 0
        except OSError:
            good = 0
            time.sleep(1)


@contextmanager
def server(name: str, command: list[str], cwd: Path, env: dict, ready: str, tmp: Path):
    port = free_port()
    log = tmp / f"{name}.log"
    command = [c.replace("{port}", str(port)) for c in command]
    # A session of its own, so that stopping it stops its workers too.
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_until_answering(port, ready, process, log)
        print(f"{name} answers on port {port}", flush=True)
        yield port, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def modelgate_python(root: Path) -> str:
    venv = root / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def check_migrated(root: Path) -> None:
    """Refuse to serve a checkout whose migrations mg_bench lacks (its pages would fail):
    this script only reads the catalog."""
    done = subprocess.run(
        [modelgate_python(root), "manage.py", "migrate", "--check", "--plan"],
        cwd=root,
        env={**os.environ, "DEBUG": "0"},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(
            f"{os.environ['DATABASE_URL']} lacks migrations of {root}:\n{done.stdout[-1500:]}"
            f"{done.stderr[-1500:]}\nMigrate it first, e.g. `.venv/bin/python "
            "bench/catalog.py --seed-only` in that checkout (it migrates, and seeds only "
            "what is missing)."
        )


def modelgate_server(root: Path, label: str, tmp: Path):
    env = {
        **os.environ,
        "DEBUG": "0",
        "MODELGATE_PROCESS": "web",
        "WEB_CONCURRENCY": str(WORKERS),
        "DATABASE_URL": os.environ["DATABASE_URL"],
    }
    command = [
        modelgate_python(root), "-m", "gunicorn", "-c", "config/gunicorn.conf.py",
        "--bind", f"{HOST}:{{port}}", "--keep-alive", "5",
        # gthread keeps alive only the connections beyond one per thread.
        "--worker-connections", "16", "config.wsgi",
    ]  # fmt: skip
    return server(f"modelgate-{label}", command, root, env, "/accounts/login/", tmp)


def mlflow_server(venv: Path, tmp: Path):
    command = [
        str(venv / "bin" / "mlflow"), "server", "--backend-store-uri", MLFLOW_DB,
        "--default-artifact-root", str(tmp / "mlflow-artifacts"),
        "--host", HOST, "--port", "{port}", "--workers", str(WORKERS),
        # uvicorn kills a worker that does not answer its supervisor's ping within 5 s;
        # on a loaded 2-core machine a worker busy with the 10,000-version model misses
        # it, and the call in flight fails. Measure the requests, not that.
        "--uvicorn-opts", "--timeout-worker-healthcheck 60",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG")}
    return server("mlflow", command, tmp, env, "/health", tmp)


# --- Measuring ------------------------------------------------------------------------


def count_items(body: bytes) -> int | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    for key in ("results", "model_versions", "registered_models"):
        if key in data:
            return len(data[key])
    return None


def call(row: Row, url: str, conn: http.client.HTTPConnection | None) -> bool:
    """Time one call (on `conn`, or on a new connection); False if the server closed
    `conn`."""
    started = time.perf_counter()
    try:
        status, body, still_open = get(row.port, url, row.headers, conn)
    except (OSError, http.client.HTTPException) as error:
        row.errors.append(f"{url} -> {error!r}")
        return False
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200:
        row.errors.append(f"{url} -> {status}")
        return still_open
    row.samples["keep" if conn else "new"].append(elapsed)
    row.sizes.append(len(body))
    if url.startswith("/api/") and len(row.items) < 50:
        items = count_items(body)
        if items is not None:
            row.items.append(items)
    return still_open


def block(row: Row, urls: list[str], variant: str) -> None:
    """`urls` in a row; kept alive: on one connection, opened before the clock starts
    (and opened again, counted, only if the server drops it)."""
    conn = None
    for url in urls:
        if variant == "keep" and conn is None:
            conn = http.client.HTTPConnection(HOST, row.port, timeout=120)
            conn.connect()
            row.reconnects += 1
        if not call(row, url, conn) and conn is not None:
            conn.close()
            conn = None
    if conn is not None:
        conn.close()


def measure(rows: list[Row], args) -> None:
    rng = random.Random(5)
    per_round = max(1, args.calls // args.rounds)
    for row in rows:  # warm-up: connections, caches, compiled templates, both variants
        for variant in ("new", "keep"):
            block(row, [row.urls[i % len(row.urls)] for i in range(args.warmup // 2)], variant)
        row.samples = {"new": [], "keep": []}
        row.sizes, row.items, row.reconnects = [], [], 0
    position = {id(row): 0 for row in rows}
    for r in range(args.rounds):
        started = time.monotonic()
        for variant in ("new", "keep"):
            order = rows[:]
            rng.shuffle(order)
            for row in order:
                at = position[id(row)]
                position[id(row)] += per_round
                block(
                    row, [row.urls[i % len(row.urls)] for i in range(at, at + per_round)], variant
                )
        print(
            f"round {r + 1}/{args.rounds}: {time.monotonic() - started:.0f} s, "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )


def probe(root: Path, rows: list[Row], auth: dict, args) -> dict:
    """SQL statements and time per Modelgate call, in-process with `root`'s code."""
    job = {
        "rows": {row.call: row.urls for row in rows},
        "headers": {row.call: row.headers for row in rows if "Authorization" in row.headers},
        "session": auth["session"],
        "profile": ["API version", "API versions, per_page=100"] if args.profile else [],
        "profile_calls": 100,
    }
    done = subprocess.run(
        [modelgate_python(root), str(Path(__file__).with_name("mlflow_side_probe.py")), root],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        cwd=root,
    )
    if done.returncode != 0:
        print(f"probe failed for {root}: {done.stderr[-2000:]}")
        return {"rows": {}, "profiles": {}}
    result = json.loads(done.stdout)
    for row in rows:
        row.probe = result["rows"].get(row.call, {})
    return result


# --- The report -----------------------------------------------------------------------


def describe_checkout(root: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), "log", "-1", "--format=%h %s"], capture_output=True, text=True
    )
    return done.stdout.strip()[:80] or "?"


def fmt(values: list[float], pct: float) -> str:
    return f"{percentile(values, pct):.1f}" if values else "-"


def ratio(mine: list[float], theirs: list[float], pct: float) -> str:
    if not mine or not theirs:
        return "-"
    return f"{percentile(mine, pct) / percentile(theirs, pct):.2f}"


def queries(row: Row) -> str:
    low, high = row.probe.get("queries", (None, None))
    if low is None:
        return "-"
    return f"{low}" if low == high else f"{low}-{high}"


def timing_table(rows: list[Row], variant: str) -> list[str]:
    lines = [
        "| call | server | p50 ms | p95 ms | Modelgate / MLflow at p50 | at p95 |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for kind in ("version", "page", "search", "big"):
        reference = next(r for r in rows if r.kind == kind and r.server == "MLflow")
        theirs = reference.samples[variant]
        lines.append(
            f"| {reference.call} | MLflow | {fmt(theirs, 50)} | {fmt(theirs, 95)} | 1 | 1 |"
        )
        for row in rows:
            if row.kind == kind and row is not reference:
                mine = row.samples[variant]
                lines.append(
                    f"| {row.call} | Modelgate {row.server} | {fmt(mine, 50)} | "
                    f"{fmt(mine, 95)} | {ratio(mine, theirs, 50)} | {ratio(mine, theirs, 95)} |"
                )
    return lines


def write_report(rows: list[Row], roots: dict, notes: dict, args) -> None:
    import gunicorn
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    size = notes["size"]
    checkouts = "; ".join(f"{label}: `{describe_checkout(root)}`" for label, root in roots.items())
    lines = [
        "# Modelgate beside MLflow's server",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/mlflow_side.py` on "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"PostgreSQL {pg_version} (same host, default settings), MLflow "
        f"{notes['mlflow_version']}, gunicorn {gunicorn.__version__}. Load average "
        f"{notes['load_before']:.1f} before and {os.getloadavg()[0]:.1f} after the "
        f"measurements (anything above the CPU count means other work competed for the "
        f"machine); CPU steal during them: {notes['steal']}; a 10-million-step Python loop "
        f"took {notes['python_loop']:.2f} s.",
        "",
        f"Catalog: {size['models']:,} models, {size['versions']:,} versions (Modelgate's "
        "bench database mg_bench, from `bench/catalog.py --seed-only`), copied into MLflow's "
        "registry tables with the same names, version numbers, descriptions, sources, run "
        "ids, user and a few tags (the model's labels and team, each version's framework "
        "and label)"
        + (f"; the copy took {notes['seed_seconds']:.0f} s" if "seed_seconds" in notes else "")
        + ".",  # noqa: E501
        "",
        f"Servers, {WORKERS} workers each: `mlflow server --backend-store-uri "
        f"postgresql://.../mg_bench_mlflow --workers {WORKERS} --uvicorn-opts "
        "'--timeout-worker-healthcheck 60'` (uvicorn, its default server; the longer health "
        "check keeps uvicorn from killing a worker busy on a loaded machine); Modelgate "
        f"({checkouts}) as `gunicorn -c config/gunicorn.conf.py` with WEB_CONCURRENCY="
        f"{WORKERS}, DEBUG off, and `--keep-alive 5 --worker-connections 16` (the config "
        "closes every connection, as nginx keeps the clients' in production; gthread keeps "
        "alive only connections beyond one per thread). The API is called with a token, "
        "the pages with a session, as a signed-in user in no team.",
        "",
        f"One client, one call at a time: {args.calls} timed calls per row and connection "
        f"kind after {args.warmup} warm-up calls, in {args.rounds} rounds with the rows "
        "shuffled in each, so that the machine's other load falls on both servers alike. "
        "Time from connect to the last byte of the body. The same versions (100 of models "
        "with 10 versions), pages (40 random pages of the 10,000-version model), and words "
        f"({', '.join(WORDS)}) on both sides. MLflow's page of versions is sorted its "
        "default way (last updated, newest first); Modelgate's by number, newest first. "
        "Its search is a LIKE on the name (its filters compare fields: no full-text "
        "search); Modelgate's is a full-text search over name, description, purpose, tags "
        "and model card.",
        "",
        "## A new connection per call",
        "",
        *timing_table(rows, "new"),
        "",
        "## One kept-alive connection",
        "",
        *timing_table(rows, "keep"),
        "",
        "## What each call returns, and Modelgate's SQL",
        "",
        "SQL statements per Modelgate call and their time are counted in-process "
        "(`bench/mlflow_side_probe.py`, Django's test client with the checkout's own code, "
        "same database and settings) over up to 20 of the row's URLs; *in-process ms* is "
        "that request's whole server-side time there.",
        "",
        "| call | server | answer bytes (median) | items per answer | SQL statements | "
        "in-process ms (p50) | of which SQL ms | errors |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        items = sorted(set(row.items))
        if not items:
            items_text = "-"
        else:
            items_text = str(items[0]) if len(items) == 1 else f"{items[0]}-{items[-1]}"
        probe = row.probe
        in_process = f"{probe['ms']:.1f}" if probe else "-"
        in_sql = f"{probe['sql_ms']:.1f}" if probe else "-"
        server_name = "MLflow" if row.server == "MLflow" else f"Modelgate {row.server}"
        errors = f"{len(row.errors)} (e.g. {row.errors[0]})" if row.errors else "0"
        size = statistics.median(row.sizes) if row.sizes else 0
        lines.append(
            f"| {row.call} | {server_name} | {size:,.0f} | {items_text} | {queries(row)} | "
            f"{in_process} | {in_sql} | {errors} |"
        )
    opened: dict[str, int] = {}
    for row in rows:
        opened[row.server] = opened.get(row.server, 0) + row.reconnects
    lines += [
        "",
        "Connections the keep-alive client opened, one per row and round unless the "
        f"server dropped one ({args.rounds} per row means none was dropped): "
        + ", ".join(
            f"{server}: {n} for {sum(r.server == server for r in rows)} rows"
            for server, n in opened.items()
        )
        + ".",
    ]
    restarts = notes.get("restarts", {})
    if any(restarts.values()):
        lines += [
            "",
            "Worker restarts during the run (from the servers' logs): "
            + ", ".join(f"{k}: {v}" for k, v in restarts.items()),
        ]
    lines += [
        "",
        "Issue 11 asks: the version detail (API and page) in at most 3 queries with a p50 "
        "below MLflow's `model-versions/get`, and a page of 100 versions over the API at "
        "least 2x faster than MLflow's (a ratio of 0.5 or less). The tables say where "
        "each stands; this script does not judge.",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten to {args.output}")


def worker_restarts(log: Path) -> int:
    text = log.read_text(errors="replace")
    return text.count("died") + text.count("Worker exiting") + text.count("WORKER TIMEOUT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--mlflow-venv", type=Path, default=Path("/work/.mlflow-venv"), help="created if missing"
    )
    parser.add_argument(
        "--modelgate-root",
        type=Path,
        action="append",
        help="a checkout to serve Modelgate from (repeatable; default: this one)",
    )
    parser.add_argument(
        "--label", action="append", help="a name per --modelgate-root, for the table"
    )
    parser.add_argument("--calls", type=int, default=200, help="timed calls per row and kind")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--reseed", action="store_true", help="copy the catalog again")
    parser.add_argument("--big-model-versions", type=int, default=10_000)
    parser.add_argument(
        "--profile", type=Path, help="also write a cProfile of the version and page calls here"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    # Stopped with a signal, still stop the servers and revoke the token.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    roots = [p.resolve() for p in args.modelgate_root or [ROOT]]
    labels = args.label or [describe_checkout(r).split()[0] for r in roots]
    if len(labels) != len(roots):
        sys.exit("give one --label per --modelgate-root")

    notes = {"mlflow_version": mlflow_store.ensure_venv(args.mlflow_venv)}
    wait_for_catalog(args.big_model_versions)
    for root in dict.fromkeys([ROOT, *roots]):  # this one's code picks the calls
        check_migrated(root)
    environment.setup_django()
    tmp = Path(tempfile.mkdtemp(prefix="mg-mlflow-side-"))
    try:
        mlflow_store.create_schema(args.mlflow_venv, MLFLOW_DB, tmp / "mlflow-artifacts")
        notes.update(mlflow_store.seed(CATALOG_DB, MLFLOW_DB, reseed=args.reseed))
        notes["size"] = dataset_size()
        chosen = sample(args)
        auth = sign_in()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    rows: list[Row] = []
    logs: dict[str, Path] = {}
    try:
        with ExitStack() as stack:
            port, logs["MLflow"] = stack.enter_context(mlflow_server(args.mlflow_venv, tmp))
            rows += mlflow_rows(port, chosen)
            for label, root in zip(labels, roots, strict=True):
                port, logs[label] = stack.enter_context(modelgate_server(root, label, tmp))
                rows += modelgate_rows(label, port, chosen, auth)
            restarts_before = {name: worker_restarts(log) for name, log in logs.items()}
            notes["python_loop"] = python_speed()
            notes["load_before"] = os.getloadavg()[0]
            cpu_before = cpu_times()
            measure(rows, args)
            notes["steal"] = steal_share(cpu_before, cpu_times())
            notes["restarts"] = {
                name: worker_restarts(log) - restarts_before[name] for name, log in logs.items()
            }
        profiles = []
        for label, root in zip(labels, roots, strict=True):
            print(f"counting SQL for {label} ...", flush=True)
            result = probe(root, [r for r in rows if r.server == label], auth, args)
            profiles += [f"# {label}: {k}\n\n{text}" for k, text in result["profiles"].items()]
        write_report(rows, dict(zip(labels, roots, strict=True)), notes, args)
        if args.profile and profiles:
            args.profile.write_text("\n\n".join(profiles))
            print(f"profiles written to {args.profile}")
    finally:
        sign_out(auth)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
