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
request per parameter set with CaptureQueriesContext. The text search is also broken
down by how many models its words match, beside the time of the cheapest exact
statement (counting those matches). The header records what the machine could give:
CPU steal during the run and a fixed Python loop's time, so that two result files
from different machines can be compared. Results go to bench/results/catalog.md.
"""

import argparse
import os
import platform
import random
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import environment  # beside this script
from environment import RequestCpu, cpu_times, percentile, python_speed, steal_share

environment.configure("mg_bench")
ROOT = environment.ROOT

RESULTS = ROOT / "bench" / "results" / "catalog.md"
BENCH_USER = "bench-reader"

# Words a person would type into the catalog's search box (the synthetic vocabulary
# covers them; see registry/demo/synthetic.py), by how many of the 100,000 models they
# match (issue 11's query classes).
NARROW = ["anomaly detector", "returns predictor", "spam classifier"]  # < 1,000 matches
MEDIUM = ["inventory forecaster", "search ranking", "demand forecast", "electricity load",
          "triage notes", "lifetime value", "insurance claims", "credit risk"]  # fmt: skip
BROAD = ["fraud", "translation", "geocoding", "churn", "sentiment", "xgboost", "bert",
         "moderation", "pricing", "speech", "recommendations"]  # fmt: skip
QUERIES = NARROW + MEDIUM + BROAD
FACET_FILTERS = [
    {"license": "proprietary"},
    {"framework": "xgboost"},
    {"classification": "confidential"},
    {"tag": "real-time"},
    {"license": "Apache-2.0", "framework": "pytorch"},
]
TAG_FILTERS = [{"tag": "real-time"}, {"tag": "nlp"}, {"tag": "batch"}, {"tag": "tabular"},
               {"tag": ["real-time", "tabular"]}, {"tag": ["fraud", "batch"]}]  # fmt: skip
EMPTY_QUERY_FILTERS = [
    {"license": "proprietary"},
    {"framework": "pytorch"},
    {"classification": "confidential", "framework": "xgboost"},
    {"team": "payments-risk"},
    {"team": "search-relevance", "license": "Apache-2.0"},
    {"stage": "none", "license": "MIT"},
]


def timed_command(*args) -> float:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command(*args)
    return time.perf_counter() - started


def seed(args) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from registry.models import RegisteredModel

    with connection.cursor() as cursor:  # loading is a command's work, not a request's
        cursor.execute("SET statement_timeout = 0")
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


def bench_token() -> str:
    """A fresh personal API token of the bench user. Earlier runs' tokens are revoked
    and the revoked ones deleted: the floor page lists the user's tokens, so tokens
    piling up run after run made it slower (4 ms with one, 10 ms with 28 on a loaded
    machine) and no longer a fixed reference. Nothing refers to a token row."""
    from registry.services import token_create, token_revoke

    user = bench_user()
    for token in user.api_tokens.filter(revoked_at__isnull=True):
        token_revoke(actor=user, token=token)
    user.api_tokens.filter(revoked_at__isnull=False).delete()
    return token_create(actor=user, name="bench")[1]


class Scenario:
    def __init__(self, name: str, urls: list[str], target: str = "", headers=None):
        self.name, self.urls, self.target = name, urls, target
        self.headers = headers or {}  # e.g. a pipeline's Authorization: Bearer
        self.timings: list[float] = []
        self.by_url: dict[str, list[float]] = {}
        self.queries: list[int] = []
        self.cpu: list[float] = []  # ms of CPU per request, Django + PostgreSQL
        self.errors: list[str] = []


def run_scenario(client, scenario: Scenario, requests: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rng = random.Random(42)
    for url in scenario.urls[:5]:  # warm-up: connections, caches, compiled templates
        client.get(url, headers=scenario.headers)
    cpu = RequestCpu()
    for i in range(requests):
        url = (
            scenario.urls[i % len(scenario.urls)]
            if i < len(scenario.urls)
            else rng.choice(scenario.urls)
        )
        cpu.start()
        started = time.perf_counter()
        response = client.get(url, headers=scenario.headers)
        if response.streaming:
            b"".join(response.streaming_content)
        elapsed = time.perf_counter() - started
        spent = cpu.ms()
        if response.status_code != 200:
            scenario.errors.append(f"{url} -> {response.status_code}")
            continue
        scenario.timings.append(elapsed * 1000)
        scenario.cpu.append(spent)
        scenario.by_url.setdefault(url, []).append(elapsed * 1000)
    for url in scenario.urls[:10]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, headers=scenario.headers)
        if response.status_code == 200:
            scenario.queries.append(len(ctx.captured_queries))


def scenarios(args) -> list[Scenario]:
    from urllib.parse import urlencode

    from registry.models import ModelVersion, RegisteredModel

    rng = random.Random(1)

    def urls(prefix: str, words: list[str], filters: list[dict]) -> list[str]:
        params = [{"q": w, **f} for w in words for f in filters] if words else filters
        return [prefix + urlencode(p, doseq=True) for p in params]

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
    search = "p95 <= 25 ms"
    result = [
        Scenario("Search, narrow words (< 1,000 matches)", urls("/?", NARROW, [{}]), search),
        Scenario("Search, medium words (1,000-5,000)", urls("/?", MEDIUM, [{}]), search),
        Scenario("Search, broad words (5,000+)", urls("/?", BROAD, [{}]), search),
        Scenario("Search, narrow words + facet filters", urls("/?", NARROW, FACET_FILTERS), search),
        Scenario("Search, medium words + facet filters", urls("/?", MEDIUM, FACET_FILTERS), search),
        Scenario("Search, broad words + facet filters", urls("/?", BROAD, FACET_FILTERS), search),
        Scenario("Tag filters alone", urls("/?", [], TAG_FILTERS), search),
        Scenario("Empty query with filters", urls("/?", [], EMPTY_QUERY_FILTERS), search),
        Scenario(
            "Catalog landing page, no query (`/`)", ["/", "/?page=2", "/?sort=-updated"], search
        ),
        Scenario(
            "API search, all classes (`/api/models/?...`)",
            urls("/api/models/?", QUERIES, [{}, *FACET_FILTERS])
            + urls("/api/models/?", [], TAG_FILTERS + EMPTY_QUERY_FILTERS),
            search,
        ),
        Scenario(
            "Floor: a signed-in page with one small query (`/accounts/tokens/`)",
            ["/accounts/tokens/"],
        ),
        Scenario(
            "Model page, typical model (`/models/<name>/`)", [f"/models/{n}/" for n in model_names]
        ),  # fmt: skip
        Scenario("Version page (`/models/<name>/v/<n>/`)", version_urls, "<= 3 queries"),
    ]
    if big is not None:
        big_urls = [f"/models/{big.name}/", f"/models/{big.name}/?page=2"]
        result.insert(
            4,
            Scenario(
                f"Model page with {big.last_version_number:,} versions",
                big_urls,
                "<= 12 queries, p95 <= 30 ms",
            ),
        )
        numbers = [rng.randint(1, big.last_version_number) for _ in range(20)]
        result.append(
            Scenario(
                f"Version page of the {big.last_version_number:,}-version model",
                [f"/models/{big.name}/v/{n}/" for n in numbers],
            )
        )
    # What a pipeline reads (issue 11 point 3b), with a personal token as pipelines do.
    pipeline = {"Authorization": f"Bearer {bench_token()}"}
    result.append(
        Scenario(
            "API version detail (`/api/models/<name>/versions/<n>/`)",
            [f"/api/models/{name}/versions/{number}/" for name, number in versions[:100]],
            "<= 3 queries (token included)",
            headers=pipeline,
        )
    )
    if big is not None:
        pages = range(1, big.last_version_number // 100 + 1)
        result.append(
            Scenario(
                "API page of 100 versions (`/api/models/<name>/versions/?per_page=100`)",
                [
                    f"/api/models/{big.name}/versions/?per_page=100&page={p}"
                    for p in rng.sample(pages, min(20, len(pages)))
                ],
                headers=pipeline,
            )
        )
    return result


BREADTHS = [(0, 999), (1_000, 4_999), (5_000, 10**9)]


def breadth_breakdown(search: Scenario, repeat: int = 20) -> list[str]:
    """The text search's timings grouped by how many models its words match, beside
    the cheapest exact statement any design must run: counting those matches."""
    from urllib.parse import parse_qs, urlsplit

    from django.db import connection

    rows = {}
    with connection.cursor() as cursor:
        for url, timings in search.by_url.items():
            words = parse_qs(urlsplit(url).query)["q"][0]
            sql = (
                "SELECT count(*) FROM registry_registeredmodel"
                " WHERE search_vector @@ websearch_to_tsquery('english', %s)"
            )
            cursor.execute(sql, [words])
            matches = cursor.fetchone()[0]
            floor = []
            for _ in range(repeat):
                started = time.perf_counter()
                cursor.execute(sql, [words])
                cursor.fetchone()
                floor.append((time.perf_counter() - started) * 1000)
            rows[url] = (matches, timings, floor)
    lines = [
        "",
        "## Text search by breadth",
        "",
        "The same requests grouped by how many models the words match (facet filters "
        "narrow the page, not the full-text pass). *Count only* is one statement that "
        "just counts those matches through the GIN index, timed "
        f"{repeat} times per query: no ranking, facets, page, template or Django.",
        "",
        "| words match | URLs | requests | p50 ms | p95 ms | count only: p50 ms | p95 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for low, high in BREADTHS:
        group = [v for v in rows.values() if low <= v[0] <= high]
        if not group:
            continue
        timings = [t for _, ts, _ in group for t in ts]
        floor = [t for _, _, fs in group for t in fs]
        label = f"{low:,}-{high:,} models" if high < 10**9 else f"{low:,}+ models"
        lines.append(
            f"| {label} | {len(group)} | {len(timings)} | {statistics.median(timings):.1f} | "
            f"{percentile(timings, 95):.1f} | {statistics.median(floor):.1f} | "
            f"{percentile(floor, 95):.1f} |"
        )
    lines += ["", "| query | matches | p50 ms | count only p50 ms |", "|---|---:|---:|---:|"]
    for url, (matches, timings, floor) in sorted(rows.items(), key=lambda kv: kv[1][0]):
        lines.append(
            f"| `{url}` | {matches:,} | {statistics.median(timings):.1f} | "
            f"{statistics.median(floor):.1f} |"
        )
    return lines


def estimate_accuracy(results: list[Scenario]) -> list[str]:
    """How far the shown totals are from the exact counts, per query class."""
    from urllib.parse import urlsplit

    from django.http import QueryDict

    from registry.search import CatalogQuery, catalog_search
    from registry.search.matching import filtered

    lines = [
        "",
        "## Estimated totals against exact counts",
        "",
        "Past SEARCH_EXACT_LIMIT matches a total is estimated from a sample; here each "
        "URL's total is compared with an exact count of the same query (an ORM COUNT).",
        "",
        "| class | URLs | estimated | within ±5 % | mean error | max error |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for scenario in results:
        if scenario.name.startswith("API"):
            continue
        errors = []
        for url in scenario.urls:
            query = CatalogQuery.from_params(QueryDict(urlsplit(url).query))
            result = catalog_search(query)
            if not getattr(result, "total_is_exact", True):  # old code: always exact
                exact = filtered(query).count()
                errors.append(abs(result.total - exact) / exact * 100)
        if not errors:
            lines.append(f"| {scenario.name} | {len(scenario.urls)} | 0 | - | - | - |")
            continue
        inside = sum(1 for e in errors if e <= 5)
        lines.append(
            f"| {scenario.name} | {len(scenario.urls)} | {len(errors)} | {inside} | "
            f"{statistics.mean(errors):.1f} % | {max(errors):.1f} % |"
        )
    return lines


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
        cursor.execute("SHOW shared_buffers")
        shared_buffers = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_relation_size('registry_registeredmodel'))")
        model_heap = cursor.fetchone()[0]
    lines = [
        "# Catalog benchmark",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/catalog.py` on "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, PostgreSQL {pg_version}; "
        f"load average {os.getloadavg()[0]:.1f} when it finished (anything above the CPU "
        "count means other work competed for the machine); CPU steal (time the hypervisor "
        f"gave to other guests) during the measurements: {notes.get('steal', 'unknown')}; "
        f"a 10-million-step Python loop took {notes.get('python_loop', 0):.2f} s.",
        "",
        f"Dataset: {size['models']:,} models, {size['versions']:,} versions, "
        f"{size['cards']:,} model cards, {size['metrics']:,} metrics. The models' table "
        f"takes {model_heap} on disk; PostgreSQL runs with its default settings "
        f"(shared_buffers {shared_buffers}).",
        "",
        "Server-side time per request through Django's test client (signed-in team member, "
        f"DEBUG off), {args.requests} requests per row after a warm-up; SQL queries counted "
        "on up to 10 of the row's URLs. *CPU* is the CPU time each request cost, Django's "
        "thread and its PostgreSQL backend together (/proc/<pid>/schedstat): unlike the "
        "wall time it leaves out waiting for a CPU, so on a shared machine it is the closer "
        "figure for what a request takes on a quiet one.",
        "",
        "| scenario | p50 ms | p95 ms | max ms | CPU p50 ms | CPU p95 ms | SQL queries / "
        "request | target | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for s in results:
        if s.timings:
            p50 = f"{statistics.median(s.timings):.1f}"
            p95 = f"{percentile(s.timings, 95):.1f}"
            top = f"{max(s.timings):.1f}"
        else:
            p50 = p95 = top = "-"
        cpu50 = f"{statistics.median(s.cpu):.1f}" if s.cpu else "-"
        cpu95 = f"{percentile(s.cpu, 95):.1f}" if s.cpu else "-"
        queries = (
            f"{min(s.queries)}" if s.queries and min(s.queries) == max(s.queries) else
            f"{min(s.queries)}-{max(s.queries)}" if s.queries else "-"
        )  # fmt: skip
        errors = f"{len(s.errors)} (e.g. {s.errors[0]})" if s.errors else "0"
        lines.append(
            f"| {s.name} | {p50} | {p95} | {top} | {cpu50} | {cpu95} | {queries} | "
            f"{s.target or '-'} | {errors} |"
        )
    searches = [s for s in results if s.name.startswith("Search,")]
    if searches:
        combined = Scenario("search", [])
        for s in searches:
            combined.by_url.update(s.by_url)
        lines += breadth_breakdown(combined)
    lines += estimate_accuracy([s for s in results if s.target == "p95 <= 25 ms"])
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
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n")
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
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help="where to write the table (Markdown)"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="measure only scenarios whose name has this (any case; repeat for several)",
    )
    args = parser.parse_args()

    environment.setup_django()
    notes = {} if args.measure_only else seed(args)
    if args.seed_only:
        return

    from django.test import Client

    client = Client()
    client.force_login(bench_user())
    only = [o.lower() for o in args.only]
    results = [s for s in scenarios(args) if not only or any(o in s.name.lower() for o in only)]
    notes["python_loop"] = python_speed()
    notes["cpu_before"] = cpu_times()
    for scenario in results:
        print(f"measuring: {scenario.name} ...", flush=True)
        run_scenario(client, scenario, args.requests)
    notes["steal"] = steal_share(notes.pop("cpu_before"), cpu_times())
    write_results(results, dataset_size(), notes, args)
    if args.explain:
        explain(client, results, args.output.with_name(args.output.stem + "-explain.md"))


if __name__ == "__main__":
    main()
