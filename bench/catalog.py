"""Catalog benchmark: seed a large PostgreSQL catalog, then time the pages that read it.

    .venv/bin/python bench/catalog.py                 # seed (if needed) and measure
    .venv/bin/python bench/catalog.py --seed-only     # just load the data
    .venv/bin/python bench/catalog.py --measure-only  # re-measure an existing load

The database is DATABASE_URL (default postgres://postgres@127.0.0.1/mg_bench); it is
created and migrated if missing. Seeding uses `manage.py synth`: --models models with
--versions-per-model versions each, plus one model with --big-model-versions versions.

Requests go through Django's test Client with a signed-in user, so a timing is the
server-side cost of one request (URL routing, middleware, queries, template rendering),
without network or browser time. Each scenario is warmed up, then timed over
--requests requests with varied parameters; SQL queries are counted on one extra
request per parameter set with CaptureQueriesContext. Results go to
bench/results/catalog.md.
"""

import argparse
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1/mg_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Production-like: DEBUG off (no query log), plain HTTP for the in-process client.
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
    os.environ.setdefault(name, "0")

RESULTS = ROOT / "bench" / "results" / "catalog.md"
BENCH_USER = "bench-reader"

# Words a person would type into the catalog's search box (the synthetic vocabulary
# covers them; see registry/demo/synthetic.py).
QUERIES = [
    "fraud", "churn", "credit risk", "search ranking", "demand forecast", "bert",
    "xgboost", "anomaly detector", "lifetime value", "spam classifier", "triage notes",
    "insurance claims", "delivery arrival", "moderation", "speech", "geocoding",
    "recommendations", "sentiment", "inventory forecaster", "returns predictor",
    "identity verification", "pricing", "electricity load", "translation",
]  # fmt: skip
FACET_FILTERS = [
    {},
    {},
    {"license": "proprietary"},
    {"framework": "xgboost"},
    {"classification": "confidential"},
    {"tag": "real-time"},
    {"license": "Apache-2.0", "framework": "pytorch"},
]


def ensure_database() -> None:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
    if "postgresql" not in cfg["ENGINE"]:
        sys.exit("The catalog benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
    conninfo = {
        "host": cfg.get("HOST") or "127.0.0.1",
        "port": cfg.get("PORT") or 5432,
        "user": cfg.get("USER") or "postgres",
        "password": cfg.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**{k: v for k, v in conninfo.items() if v is not None}) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]])
        if not exists.fetchone():
            conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
            print(f"created database {cfg['NAME']}")


def setup_django() -> None:
    import django

    django.setup()


def timed_command(*args) -> float:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command(*args)
    return time.perf_counter() - started


def seed(args) -> dict:
    from django.core.management import call_command

    from registry.models import RegisteredModel

    call_command("migrate", interactive=False, verbosity=0)
    notes = {}
    synthetic = RegisteredModel.objects.filter(created_by__username="synth-loader")
    have = synthetic.filter(last_version_number__lt=args.big_model_versions).count()
    if have >= args.models:
        print(f"{have:,} synthetic models already loaded; not seeding again")
    else:
        missing = args.models - have
        print(f"loading {missing:,} models x {args.versions_per_model} versions ...")
        notes["seed_seconds"] = timed_command(
            "synth",
            "--models",
            str(missing),
            "--versions-per-model",
            str(args.versions_per_model),
            "--batch-size",
            str(args.batch_size),
            "--teams",
            "24",
        )
    if not synthetic.filter(last_version_number__gte=args.big_model_versions).exists():
        print(f"loading one model with {args.big_model_versions:,} versions ...")
        notes["big_model_seconds"] = timed_command(
            "synth",
            "--models",
            "1",
            "--versions-per-model",
            str(args.big_model_versions),
            "--seed",
            "7",
        )
    return notes


def bench_user():
    from django.contrib.auth import get_user_model

    from registry.models import Team, TeamMembership

    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    # A data scientist in one team: sees edit controls on some models, not on others.
    team = Team.objects.order_by("pk").first()
    if team is not None:
        TeamMembership.objects.get_or_create(team=team, user=user)
    return user


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


class Scenario:
    def __init__(self, name: str, urls: list[str], target: str = ""):
        self.name, self.urls, self.target = name, urls, target
        self.timings: list[float] = []
        self.queries: list[int] = []
        self.errors: list[str] = []


def run_scenario(client, scenario: Scenario, requests: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rng = random.Random(42)
    for url in scenario.urls[:5]:  # warm-up: connections, caches, compiled templates
        client.get(url)
    for i in range(requests):
        url = (
            scenario.urls[i % len(scenario.urls)]
            if i < len(scenario.urls)
            else rng.choice(scenario.urls)
        )
        started = time.perf_counter()
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            scenario.errors.append(f"{url} -> {response.status_code}")
            continue
        scenario.timings.append(elapsed * 1000)
    for url in scenario.urls[:10]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        if response.status_code == 200:
            scenario.queries.append(len(ctx.captured_queries))


def scenarios(args) -> list[Scenario]:
    from urllib.parse import urlencode

    from registry.models import ModelVersion, RegisteredModel

    rng = random.Random(1)
    search_urls, api_urls = [], []
    for i, words in enumerate(QUERIES * 2):
        params = {"q": words, **FACET_FILTERS[i % len(FACET_FILTERS)]}
        search_urls.append("/?" + urlencode(params))
        api_urls.append("/api/models/?" + urlencode(params))
    big = (
        RegisteredModel.objects.filter(last_version_number__gte=args.big_model_versions)
        .order_by("-last_version_number")
        .first()
    )
    max_id = RegisteredModel.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    sample_ids = [rng.randint(1, max_id) for _ in range(400)]
    versions = list(
        ModelVersion.objects.filter(model_id__in=sample_ids)
        .select_related("model")
        .order_by("model_id", "number")
        .values_list("model__name", "number")[:400]
    )
    rng.shuffle(versions)
    version_urls = [f"/models/{name}/v/{number}/" for name, number in versions[:100]]
    model_names = list(
        RegisteredModel.objects.filter(pk__in=sample_ids).values_list("name", flat=True)[:100]
    )
    result = [
        Scenario("Catalog text search with facets (`/?q=...`)", search_urls, "p95 <= 25 ms"),
        Scenario("Catalog landing page, no query (`/`)", ["/", "/?page=2", "/?sort=-updated"]),
        Scenario("API search (`/api/models/?q=...`)", api_urls),
        Scenario(
            "Model page, typical model (`/models/<name>/`)", [f"/models/{n}/" for n in model_names]
        ),  # fmt: skip
        Scenario("Version page (`/models/<name>/v/<n>/`)", version_urls),
    ]
    if big is not None:
        big_urls = [f"/models/{big.name}/", f"/models/{big.name}/?page=2"]
        result.insert(
            4,
            Scenario(
                f"Model page with {big.last_version_number:,} versions",
                big_urls,
                "<= 12 queries, p95 <= 60 ms",
            ),
        )
        numbers = [rng.randint(1, big.last_version_number) for _ in range(20)]
        result.append(
            Scenario(
                f"Version page of the {big.last_version_number:,}-version model",
                [f"/models/{big.name}/v/{n}/" for n in numbers],
            )
        )
    return result


def dataset_size() -> dict:
    from registry.models import Metric, ModelCard, ModelVersion, RegisteredModel

    return {
        "models": RegisteredModel.objects.count(),
        "versions": ModelVersion.objects.count(),
        "cards": ModelCard.objects.count(),
        "metrics": Metric.objects.count(),
    }


def write_results(results: list[Scenario], size: dict, notes: dict, args) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    lines = [
        "# Catalog benchmark",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/catalog.py` on "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, PostgreSQL {pg_version}; "
        f"load average {os.getloadavg()[0]:.1f} when it finished (anything above the CPU "
        "count means other work competed for the machine).",
        "",
        f"Dataset: {size['models']:,} models, {size['versions']:,} versions, "
        f"{size['cards']:,} model cards, {size['metrics']:,} metrics.",
        "",
        "Server-side time per request through Django's test client (signed-in team member, "
        f"DEBUG off), {args.requests} requests per row after a warm-up; SQL queries counted "
        "on up to 10 of the row's URLs.",
        "",
        "| scenario | p50 ms | p95 ms | max ms | SQL queries / request | target | errors |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for s in results:
        if s.timings:
            p50 = f"{statistics.median(s.timings):.1f}"
            p95 = f"{percentile(s.timings, 95):.1f}"
            top = f"{max(s.timings):.1f}"
        else:
            p50 = p95 = top = "-"
        queries = (
            f"{min(s.queries)}" if s.queries and min(s.queries) == max(s.queries) else
            f"{min(s.queries)}-{max(s.queries)}" if s.queries else "-"
        )  # fmt: skip
        errors = f"{len(s.errors)} (e.g. {s.errors[0]})" if s.errors else "0"
        lines.append(
            f"| {s.name} | {p50} | {p95} | {top} | {queries} | {s.target or '-'} | {errors} |"
        )
    if notes.get("seed_seconds"):
        lines += [
            "",
            f"Seeding: `synth --models {args.models:,} --versions-per-model "
            f"{args.versions_per_model}` took {notes['seed_seconds']:.0f} s.",
        ]
    if notes.get("big_model_seconds"):
        lines.append(
            f"The model with {args.big_model_versions:,} versions took "
            f"{notes['big_model_seconds']:.0f} s."
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def explain(client, results: list[Scenario], path: Path) -> None:
    """EXPLAIN ANALYZE the slowest SQL statement of each scenario's first URL."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lines = ["# Where the time goes: the slowest query of each scenario", ""]
    for scenario in results:
        url = scenario.urls[0]
        client.get(url)  # warm
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        queries = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))
        total = sum(float(q["time"]) for q in queries) * 1000
        lines += [f"## {scenario.name}", "", f"`GET {url}`: {len(queries)} queries, "
                  f"{total:.1f} ms in SQL. Slowest:", ""]  # fmt: skip
        for q in queries[:3]:
            lines.append(f"- {float(q['time']) * 1000:.1f} ms: `{q['sql'][:160]}...`")
        slowest = queries[0]["sql"] if queries else ""
        if slowest.lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            lines += ["", "```", slowest, "", plan, "```", ""]
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--versions-per-model", type=int, default=10)
    parser.add_argument("--big-model-versions", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=200)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--seed-only", action="store_true")
    mode.add_argument("--measure-only", action="store_true")
    parser.add_argument(
        "--explain", action="store_true", help="also write EXPLAIN ANALYZE of slow queries"
    )
    args = parser.parse_args()

    ensure_database()
    setup_django()
    notes = {} if args.measure_only else seed(args)
    if args.seed_only:
        return

    from django.test import Client

    client = Client()
    client.force_login(bench_user())
    results = scenarios(args)
    for scenario in results:
        print(f"measuring: {scenario.name} ...", flush=True)
        run_scenario(client, scenario, args.requests)
    write_results(results, dataset_size(), notes, args)
    if args.explain:
        explain(client, results, RESULTS.with_name("catalog-explain.md"))


if __name__ == "__main__":
    main()
