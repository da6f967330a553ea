"""Audit export benchmark: seed a million audit events, stream the exports, measure.

    .venv/bin/python bench/audit_export.py                 # seed (if needed) and measure
    .venv/bin/python bench/audit_export.py --seed-only     # just load the events
    .venv/bin/python bench/audit_export.py --measure-only  # re-measure an existing load

The database is DATABASE_URL (default postgres://postgres@127.0.0.1/mg_bench_audit); it
is migrated if needed. Seeding writes --events events with COPY, as one valid hash chain
computed in Python with audit.services.event_hash (so `audit_verify` can be timed on the
same data). The audit table is append-only: to re-seed, drop and re-create the database.

Each export is requested through Django's test Client as a signed-in auditor, i.e. the
real URL, middleware, view (which records the export event first) and streaming code;
the streamed bytes are consumed and counted but not kept. The measurement runs in a
fresh process (--measure-only is re-executed) so the seeding's memory does not hide the
export's: peak RSS growth is ru_maxrss after the export minus ru_maxrss before it, after
one small warm-up export. Results go to bench/results/audit_export.md.
"""

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time

import environment  # beside this script

environment.configure("mg_bench_audit")
ROOT = environment.ROOT

RESULTS = ROOT / "bench" / "results" / "audit_export.md"
BENCH_AUDITOR = "bench-auditor"
TARGET_ROWS_PER_S = 100_000
TARGET_RSS_MB = 64

ACTIONS = [
    "registry.model.updated",
    "registry.version.registered",
    "registry.version.metrics_attached",
    "registry.card.updated",
    "registry.artifact.uploaded",
    "registry.version.params_attached",
    "registry.team.member_added",
]
ACTORS = [f"user{n:03d}" for n in range(200)]
USER_AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
    "python-requests/2.32.3",
    "modelgate-pipeline/1.4 (+training)",
]
STAGES = [("none", "staging"), ("staging", "production"), ("production", "archived")]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _event(seq: int, start: dt.datetime, rng: random.Random) -> dict:
    model_no = rng.randrange(2000)
    transition = seq % 50 == 0  # 2% of events are stage transitions
    from_stage, to_stage = STAGES[seq % 3] if transition else ("", "")
    changes = (
        {
            "requested_by": rng.choice(ACTORS),
            "approved_by": rng.sample(ACTORS, 2),
            "gate_results": [
                {"gate": "min_auc", "passed": True, "detail": "auc 0.91 >= 0.85"},
                {"gate": "card_complete", "passed": rng.random() > 0.1, "detail": ""},
            ],
        }
        if transition
        else {
            "description": [f"Old text {seq}", f"New text {seq}"],
            "metrics": {"auc@holdout": round(rng.random(), 4), "f1@holdout": 0.5},
        }
    )
    actor = rng.choice(ACTORS)
    return {
        "sequence": seq,
        "created_at": start + dt.timedelta(seconds=seq * 3),
        "actor_kind": "user",
        "actor_id": ACTORS.index(actor) + 1000,
        "actor_name": actor,
        "action": "registry.model.updated" if transition else rng.choice(ACTIONS),
        "object_type": "version",
        "object_id": str(model_no * 10 + 1),
        "model_name": f"model-{model_no:04d}",
        "model_id": model_no + 1,
        "version_number": rng.randrange(1, 40),
        "request_id": seq if transition else None,
        "from_stage": from_stage,
        "to_stage": to_stage,
        "reason": f"Promotion {seq}: evaluation passed on holdout" if transition else "",
        "changes": changes,
        "ip_address": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        "user_agent": rng.choice(USER_AGENTS),
    }


COLUMNS = (
    "sequence, created_at, actor_kind, actor_id, actor_name, action, object_type, object_id, "
    "model_name, model_id, version_number, request_id, from_stage, to_stage, reason, "
    "changes, ip_address, user_agent, prev_hash, hash"
)


def seed(events: int) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from audit.models import AuditEvent, ChainHead
    from audit.services import GENESIS_HASH, event_hash

    call_command("migrate", verbosity=0)
    existing = AuditEvent.objects.count()
    if existing == events:
        print(f"{existing} events already seeded")
        return {}
    if existing:
        sys.exit(
            f"The bench database holds {existing} events, not {events}; the audit table is "
            "append-only, so drop and re-create the database to re-seed."
        )
    rng = random.Random(42)
    start = dt.datetime(2022, 1, 1, tzinfo=dt.UTC)
    prev = GENESIS_HASH
    began = time.perf_counter()
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY audit_auditevent ({COLUMNS}) FROM STDIN") as copy:
            for seq in range(1, events + 1):
                e = _event(seq, start, rng)
                digest = event_hash(e, prev)
                copy.write_row(
                    (
                        *(e[k] for k in list(e)[:15]),
                        json.dumps(e["changes"]),
                        e["ip_address"],
                        e["user_agent"],
                        prev,
                        digest,
                    )
                )
                prev = digest
                if seq % 200_000 == 0:
                    print(f"  {seq} events ({time.perf_counter() - began:.0f} s)")
        cursor.execute("ANALYZE audit_auditevent")
    ChainHead.objects.update_or_create(id=1, defaults={"sequence": events, "hash": prev})
    seconds = time.perf_counter() - began
    print(f"seeded {events} events in {seconds:.1f} s")
    return {"events": events, "seconds": seconds}


def _stream(client, kind: str, filters: dict) -> dict:
    from django.urls import reverse

    rss_before = _rss_mb()
    began = time.perf_counter()
    response = client.post(reverse("audit:export", args=[kind]), filters)
    assert response.status_code == 200, response.status_code
    first_byte, size, lines = None, 0, 0
    for chunk in response.streaming_content:
        if first_byte is None:
            first_byte = time.perf_counter() - began
        size += len(chunk)
        lines += chunk.count(b"\n")
    seconds = time.perf_counter() - began
    rows = lines - (1 if kind.endswith("csv") else 0)  # the CSV header
    return {
        "kind": kind,
        "filters": filters,
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds if seconds else 0,
        "first_byte_ms": (first_byte or 0) * 1000,
        "mb": size / 1024 / 1024,
        "rss_growth_mb": _rss_mb() - rss_before,
    }


def _page_timings(client) -> list[dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from audit.models import ChainHead

    head = ChainHead.objects.get().sequence
    cases = [
        ("newest page", {}),
        ("deep page (?before=1000)", {"before": 1000}),
        ("action filter", {"action": "registry.card.updated"}),
        ("model filter", {"model": "model-0042"}),
        ("stage transitions only", {"transitions_only": "on"}),
        ("transitions, deep", {"transitions_only": "on", "before": head // 10}),
        ("actor filter", {"actor": "user007"}),
        ("one day, a month back", {"date_from": "2022-01-15", "date_to": "2022-01-15"}),
        ("a whole month", {"date_from": "2022-01-01", "date_to": "2022-01-31"}),
    ]
    out = []
    for label, params in cases:
        client.get(reverse("audit:events"), params)  # warm
        timings = []
        for _ in range(5):
            began = time.perf_counter()
            response = client.get(reverse("audit:events"), params)
            timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("audit:events"), params)
        out.append(
            {
                "label": label,
                "ms": sorted(timings)[len(timings) // 2],
                "queries": len(queries.captured_queries),
                "rows": response.content.count(b'<tr id="event-'),
            }
        )
    return out


EXPORTS = [
    ("events-csv", {}),
    ("events-jsonl", {}),
    ("events-csv", {"action": "registry.card.updated"}),
]  # the transitions export has its own benchmark: bench/transitions_export.py


def _auditor_client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(
        username=BENCH_AUDITOR, defaults={"is_superuser": True, "is_staff": True}
    )
    client = Client()
    client.force_login(user)
    return client


def one_export(kind: str, filters: dict) -> dict:
    """One export in this (fresh) process, after a small warm-up export."""
    client = _auditor_client()
    _stream(client, kind, {"model": "model-0001"})  # warm-up: imports, caches, pools
    return _stream(client, kind, filters)


def _breakdown(rows: int = 200_000) -> dict:
    """Where the CSV export's time goes, on the first `rows` events: reading the
    formatted rows from PostgreSQL, writing them with the csv module, and (for
    reference) PostgreSQL's own COPY ... TO STDOUT CSV of the same columns."""
    import csv
    import io

    from django.db import connection

    from audit.export import _batches, _pg_csv_rows
    from audit.models import AuditEvent

    qs = _pg_csv_rows(AuditEvent.objects.filter(sequence__lte=rows))
    began, fetched, sample = time.perf_counter(), 0, None
    for batch in _batches(qs, 5000):
        fetched += len(batch)
        sample = sample or batch
    fetch = fetched / (time.perf_counter() - began)
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    began = time.perf_counter()
    for _ in range(rows // len(sample)):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(sample)
    write = rows / (time.perf_counter() - began)
    sql, params = qs.order_by("sequence").query.sql_with_params()
    with connection.cursor() as cursor:
        began, size = time.perf_counter(), 0
        query = cursor.cursor.mogrify(sql, params)
        with cursor.cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)") as copy:
            for data in copy:
                size += len(data)
        copy_rate = rows / (time.perf_counter() - began)
    return {"rows": rows, "fetch": fetch, "write": write, "copy": copy_rate}


def measure() -> dict:
    from audit.verification import chain_check

    exports = []
    for kind, filters in EXPORTS:
        # Each export in its own process, so each peak-RSS figure starts from a clean
        # baseline (ru_maxrss never goes down within a process).
        command = [sys.executable, __file__, "--one-export", kind, json.dumps(filters)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        exports.append(json.loads(output.strip().splitlines()[-1]))
    began = time.perf_counter()
    result = chain_check()
    verify = {"seconds": time.perf_counter() - began, "checked": result.events_checked}
    verify["ok"] = result.ok
    pages = _page_timings(_auditor_client())
    return {"exports": exports, "verify": verify, "pages": pages, "breakdown": _breakdown()}


def write_results(data: dict, events: int, seeded: dict) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    lines = [
        "# Audit export benchmark",
        "",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC with `bench/audit_export.py` on "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"PostgreSQL {pg_version} (same host). Load average at the end: {load} (above the"
        " CPU count means other work competed for the machine).",
        "",
        f"{events:,} events seeded with COPY as one valid hash chain"
        + (f" in {seeded['seconds']:.0f} s." if seeded else " (seeded by an earlier run)."),
        "2% are stage transitions. Each export is one POST through Django's test client as"
        " a signed-in auditor (URL, middleware, view, export event, streaming), fully"
        " consumed, in its own fresh process after a small warm-up export. RSS growth is"
        " how much the process's peak RSS (ru_maxrss) grew during the export.",
        "",
        f"Targets: >= {TARGET_ROWS_PER_S:,} rows/s and <= {TARGET_RSS_MB} MB peak RSS growth.",
        "",
        "| export | filter | rows | seconds | rows/s | first byte | size | peak RSS growth | "
        "meets targets |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for e in data["exports"]:
        ok = e["rows_per_s"] >= TARGET_ROWS_PER_S and e["rss_growth_mb"] <= TARGET_RSS_MB
        filters = ", ".join(f"{k}={v}" for k, v in e["filters"].items()) or "none"
        lines.append(
            f"| {e['kind']} | {filters} | {e['rows']:,} | {e['seconds']:.1f} | "
            f"{e['rows_per_s']:,.0f} | {e['first_byte_ms']:.0f} ms | {e['mb']:.0f} MB | "
            f"{e['rss_growth_mb']:.1f} MB | {'yes' if ok else 'NO'} |"
        )
    b = data["breakdown"]
    lines += [
        "",
        "The filtered export reads rows scattered over the table (an index, then the heap),"
        " so its rate is lower; the targets are for the full export. The transitions export"
        " (one row per transition) is measured by `bench/transitions_export.py`.",
        "",
        "## Where the CSV time goes",
        "",
        "On PostgreSQL the events CSV is streamed from COPY ... TO STDOUT (the last row"
        " below); SQLite uses the Python path (the first three)."
        f" Measured separately on the first {b['rows']:,} events in the same process:",
        "",
        "| step | rows/s |",
        "|---|---:|",
        f"| read the formatted rows from PostgreSQL (keyset batches of 5,000) | "
        f"{b['fetch']:,.0f} |",
        f"| write them with Python's csv module (QUOTE_ALL) | {b['write']:,.0f} |",
        f"| both, one after the other (1 / (1/read + 1/write)) | "
        f"{1 / (1 / b['fetch'] + 1 / b['write']):,.0f} |",
        f"| reference: PostgreSQL's COPY ... TO STDOUT CSV of the same query | {b['copy']:,.0f} |",
    ]
    v = data["verify"]
    lines += [
        "",
        "## Chain verification",
        "",
        f"`chain_check()` (what `manage.py audit_verify` runs) over {v['checked']:,} events: "
        f"{v['seconds']:.1f} s ({v['checked'] / v['seconds']:,.0f} events/s), "
        f"result {'intact' if v['ok'] else 'BROKEN'}.",
        "",
        "## Audit page on the same data",
        "",
        "Median of 5 requests after a warm-up; keyset pages, no OFFSET, no COUNT.",
        "",
        "| page | rows | queries | median ms |",
        "|---|---:|---:|---:|",
    ]
    for p in data["pages"]:
        lines.append(f"| {p['label']} | {p['rows']} | {p['queries']} | {p['ms']:.1f} |")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--measure-only", action="store_true")
    parser.add_argument("--seeded-seconds", type=float, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--one-export", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    environment.setup_django()
    if args.one_export:
        kind, filters = args.one_export
        print(json.dumps(one_export(kind, json.loads(filters))))
        return
    if not args.measure_only:
        seeded = seed(args.events)
        if args.seed_only:
            return
        # Measure in a fresh process: the seeding's peak memory would mask the export's.
        command = [sys.executable, __file__, "--measure-only", f"--events={args.events}"]
        if seeded:
            command.append(f"--seeded-seconds={seeded['seconds']}")
        sys.exit(subprocess.call(command))
    data = measure()
    seeded = {"seconds": args.seeded_seconds} if args.seeded_seconds else {}
    write_results(data, args.events, seeded)


if __name__ == "__main__":
    main()
