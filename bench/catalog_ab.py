"""Before/after on the catalog bench's pages, request by request: two checkouts served
side by side, their requests interleaved.

    .venv/bin/python bench/catalog_ab.py --before ../wt-before [--before-database mg_bench_before]
        [--only Search --only landing] [--requests 200] [--output bench/results/catalog-ab.md]

bench/catalog.py measures one checkout at a time; on a shared machine whose speed drifts
by up to 2x within minutes, two such runs minutes apart compare the machine as much as
the code. Here each checkout runs in a process of its own (its own code, settings and
database connection, Django's test client with the bench user signed in), and the driver
sends them the same URLs in turn (A B, B A, A B, ...), so drift hits both alike. The URLs
and scenarios are bench/catalog.py's (a catalog seeded with `bench/catalog.py
--seed-only`); `--before-database` lets the old checkout read a copy of the catalog
without this checkout's migrations (`createdb -T mg_bench mg_bench_before`, then drop
what the new migrations added). Each request's wall time and CPU time (the process's
thread and its PostgreSQL backend, as bench/catalog.py) are reported at p50 and p95 per
side, with the after/before ratio.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOKEN = "{bench-token}"  # replaced by each side's own token


def serve(root: str) -> None:
    """One side: answer `{"url", "headers"}` lines on stdin with timings on stdout."""
    sys.path.insert(0, str(HERE))
    import environment

    environment.configure("mg_bench")
    sys.path.insert(0, root)  # this side's project, ahead of the driver's
    environment.setup_django()
    import catalog  # bench/catalog.py: its bench user and token

    sys.path.insert(0, root)  # importing it put the driver's checkout first again
    from django.test import Client

    from registry.services import token_create

    client = Client()
    user = catalog.bench_user()
    client.force_login(user)
    # A token of this side's own: catalog.bench_token() revokes the user's others, and
    # both sides may share a database (and so the user).
    token = token_create(actor=user, name="bench A/B")[1]
    cpu = environment.RequestCpu()
    out = sys.stdout
    import registry

    out.write(json.dumps({"code": str(Path(registry.__file__).resolve().parent.parent)}) + "\n")
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        headers = {k: v.replace(TOKEN, token) for k, v in request["headers"].items()}
        cpu.start()
        started = time.perf_counter()
        response = client.get(request["url"], headers=headers)
        if response.streaming:
            b"".join(response.streaming_content)
        elapsed = (time.perf_counter() - started) * 1000
        out.write(json.dumps({"ms": elapsed, "cpu": cpu.ms(), "status": response.status_code}))
        out.write("\n")
        out.flush()


class Side:
    def __init__(self, label: str, root: str, database: str | None):
        env = {**os.environ, "PYTHONPATH": root}
        if database:
            env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1/{database}"
        self.label, self.root = label, root
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", root],
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        code = json.loads(self.process.stdout.readline() or "{}").get("code")
        if code != root:  # the side must run its own checkout's code
            sys.exit(f"{label}: expected the code of {root}, got {code}")

    def get(self, url: str, headers: dict) -> dict:
        self.process.stdin.write(json.dumps({"url": url, "headers": headers}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            sys.exit(f"{self.label} ({self.root}) stopped")
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def scenarios(args):
    sys.path.insert(0, str(HERE))
    import environment

    environment.configure("mg_bench")
    environment.setup_django()
    import catalog

    bench_args = argparse.Namespace(big_model_versions=args.big_model_versions)
    found = catalog.scenarios(bench_args)
    if args.only:
        wanted = [w.lower() for w in args.only]
        found = [s for s in found if any(w in s.name.lower() for w in wanted)]
    for scenario in found:
        for name, value in scenario.headers.items():
            if value.startswith("Bearer "):
                scenario.headers[name] = f"Bearer {TOKEN}"
    return found


def commit(root: str) -> str:
    found = subprocess.run(
        ["git", "-C", root, "log", "-1", "--format=%h"], capture_output=True, text=True
    )
    return found.stdout.strip() or "not a git checkout"


def measure(args) -> str:
    from environment import percentile, python_speed

    found = scenarios(args)
    sides = [
        Side("before", str(Path(args.before).resolve()), args.before_database),
        Side("after", str(Path(args.after).resolve()), args.after_database),
    ]
    speed = python_speed()
    lines = []
    try:
        for scenario in found:
            timings = {s.label: {"ms": [], "cpu": [], "errors": 0} for s in sides}
            for url in scenario.urls[:5]:  # warm-up
                for side in sides:
                    side.get(url, scenario.headers)
            for i in range(args.requests):
                url = scenario.urls[i % len(scenario.urls)]
                for side in sides if i % 2 == 0 else reversed(sides):
                    got = side.get(url, scenario.headers)
                    t = timings[side.label]
                    if got["status"] != 200:
                        t["errors"] += 1
                        continue
                    t["ms"].append(got["ms"])
                    t["cpu"].append(got["cpu"])
            failed = [s.label for s in sides if not timings[s.label]["ms"]]
            if failed:
                sys.exit(f"{scenario.name}: every request failed on {', '.join(failed)}")
            cells = []
            for side in sides:
                t = timings[side.label]
                cells += [percentile(t["ms"], 50), percentile(t["ms"], 95)]
            cpu = [percentile(timings[s.label]["cpu"], 50) for s in sides]
            errors = sum(t["errors"] for t in timings.values())
            lines.append(
                f"| {scenario.name} | {cells[0]:.1f} | {cells[1]:.1f} | {cells[2]:.1f} |"
                f" {cells[3]:.1f} | {cells[2] / cells[0]:.2f} | {cells[3] / cells[1]:.2f} |"
                f" {cpu[1] / cpu[0]:.2f} | {errors} |"
            )
            print(lines[-1], flush=True)
    finally:
        for side in sides:
            side.close()
    header = [
        "# Catalog bench: before and after, interleaved",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/catalog_ab.py` on"
        f" {os.cpu_count()} CPUs, Python {platform.python_version()}; a 10-million-step"
        f" Python loop took {speed:.2f} s. Before: `{args.before}` at {commit(args.before)}"
        f" ({args.before_database or 'DATABASE_URL'}); after: `{args.after}` at"
        f" {commit(args.after)} ({args.after_database or 'DATABASE_URL'})."
        f" {args.requests} requests per scenario"
        " and side, the two sides' requests alternating (A B, B A, ...); milliseconds.",
        "",
        "| scenario | before p50 | before p95 | after p50 | after p95 | p50 ratio | p95 ratio"
        " | CPU p50 ratio | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    return "\n".join(header + lines) + "\n"


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="the old checkout's directory")
    parser.add_argument("--after", default=str(HERE.parent), help="default: this checkout")
    parser.add_argument("--before-database", help="its database (default: DATABASE_URL's)")
    parser.add_argument("--after-database")
    parser.add_argument("--only", action="append", help="scenarios whose name has this")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--big-model-versions", type=int, default=10_000)
    parser.add_argument("--output", default=str(HERE / "results" / "catalog-ab.md"))
    args = parser.parse_args()
    report = measure(args)
    Path(args.output).write_text(report)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
