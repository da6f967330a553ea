"""Prepared statements off and on, interleaved: what planning the fixed SQL texts once
per connection saves on the pages that run them.

    .venv/bin/python bench/prepared.py [--rounds 12] [--requests 15] [--only page]

Runs on bench/catalog.py's catalog (seed it first). In one process, signed in as the
catalog bench's user, it alternates DATABASE_PREPARED_STATEMENTS between off and on
(the order flips every round), and times --requests requests of each scenario per
round. A request's cost is its CPU time, Django's thread and its PostgreSQL backend
together (bench/environment.py's RequestCpu): on this machine kind the wall time of
the same configuration moves by up to 2x within minutes (bench/results/
round-trips-notes.md), the CPU time much less. Wall times are reported beside it.
Each round gives a ratio on/off of the medians; the spread of those ratios says
whether the difference is larger than the noise. Results go to
bench/results/prepared.md.
"""

import argparse
import statistics
import time
from datetime import UTC, datetime

import catalog  # beside this script; points DATABASE_URL at the catalog bench's database
import environment
from environment import RequestCpu, percentile, python_speed

RESULTS = environment.ROOT / "bench" / "results" / "prepared.md"


def measure(client, scenario, requests: int, offset: int) -> tuple[list[float], list[float]]:
    cpu, wall = RequestCpu(), []
    spent = []
    for i in range(requests):
        url = scenario.urls[(offset + i) % len(scenario.urls)]
        cpu.start()
        started = time.perf_counter()
        response = client.get(url, headers=scenario.headers)
        wall.append((time.perf_counter() - started) * 1000)
        spent.append(cpu.ms())
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    return spent, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--only", default="", help="scenarios whose name has this")
    parser.add_argument("--big-model-versions", type=int, default=10_000)
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args()
    environment.setup_django()
    from django.conf import settings
    from django.test import Client

    if not settings.DATABASE_PREPARED_STATEMENTS:
        raise SystemExit("Start with DATABASE_PREPARED_STATEMENTS on (the default).")
    client = Client()
    client.force_login(catalog.bench_user())
    chosen = [s for s in catalog.scenarios(args) if args.only in s.name]
    for scenario in chosen:  # warm-up: compiled templates, caches, both kinds of cursor
        for mode in (False, True):
            settings.DATABASE_PREPARED_STATEMENTS = mode
            for url in scenario.urls[:5]:
                client.get(url, headers=scenario.headers)
    speed_before = python_speed()
    # {scenario: {mode: [cpu ms]}}, {scenario: {mode: [wall ms]}}, per-round ratios
    cpu = {s.name: {False: [], True: []} for s in chosen}
    wall = {s.name: {False: [], True: []} for s in chosen}
    ratios = {s.name: [] for s in chosen}
    for round_ in range(args.rounds):
        medians = {}
        for mode in (False, True) if round_ % 2 == 0 else (True, False):
            settings.DATABASE_PREPARED_STATEMENTS = mode
            for scenario in chosen:
                spent, took = measure(client, scenario, args.requests, round_ * args.requests)
                cpu[scenario.name][mode] += spent
                wall[scenario.name][mode] += took
                medians[scenario.name, mode] = statistics.median(spent)
        for scenario in chosen:
            ratios[scenario.name].append(
                medians[scenario.name, True] / medians[scenario.name, False]
            )
        print(f"round {round_ + 1}/{args.rounds} done", flush=True)
    settings.DATABASE_PREPARED_STATEMENTS = True
    speed_after = python_speed()

    lines = [
        "# Prepared statements off and on",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/prepared.py` on the catalog "
        f"bench's database; {args.rounds} rounds, {args.requests} requests per scenario "
        "and mode in each, the order of the modes flipped every round. A 10-million-step "
        f"Python loop took {speed_before:.2f} s before and {speed_after:.2f} s after.",
        "",
        "*CPU* is a request's CPU time, Django's thread and its PostgreSQL backend "
        "together; *wall* its elapsed time. *Ratio per round* is the on/off ratio of the "
        "round's CPU medians: its range says whether the difference beats the noise.",
        "",
        "| scenario | CPU p50 off | CPU p50 on | CPU p95 off | CPU p95 on "
        "| wall p50 off | wall p50 on | wall p95 off | wall p95 on | ratio per round: "
        "median (min-max) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for scenario in chosen:
        c, w, r = cpu[scenario.name], wall[scenario.name], ratios[scenario.name]
        lines.append(
            f"| {scenario.name} "
            f"| {statistics.median(c[False]):.1f} | {statistics.median(c[True]):.1f} "
            f"| {percentile(c[False], 95):.1f} | {percentile(c[True], 95):.1f} "
            f"| {statistics.median(w[False]):.1f} | {statistics.median(w[True]):.1f} "
            f"| {percentile(w[False], 95):.1f} | {percentile(w[True], 95):.1f} "
            f"| {statistics.median(r):.2f} ({min(r):.2f}-{max(r):.2f}) |"
        )
    text = "\n".join(lines) + "\n"
    with open(args.output, "w") as out:
        out.write(text)
    print(text)


if __name__ == "__main__":
    main()
