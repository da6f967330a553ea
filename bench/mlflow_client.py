"""Modelgate's MLflow API timed through MLflow's own client (issue 12, point 7).

    .venv/bin/python bench/mlflow_client.py
    DATABASE_URL=postgres://postgres@127.0.0.1/<db> .venv/bin/python bench/mlflow_client.py

Serves this checkout with its production server (gunicorn, 2 workers, DEBUG off,
`--keep-alive 5 --worker-connections 16` as bench/mlflow_side.py does for its kept-alive
column) on a copy of the 100k-model bench catalog (default database
mg_bench_mlflowclient: `createdb -T mg_bench mg_bench_mlflowclient`, then migrate it;
the script refuses a database that lacks this checkout's migrations), and calls it with
`mlflow.tracking.MlflowClient(tracking_uri=<server>/mlflow, registry_uri=...)`, token
auth through MLFLOW_TRACKING_TOKEN, one call at a time:

- reads, kept alive (the client's pooled requests session): `search_registered_models`
  with a name LIKE, a tag filter (a Modelgate tag: an MLflow tag with the value ""),
  both, and a metadata tag (`tags.team`); `get_registered_model` of the 10,000-version
  model. Warm-up calls, then timed calls in rounds with the rows shuffled in each.
- registration: sequential `create_model_version` calls on a model the script creates
  through the client, once on the client's kept-alive session and once with a fresh
  requests session (a new connection) per call; versions/s over the whole run and the
  calls' p50/p95.

Writes to the catalog copy: a bench user in one team with an API token (revoked at the
end), and the registration models with their versions (kept; each run makes new ones).
SQL statements per call, and the in-process time, are counted afterwards through
Django's test client (`--profile FILE` also writes cProfile of the registration and
the slowest read). Results go to bench/results/mlflow_client.md; the script measures
and reports against the issue's targets, it checks nothing.
"""

import argparse
import cProfile
import inspect
import io
import json
import os
import platform
import pstats
import random
import signal
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import environment  # beside this script

environment.configure("mg_bench_mlflowclient")  # before mlflow_side sets its default
import mlflow_side  # noqa: E402
from environment import cpu_times, percentile, python_speed, steal_share  # noqa: E402

ROOT = environment.ROOT
RESULTS = ROOT / "bench" / "results" / "mlflow_client.md"
BENCH_USER = "bench-mlflow-client"
TOKEN_NAME = "mlflow client bench"
LIKE = "name LIKE '%fraud%'"
TAG = "tags.`real-time` = ''"
TEAM = "payments-risk"
READ_P95_TARGET_MS = 30
REGISTRATION_TARGET = 150  # versions/s, kept alive
MODEL_TAGS = {
    "team": TEAM,
    "purpose": "Receives the versions bench/mlflow_client.py registers.",
    "license": "proprietary",
    "data_classification": "internal",
    "evaluation_coverage": "None: a benchmark's model.",
    "risk_tier": "low",
}


@dataclass
class Row:
    name: str
    call: object  # a function of the client
    raw: object = None  # the same request without MLflow's client
    samples: list[float] = field(default_factory=list)
    raw_samples: list[float] = field(default_factory=list)
    items: set = field(default_factory=set)
    probe: dict = field(default_factory=dict)


# --- The bench user, the client -------------------------------------------------------


def sign_in() -> dict:
    """A member of one team, with an API token: reads every model, registers versions
    of its team's models."""
    from django.contrib.auth import get_user_model

    from registry.models import APIToken, Team, TeamMembership
    from registry.services import token_create, token_revoke

    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    TeamMembership.objects.get_or_create(team=Team.objects.get(slug=TEAM), user=user)
    for old in APIToken.objects.filter(user=user, name=TOKEN_NAME, revoked_at__isnull=True):
        token_revoke(actor=user, token=old)
    token, secret = token_create(actor=user, name=TOKEN_NAME)
    return {"user": user, "token": token, "secret": secret}


def sign_out(auth: dict) -> None:
    from registry.services import token_revoke

    token_revoke(actor=auth["user"], token=auth["token"])


class Connections:
    """Counts the TCP connections the client opens, and can give it a fresh requests
    session per call (so a new connection each time) instead of its cached one."""

    def __init__(self):
        import urllib3.connection
        from mlflow.utils import request_utils

        self.opened = 0
        self.fresh = False
        self._sessions = []
        original_connect = urllib3.connection.HTTPConnection.connect
        cached = request_utils._get_request_session
        uncached = request_utils._cached_get_request_session.__wrapped__
        counter = self

        def connect(conn):
            counter.opened += 1
            return original_connect(conn)

        def get_session(*args, **kwargs):
            if not counter.fresh:
                return cached(*args, **kwargs)
            named = inspect.signature(cached).bind(*args, **kwargs).arguments
            session = uncached(**named, _pid=os.getpid())
            counter._sessions.append(session)
            return session

        urllib3.connection.HTTPConnection.connect = connect
        request_utils._get_request_session = get_session

    def close_fresh(self) -> None:
        while self._sessions:
            self._sessions.pop().close()


def client_for(port: int, secret: str):
    from mlflow.tracking import MlflowClient

    os.environ["MLFLOW_TRACKING_TOKEN"] = secret
    uri = f"http://{mlflow_side.HOST}:{port}/mlflow"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


# --- Measuring ------------------------------------------------------------------------


def read_rows(client, big: str) -> list[Row]:
    def search(text):
        return lambda: client.search_registered_models(filter_string=text, max_results=25)

    team = f"tags.team = '{TEAM}'"
    return [
        Row(f'`search_registered_models("{LIKE}")`', search(LIKE)),
        Row(f'`search_registered_models("{TAG}")`', search(TAG)),
        Row(f'`search_registered_models("{LIKE} AND {TAG}")`', search(f"{LIKE} AND {TAG}")),
        Row(f'`search_registered_models("{team}")`', search(team)),
        Row(f'`get_registered_model("{big}")`', lambda: client.get_registered_model(big)),
    ]


def raw_calls(port: int, secret: str, big: str) -> list:
    """The same requests as read_rows, with plain `requests` on a kept-alive session and
    json.loads: the part of a client call that is not MLflow's client."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {secret}"
    api = f"http://{mlflow_side.HOST}:{port}/mlflow/api/2.0/mlflow"

    def get(endpoint, **params):
        def call():
            response = session.get(f"{api}/{endpoint}", params=params, timeout=60)
            response.raise_for_status()
            return response.json()

        return call

    search = "registered-models/search"
    return [
        get(search, filter=LIKE, max_results=25),
        get(search, filter=TAG, max_results=25),
        get(search, filter=f"{LIKE} AND {TAG}", max_results=25),
        get(search, filter=f"tags.team = '{TEAM}'", max_results=25),
        get("registered-models/get", name=big),
    ]


def measure_reads(rows: list[Row], args) -> None:
    for row in rows:
        for _ in range(args.warmup):
            row.call()
            row.raw()
    rng = random.Random(5)
    per_round = args.calls // args.rounds
    for r in range(args.rounds):
        order = rows[:]
        rng.shuffle(order)
        for row in order:
            for _ in range(per_round):
                started = time.perf_counter()
                answer = row.call()
                row.samples.append((time.perf_counter() - started) * 1000)
                row.items.add(len(answer) if isinstance(answer, list) else 1)
                started = time.perf_counter()
                row.raw()
                row.raw_samples.append((time.perf_counter() - started) * 1000)
        print(f"reads, round {r + 1}/{args.rounds}: load {os.getloadavg()[0]:.1f}", flush=True)


def register(client, connections: Connections, fresh: bool, args) -> dict:
    """`args.registrations` sequential create_model_version calls on a new model."""
    name = f"mlflow-client-bench-{datetime.now(UTC):%Y%m%d%H%M%S}-{'new' if fresh else 'keep'}"
    client.create_registered_model(name, tags=MODEL_TAGS, description="Registration bench.")

    def one(i):
        return client.create_model_version(
            name=name,
            source=f"s3://bench-artifacts/{name}/{i}/model",
            run_id=uuid.uuid4().hex,
        )

    for i in range(args.warmup):
        one(i)
    connections.fresh = fresh
    opened = connections.opened
    samples = []
    started = time.perf_counter()
    for i in range(args.warmup, args.warmup + args.registrations):
        call_started = time.perf_counter()
        version = one(i)
        samples.append((time.perf_counter() - call_started) * 1000)
        connections.close_fresh()
    elapsed = time.perf_counter() - started
    connections.fresh = False
    assert int(version.version) == args.warmup + args.registrations, version.version
    print(f"registered {args.registrations} versions of {name} in {elapsed:.1f} s", flush=True)
    return {
        "model": name,
        "samples": samples,
        "per_second": args.registrations / elapsed,
        "connections": connections.opened - opened,
    }


# --- In-process: statements and profile -----------------------------------------------


def probe(rows: list[Row], big: str, models: list[str], auth: dict, args) -> dict:
    """SQL statements and server-side time per call through Django's test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {auth['secret']}")
    api = "/mlflow/api/2.0/mlflow"
    calls = {
        rows[0].name: lambda: client.get(f"{api}/registered-models/search",
                                         {"filter": LIKE, "max_results": 25}),
        rows[1].name: lambda: client.get(f"{api}/registered-models/search",
                                         {"filter": TAG, "max_results": 25}),
        rows[2].name: lambda: client.get(f"{api}/registered-models/search",
                                         {"filter": f"{LIKE} AND {TAG}", "max_results": 25}),
        rows[3].name: lambda: client.get(f"{api}/registered-models/search",
                                         {"filter": f"tags.team = '{TEAM}'", "max_results": 25}),
        rows[4].name: lambda: client.get(f"{api}/registered-models/get", {"name": big}),
        "create_model_version": lambda: client.post(
            f"{api}/model-versions/create",
            json.dumps({"name": models[0], "source": f"s3://bench-artifacts/{uuid.uuid4().hex}",
                        "run_id": uuid.uuid4().hex}),
            content_type="application/json"),
    }  # fmt: skip
    result, profiles = {}, []
    for name, call in calls.items():
        for _ in range(5):
            call()
        counts, totals, in_sql = [], [], []
        for _ in range(20):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = call()
                totals.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (name, response.content[:300])
            counts.append(len(ctx.captured_queries))
            in_sql.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
        slowest = max(ctx.captured_queries, key=lambda q: float(q["time"]))
        sql = slowest["sql"]
        sql = sql[sql.find(" FROM ") + 1 :] if sql.startswith("SELECT") else sql
        result[name] = {
            "queries": (min(counts), max(counts)),
            "ms": statistics.median(totals),
            "sql_ms": statistics.median(in_sql),
            "slowest": f"{float(slowest['time']) * 1000:.1f} ms: {sql[:400]}",
        }
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(50):
                call()
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).strip_dirs()
            stats.sort_stats("cumulative").print_stats(30)
            profiles.append(f"# {name} (50 calls)\n\n{out.getvalue()}")
    if args.profile:
        args.profile.write_text("\n\n".join(profiles))
        print(f"profiles written to {args.profile}")
    return result


# --- The report -----------------------------------------------------------------------


def verdict(value: float, target: float, *, at_most: bool) -> str:
    met = value <= target if at_most else value >= target
    return "met" if met else "**missed**"


def write_report(rows, registrations, probed, notes, args) -> None:
    import gunicorn
    import mlflow
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    db = connection.settings_dict["NAME"]
    keep, new = registrations["keep"], registrations["new"]
    lines = [
        "# Modelgate's MLflow API through MLflow's client",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/mlflow_client.py` on "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"PostgreSQL {pg_version} (same host, default settings), MLflow client "
        f"{mlflow.__version__} (`mlflow.tracking.MlflowClient`), gunicorn "
        f"{gunicorn.__version__}. Load average {notes['load_before']:.1f} before and "
        f"{notes['load_after']:.1f} after the measurements (the machine has "
        f"{os.cpu_count()} CPUs and is shared: anything above that means other work "
        f"competed for it); CPU steal during them: {notes['steal']}; a 10-million-step "
        f"Python loop took {notes['python_loop']:.2f} s. Checkout: "
        f"`{mlflow_side.describe_checkout(ROOT)}`.",
        "",
        f"Catalog: {notes['size']['models']:,} models, {notes['size']['versions']:,} "
        f"versions (database {db}, a copy of the bench database mg_bench seeded by "
        "`bench/catalog.py --seed-only`, migrated to this checkout and analyzed). Server: "
        "`gunicorn -c config/gunicorn.conf.py` with WEB_CONCURRENCY=2, DEBUG off, "
        "`--keep-alive 5 --worker-connections 16` (as bench/mlflow_side.py's kept-alive "
        "column). The client authenticates with MLFLOW_TRACKING_TOKEN, an API token of a "
        f"user in team {TEAM}.",
        "",
        "## Reads, kept alive",
        "",
        f"One call at a time on the client's own requests session (kept alive): "
        f"{args.warmup} warm-up calls per row, then {args.calls} timed calls in "
        f"{args.rounds} rounds with the rows shuffled in each. Time of the client call "
        "(request, JSON parsing, MLflow entities); right after each, the same request "
        "with plain `requests` (kept alive) and `json.loads`, to tell the client's share "
        "from the server's. max_results=25 for the searches. "
        f"`tags.\\`real-time\\` = ''` is a Modelgate tag (a name without value; "
        f"MLflow's empty value); `tags.team` a metadata field. Target: p95 <= "
        f"{READ_P95_TARGET_MS} ms.",
        "",
        "| call | results | p50 ms | p95 ms | target | without MLflow's client: p50 ms | "
        "p95 ms | SQL statements | in-process ms (p50) | of which SQL ms |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        p = probed.get(row.name, {})
        low, high = p.get("queries", ("-", "-"))
        p95 = percentile(row.samples, 95)
        lines.append(
            f"| {row.name} | {', '.join(map(str, sorted(row.items)))} | "
            f"{percentile(row.samples, 50):.1f} | {p95:.1f} | "
            f"{verdict(p95, READ_P95_TARGET_MS, at_most=True)} | "
            f"{percentile(row.raw_samples, 50):.1f} | {percentile(row.raw_samples, 95):.1f} | "
            f"{low if low == high else f'{low}-{high}'} | {p.get('ms', 0):.1f} | "
            f"{p.get('sql_ms', 0):.1f} |"
        )
    p = probed.get("create_model_version", {})
    low, high = p.get("queries", ("-", "-"))
    lines += [
        "",
        "## Registration",
        "",
        f"{args.registrations} sequential `create_model_version(name, source='s3://...', "
        "run_id=<hex>)` calls on a model the script created through the client, after "
        f"{args.warmup} warm-up calls; versions/s over the whole run. Target: >= "
        f"{REGISTRATION_TARGET} versions/s kept alive.",
        "",
        "| connections | versions/s | p50 ms | p95 ms | TCP connections opened | target |",
        "|---|---:|---:|---:|---:|---|",
        f"| kept alive (the client's session) | {keep['per_second']:.0f} | "
        f"{percentile(keep['samples'], 50):.1f} | {percentile(keep['samples'], 95):.1f} | "
        f"{keep['connections']} | "
        f"{verdict(keep['per_second'], REGISTRATION_TARGET, at_most=False)} |",
        f"| a fresh requests session (new connection) per call | {new['per_second']:.0f} | "
        f"{percentile(new['samples'], 50):.1f} | {percentile(new['samples'], 95):.1f} | "
        f"{new['connections']} | - |",
        "",
        "In-process (Django's test client, same database): "
        f"{low if low == high else f'{low}-{high}'} SQL statements per registration, "
        f"{p.get('ms', 0):.1f} ms (p50), of which "
        f"{p.get('sql_ms', 0):.1f} ms in SQL.",
        "",
        "For comparison (bench/results/mlflow_side.md's notes, issue 12): MLflow's own "
        "server manages about 19 versions/s kept alive with its default two uvicorn "
        "workers (a delayed-ACK stall on kept-alive connections), ~110/s with a new "
        "connection per call, on this machine kind.",
        "",
        "## Slowest statement per call (in-process)",
        "",
        *(f"- {name}: `{p['slowest']}`" for name, p in probed.items()),
    ]  # fmt: skip
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten to {args.output}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="timed calls per read")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--registrations", type=int, default=300)
    parser.add_argument("--big-model-versions", type=int, default=10_000)
    parser.add_argument("--profile", type=Path, help="also write cProfile text here")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    mlflow_side.check_migrated(ROOT)
    environment.setup_django()
    from registry.models import ModelVersion, RegisteredModel

    big = RegisteredModel.objects.order_by("-last_version_number").first()
    if big is None or big.last_version_number < args.big_model_versions:
        sys.exit(f"{os.environ['DATABASE_URL']} has no {args.big_model_versions:,}-version model")
    notes = {
        "size": {
            "models": RegisteredModel.objects.count(),
            "versions": ModelVersion.objects.count(),
        }
    }
    connections = Connections()
    auth = sign_in()
    tmp = Path(tempfile.mkdtemp(prefix="mg-mlflow-client-"))
    try:
        with mlflow_side.modelgate_server(ROOT, "mlflow-client", tmp) as (port, _log):
            client = client_for(port, auth["secret"])
            rows = read_rows(client, big.name)
            for row, raw in zip(rows, raw_calls(port, auth["secret"], big.name), strict=True):
                row.raw = raw
            notes["python_loop"] = python_speed()
            notes["load_before"] = os.getloadavg()[0]
            cpu_before = cpu_times()
            measure_reads(rows, args)
            registrations = {
                "keep": register(client, connections, False, args),
                "new": register(client, connections, True, args),
            }
            notes["steal"] = steal_share(cpu_before, cpu_times())
            notes["load_after"] = os.getloadavg()[0]
        print("counting SQL in-process ...", flush=True)
        probed = probe(rows, big.name, [registrations["keep"]["model"]], auth, args)
        write_report(rows, registrations, probed, notes, args)
    finally:
        sign_out(auth)
        for leftover in tmp.iterdir():
            leftover.unlink()
        tmp.rmdir()


if __name__ == "__main__":
    main()
