"""Pages that show metrics, with one version holding 100,000 of them.

    .venv/bin/python bench/metric_pages.py            # seed (if needed) and measure

METRICS_MAX_PER_VERSION refuses such a version today, but one recorded before the limit
existed made its model page time out. The database is DATABASE_URL (default
postgres://postgres@127.0.0.1/mg_bench_metrics), migrated if needed; the seed is one
model with 30 versions of 20 metrics each and a newest version with --metrics metrics,
written directly (as old data would be). Each page is fetched through Django's test
Client as a signed-in team member, --repeat times; the table gives the median and the
slowest, and goes to bench/results/metric_pages.md.
"""

import argparse
import platform
import statistics
import time

import environment  # beside this script

environment.configure("mg_bench_metrics")
ROOT = environment.ROOT
RESULTS = ROOT / "bench" / "results" / "metric_pages.md"
TARGET_MS = 500  # what a page may take however many metrics a version has
MODEL = "bench-crowded-metrics"


def seed(metrics: int) -> None:
    from django.contrib.auth import get_user_model

    from registry.models import Metric, RegisteredModel
    from registry.services import model_create, team_create, team_member_add, version_register

    if RegisteredModel.objects.filter(name=MODEL).exists():
        return
    User = get_user_model()
    admin = User.objects.create_superuser("bench-admin", "a@example.com", "x")
    user = User.objects.create_user("bench-member", "m@example.com", "x")
    team = team_create(actor=admin, name="Bench metrics")
    team_member_add(actor=admin, team=team, user=user)
    model = model_create(
        actor=user,
        name=MODEL,
        team=team,
        owner=user,
        description="A model whose newest version has very many metrics.",
        purpose="Benchmark.",
        license="MIT",
        data_classification="internal",
        evaluation_coverage="None.",
        risk_tier="low",
    )
    for n in range(1, 31):
        version_register(
            actor=user,
            model=model,
            label=f"1.0.{n}",
            framework="pytorch",
            metrics=[{"name": f"m{i:06d}", "value": n / 100 + i} for i in range(20)],
        )
    crowded = version_register(actor=user, model=model, label="2.0.0", framework="pytorch")
    Metric.objects.bulk_create(
        (Metric(version=crowded, name=f"m{i:06d}", value=i / metrics) for i in range(metrics)),
        batch_size=10_000,
    )
    print(f"seeded {MODEL}: 30 versions x 20 metrics, v31 with {metrics:,}")


def measure(repeat: int) -> list[tuple[str, float, float, int]]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-member"))
    pages = [
        ("model page", f"/models/{MODEL}/"),
        ("version page (v31)", f"/models/{MODEL}/v/31/"),
        ("compare v30 / v31", f"/models/{MODEL}/compare/?a=30&b=31"),
        ("API version (v31)", f"/api/models/{MODEL}/versions/31/"),
        ("API metrics (v31)", f"/api/models/{MODEL}/versions/31/metrics/"),
    ]
    rows = []
    for title, url in pages:
        client.get(url)  # warm-up
        times, size = [], 0
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            size = len(response.content)
            assert response.status_code == 200, (url, response.status_code)
        rows.append((title, statistics.median(times), max(times), size))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--metrics", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    environment.setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    seed(args.metrics)
    rows = measure(args.repeat)
    lines = [
        f"# Pages with a {args.metrics:,}-metric version",
        "",
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}; "
        f"median and slowest of {args.repeat} requests; target {TARGET_MS} ms.",
        "",
        "| page | median ms | slowest ms | bytes | within target |",
        "|---|---:|---:|---:|---|",
    ]
    for title, median, slowest, size in rows:
        ok = "yes" if slowest <= TARGET_MS else "NO"
        lines.append(f"| {title} | {median:,.0f} | {slowest:,.0f} | {size:,} | {ok} |")
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
