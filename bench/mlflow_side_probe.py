"""In-process look at the Modelgate URLs that bench/mlflow_side.py times over HTTP: SQL
statements per request, time in SQL against the whole request, and optionally a
cProfile of chosen rows. Run by mlflow_side.py with a checkout's own Python, so that the
code measured is that checkout's:

    <root>/.venv/bin/python bench/mlflow_side_probe.py <root> < job.json > result.json

job.json: {"rows": {name: [url, ...]}, "headers": {name: {header: value}},
"session": cookie value, "profile": [name, ...], "profile_calls": n}. Same settings as
the servers (DEBUG off), same database.
"""

import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

root = Path(sys.argv[1]).resolve()
sys.path.insert(0, str(Path(__file__).resolve().parent))
import environment  # noqa: E402  (beside this script)

environment.configure("mg_bench")
sys.path.insert(0, str(root))  # this checkout's code, not the one holding the script
os.chdir(root)


def main() -> None:
    job = json.load(sys.stdin)
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.cookies["sessionid"] = job["session"]
    result = {"rows": {}, "profiles": {}}
    for name, urls in job["rows"].items():
        extra = {
            "HTTP_" + k.upper().replace("-", "_"): v
            for k, v in job["headers"].get(name, {}).items()
        }
        for url in urls[:20]:  # warm-up: the same URLs as measured, so their rows are cached
            client.get(url, **extra)
        counts, totals, in_sql, statuses = [], [], [], set()
        for url in urls[:20]:
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(url, **extra)
                totals.append((time.perf_counter() - started) * 1000)
            statuses.add(response.status_code)
            counts.append(len(ctx.captured_queries))
            in_sql.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
        slowest = max(ctx.captured_queries, key=lambda q: float(q["time"]), default=None)
        result["rows"][name] = {
            "queries": [min(counts), max(counts)],
            "ms": statistics.median(totals),
            "sql_ms": statistics.median(in_sql),
            "statuses": sorted(statuses),
            "statements": [q["sql"][:300] for q in ctx.captured_queries],
            "slowest": slowest["sql"][:300] if slowest else "",
        }
        if name in job.get("profile", []):
            profiler = cProfile.Profile()
            profiler.enable()
            for i in range(job.get("profile_calls", 100)):
                client.get(urls[i % len(urls)], **extra)
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).strip_dirs()
            stats.sort_stats("cumulative").print_stats(35)
            stats.sort_stats("tottime").print_stats(25)
            result["profiles"][name] = out.getvalue()
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
