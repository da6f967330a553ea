"""Webhook benchmark: promotions reach a receiver through a real Celery worker.

    .venv/bin/python bench/webhooks.py                       # 200 promotions, burst of 1,000
    .venv/bin/python bench/webhooks.py --promotions 50 --burst 200
    .venv/bin/python bench/webhooks.py --pool prefork --concurrency 2
    .venv/bin/python bench/webhooks.py --compare   # first with a connection per task

The database is DATABASE_URL (default postgres://postgres@127.0.0.1/mg_bench_webhooks),
migrated if needed; the broker is CELERY_BROKER_URL (default redis://127.0.0.1:6379/8),
purged at the start. The bench starts `celery -A config worker` as a subprocess (its
own process group, ended on exit, on an error and on Ctrl-C) and, in this process, a
threaded HTTP receiver on 127.0.0.1 that verifies each webhook's signature with the
`standardwebhooks` package, notes when each webhook-id arrived and answers 200.
MODELGATE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES is on for the bench's processes only.

Each run seeds its own team (so earlier runs' targets never match): `--promotions`
versions over models of 10 versions, a requester in the team, an approver named for
production on each model, a model policy needing one approval (staging skippable), and
one production target for the team subscribed to production promotions. The requests
are filed before timing.

Part 1: the approver approves each request in turn (approvals.services.review_approve:
the approval applies the promotion and writes its outbox row in one transaction). The
clock starts in an on_commit hook registered before the service runs (so it runs before
the hook that queues the delivery), and stops when the receiver has verified the
webhook and is about to answer 200. Also split: commit -> the attempt's start in the
worker (queueing, broker, pick-up, claim) and the attempt itself (DeliveryAttempt).

Part 2: `--burst` deliveries written in one transaction by as many deliveries_enqueue
calls (production promotions of the seeded versions, already promoted in part 1: the
outbox does not care), all queued when it commits; measured from the commit until the
receiver has them all: deliveries per second, and the distinct webhook-ids received
against those written (lost, duplicated). Beat is not running: anything not delivered
by the worker shows as lost, not as retried by the sweep.

With --compare, both parts run first against a worker started with
CELERY_DB_REUSE_MAX=0 (a new database connection for every task, Celery's default and
this project's before bench/results/webhooks.md), then as configured: before and after
in the same run, each with its own seeded team.

Results go to bench/results/webhooks.md (figures, load averages, machine).
"""

import argparse
import atexit
import contextlib
import datetime as dt
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import environment  # beside this script

environment.configure("mg_bench_webhooks")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/8")
os.environ["MODELGATE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] = "1"
ROOT = environment.ROOT

RESULTS = ROOT / "bench" / "results" / "webhooks.md"
TARGET_P95_MS = 300
VERSIONS_PER_MODEL = 10
EVENT = "version.promoted.production"


# --- The receiver ----------------------------------------------------------------------


class Receiver:
    """Verifies each POST's signature, notes the monotonic time it was verified under
    its webhook-id, answers 200 (401 for a bad signature)."""

    def __init__(self):
        self.secret = ""
        self.lock = threading.Lock()
        self.arrivals: dict[str, list[float]] = {}
        self.bad = 0
        self.count = 0
        self.changed = threading.Condition(self.lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                from standardwebhooks.webhooks import Webhook, WebhookVerificationError

                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    Webhook(receiver.secret).verify(body, headers)
                    status = 200
                except WebhookVerificationError:
                    status = 401
                at = time.monotonic()
                with receiver.changed:
                    if status == 200:
                        receiver.arrivals.setdefault(headers["webhook-id"], []).append(at)
                        receiver.count += 1
                    else:
                        receiver.bad += 1
                    receiver.changed.notify_all()
                self.send_response(status)
                self.send_header("content-length", "2")
                self.send_header("connection", "close")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 256
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/modelgate"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, ids: set[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not ids <= self.arrivals.keys():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 0.5))
        return True

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --- The worker ------------------------------------------------------------------------


class Worker:
    """`celery -A config worker` in its own process group, ended by `stop`, atexit and
    on SIGINT/SIGTERM."""

    def __init__(self, pool: str, concurrency: int, log_path, extra_env: dict):
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(log_path, "w")  # noqa: SIM115 (closed in stop)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "MODELGATE_PROCESS": "command",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **extra_env,
        }
        celery = ROOT / ".venv" / "bin" / "celery"
        self.command = [
            str(celery if celery.exists() else "celery"),
            "-A", "config", "worker", "--pool", pool, "--concurrency", str(concurrency),
            "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
            "--hostname", f"bench-webhooks-{os.getpid()}@localhost",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        atexit.register(self.stop)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, frame):
        self.stop()
        raise SystemExit(128 + signum)

    def wait_ready(self, app, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        name = self.command[-1]
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"the worker exited ({self.process.returncode}); see {self.log.name}")
            if app.control.ping(destination=[name], timeout=0.5):
                return
        sys.exit(f"the worker did not answer a ping in {timeout:.0f} s; see {self.log.name}")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the worker's processes so far (the pool's children
        included: they share its process group)."""
        total = 0.0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.process.pid:  # pgrp
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)  # the group this bench made
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if not self.log.closed:
            self.log.close()


# --- Seeding ---------------------------------------------------------------------------


def seed(promotions: int, receiver: Receiver) -> dict:
    """A fresh team with `promotions` versions to promote, their requests filed."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from approvals.services import approver_grant, policy_publish, transition_request
    from registry.services import (
        deployment_target_create,
        model_create,
        team_create,
        team_member_add,
        version_register,
    )

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    run = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    users = get_user_model().objects
    admin = users.filter(username="bench-admin").first() or users.create_superuser(
        "bench-admin", "bench-admin@example.com", None
    )
    team = team_create(actor=admin, name=f"Webhooks bench {run}")
    requester = users.create_user(f"wh-requester-{run}", f"req-{run}@example.com", None)
    approver = users.create_user(f"wh-approver-{run}", f"appr-{run}@example.com", None)
    team_member_add(actor=admin, team=team, user=requester)
    target, secret = deployment_target_create(
        actor=admin,
        name=f"bench-argo-prod-{run}",
        environment="production",
        url=receiver.url,
        events=[EVENT],
        scope="team",
        team=team,
    )
    receiver.secret = secret
    requests, versions = [], []
    for m in range((promotions + VERSIONS_PER_MODEL - 1) // VERSIONS_PER_MODEL):
        model = model_create(
            actor=requester,
            name=f"wh-bench-{run}-{m:03d}",
            team=team,
            owner=requester,
            description="Scores card payments for fraud risk.",
            purpose="Block or review risky payments at checkout.",
            license="proprietary",
            data_classification="confidential",
            evaluation_coverage="Hold-out of 2024-Q3 payments.",
            risk_tier="medium",
        )
        policy_publish(
            actor=admin,
            stage="production",
            model=model,
            rules={"required_approvals": 1, "allow_skip_staging": True},
            reason="Webhook bench: one approval promotes to Production.",
        )
        approver_grant(actor=admin, stage="production", model=model, user=approver)
        for n in range(min(VERSIONS_PER_MODEL, promotions - len(versions))):
            version = version_register(
                actor=requester,
                model=model,
                label=f"{n + 1}.0.0",
                framework="sklearn",
                artifact_uri=f"s3://models/{model.name}/{n + 1}/model.pkl",
                code_repository="https://git.example.com/ml/fraud",
                code_commit="a" * 40,
                metrics=[{"name": "auc", "value": 0.8 + n / 100, "dataset": "holdout"}],
            )
            versions.append(version)
            requests.append(
                transition_request(
                    actor=requester,
                    version=version,
                    to_stage="production",
                    reason="Beats the current model on the hold-out set; ops signed off.",
                )
            )
    seconds = time.perf_counter() - began
    print(f"seeded {len(requests)} requests over {m + 1} models in {seconds:.1f} s")
    return {
        "approver": approver,
        "requests": requests,
        "versions": versions,
        "target": target,
        "seconds": seconds,
    }


# --- Measuring -------------------------------------------------------------------------


def _load() -> float:
    return os.getloadavg()[0]


def promotions_measure(seeded: dict, receiver: Receiver, timeout: float, pause: float) -> dict:
    """Approve each request in turn (`pause` seconds apart); latency from its commit to
    the receiver's 200."""
    from django.db import transaction

    from approvals.services import review_approve
    from registry.models import Delivery, DeliveryAttempt

    committed: dict[int, tuple[float, dt.datetime]] = {}
    loads = [_load()]
    began = time.monotonic()
    for request in seeded["requests"]:
        with transaction.atomic():
            transaction.on_commit(
                lambda pk=request.pk: committed.__setitem__(
                    pk, (time.monotonic(), dt.datetime.now(dt.UTC))
                )
            )
            review_approve(actor=seeded["approver"], request=request)
        if pause:
            time.sleep(pause)
    promoting = time.monotonic() - began
    loads.append(_load())
    deliveries = {
        d.request_id: d
        for d in Delivery.objects.filter(request_id__in=committed, event=EVENT).order_by("pk")
    }
    missing_rows = set(committed) - set(deliveries)
    ids = {d.webhook_id for d in deliveries.values()}
    complete = receiver.wait_for(ids, timeout)
    loads.append(_load())
    attempts = {
        a.delivery_id: a
        for a in DeliveryAttempt.objects.filter(delivery__in=deliveries.values(), number=1)
    }
    latencies, to_start, sending = [], [], []
    for request_id, delivery in deliveries.items():
        at, wall = committed[request_id]
        arrived = receiver.arrivals.get(delivery.webhook_id)
        if arrived:
            latencies.append((arrived[0] - at) * 1000)
        attempt = attempts.get(delivery.pk)
        if attempt is not None:
            to_start.append((attempt.started_at - wall).total_seconds() * 1000)
            sending.append(attempt.latency_ms)
    return {
        "promotions": len(committed),
        "promote_s": promoting,
        "rows_missing": len(missing_rows),
        "received": len(latencies),
        "duplicates": sum(
            len(receiver.arrivals.get(i, [])) - 1 for i in ids if i in receiver.arrivals
        ),
        "complete": complete,
        "latencies": latencies,
        "to_start": to_start,
        "sending": sending,
        "loads": loads,
    }


def burst_measure(
    seeded: dict, receiver: Receiver, burst: int, timeout: float, worker: "Worker"
) -> dict:
    """`burst` deliveries in one transaction; deliveries per second from its commit."""
    from django.db import transaction

    from registry.services import deliveries_enqueue

    versions = seeded["versions"]
    holder: dict = {}
    cpu_before = worker.cpu_seconds()
    loads = [_load()]
    began = time.monotonic()
    with transaction.atomic():
        transaction.on_commit(lambda: holder.__setitem__("commit", time.monotonic()))
        written = []
        for n in range(burst):
            version = versions[n % len(versions)]
            written += deliveries_enqueue(
                version=version,
                from_stage="staging",
                to_stage="production",
                reason="Webhook bench burst: one of many events queued at once.",
                approvers=["bench-approver"],
                request_id=None,
            )
        holder["writing"] = time.monotonic() - began
    dispatched = time.monotonic()  # on_commit queued them all, one task each
    ids = {d.webhook_id for d in written}
    complete = receiver.wait_for(ids, timeout)
    loads.append(_load())
    cpu = worker.cpu_seconds() - cpu_before
    arrivals = [receiver.arrivals[i] for i in ids if i in receiver.arrivals]
    last = max((a[0] for a in arrivals), default=holder["commit"])
    seconds = last - holder["commit"]
    return {
        "written": len(written),
        "writing_s": holder["writing"],
        "dispatch_s": dispatched - holder["commit"],
        "received": len(arrivals),
        "lost": len(ids) - len(arrivals),
        "duplicates": sum(len(a) - 1 for a in arrivals),
        "strangers": len(set(receiver.arrivals) - ids - seeded.get("part1_ids", set())),
        "complete": complete,
        "seconds": seconds,
        "per_second": len(arrivals) / seconds if seconds > 0 else 0.0,
        "worker_cpu_ms": cpu * 1000 / max(1, len(arrivals)),
        "loads": loads,
    }


# --- Reporting -------------------------------------------------------------------------


def _ms(values: list[float], pct: float | None = None) -> str:
    if not values:
        return "-"
    return f"{(max(values) if pct is None else environment.percentile(values, pct)):.0f}"


def _loads(loads: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in loads)


def machine() -> dict:
    from django.db import connection

    from config.celery import app

    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    try:
        with app.connection_for_write() as conn:
            redis = conn.default_channel.client.info().get("redis_version", "?")
    except Exception as exc:  # only a label in the report
        redis = f"unknown ({type(exc).__name__})"
    return {
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "postgres": pg,
        "redis": redis,
        "speed": environment.python_speed(),
    }


def _rows(label: str, one: dict, two: dict | None) -> list[str]:
    lat = one["latencies"]
    rows = [
        f"| {label} | 1: promotions, one at a time | {one['promotions']} | {one['received']} "
        f"| {one['promotions'] - one['received']} | {one['duplicates']} | {_ms(lat, 50)} "
        f"| {_ms(lat, 95)} | {_ms(lat)} | {one['promotions'] / one['promote_s']:.1f} promoted "
        f"| {_loads(one['loads'])} |",
    ]
    if two:
        rows.append(
            f"| {label} | 2: burst in one transaction | {two['written']} | {two['received']} "
            f"| {two['lost']} | {two['duplicates']} | - | - | {two['seconds'] * 1000:.0f} "
            f"(last) | {two['per_second']:.0f} delivered, worker CPU "
            f"{two['worker_cpu_ms']:.1f} ms each | {_loads(two['loads'])} |"
        )
    return rows


def _split(label: str, one: dict) -> list[str]:
    lat, start, send = one["latencies"], one["to_start"], one["sending"]
    return [
        f"| {label} | commit -> receiver's 200 | {_ms(lat, 50)} | {_ms(lat, 95)} | {_ms(lat)} |",
        f"| {label} | commit -> attempt starts in the worker (queue, broker, pick-up, "
        f"connection, claim) | {_ms(start, 50)} | {_ms(start, 95)} | {_ms(start)} |",
        f"| {label} | the attempt (sign, connect, POST, answer) | {_ms(send, 50)} "
        f"| {_ms(send, 95)} | {_ms(send)} |",
    ]


def report(args, box: dict, runs: list[dict]) -> str:
    final = runs[-1]
    lat = final["one"]["latencies"]
    p95 = environment.percentile(lat, 95) if lat else float("inf")
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    out = [
        "# Webhook benchmark",
        "",
        f"Run {now} UTC with `bench/webhooks.py --promotions {args.promotions} --burst "
        f"{args.burst} --pool {args.pool} --concurrency {args.concurrency} "
        f"--pause {args.pause}" + (" --compare" if args.compare else "") + "`.",
        "",
        f"Machine: {box['platform']}, {box['cpus']} CPUs ({box['cpu']}), Python "
        f"{box['python']} (10M-iteration loop {box['speed']:.2f} s), PostgreSQL "
        f"{box['postgres']}, Redis {box['redis']}, all on this host. Load average at the end: "
        + ", ".join(f"{v:.2f}" for v in os.getloadavg())
        + ".",
        "",
        f"Worker: `celery -A config worker --pool {args.pool} --concurrency "
        f"{args.concurrency}` (a subprocess, prefetch 1, acks late, as configured); no beat. "
        "Receiver: a ThreadingHTTPServer in the bench process on 127.0.0.1, verifying each "
        "signature with `standardwebhooks` before answering 200. Promotions: "
        "approvals.services.review_approve by a named approver (one approval needed), one "
        f"after another ({args.pause} s apart) in the bench process; the clock starts in "
        "an on_commit hook that runs before the one queueing the delivery.",
        "",
        f"Target: p95 <= {TARGET_P95_MS} ms from commit to the receiver's 200: "
        + ("**met**" if p95 <= TARGET_P95_MS else "**missed**")
        + f" ({p95:.0f} ms, {final['label']}).",
        "",
        "| worker | part | events | received | lost | duplicated | p50 ms | p95 ms | max ms "
        "| per second | load 1-min (start / after sending / end) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for run in runs:
        out += _rows(run["label"], run["one"], run["two"])
    out += [
        "",
        "Part 1, split (ms; the attempt's start is the worker's wall clock, same host):",
        "",
        "| worker | span | p50 | p95 | max |",
        "|---|---|---:|---:|---:|",
    ]
    for run in runs:
        out += _split(run["label"], run["one"])
    out.append("")
    for run in runs:
        two = run["two"]
        if two:
            out += [
                f"Part 2 ({run['label']}): {two['written']} rows written by {args.burst} "
                f"deliveries_enqueue calls in {two['writing_s']:.1f} s (one transaction); "
                f"queueing them after the commit took {two['dispatch_s'] * 1000:.0f} ms of the "
                f"bench process; the receiver had all {two['received']} {two['seconds']:.1f} s "
                f"after the commit ({two['per_second']:.0f}/s), the worker's processes using "
                f"{two['worker_cpu_ms']:.1f} ms of CPU per delivery. Not received: "
                f"{two['lost']}; received more than once: {two['duplicates']}; unexpected "
                f"ids: {two['strangers']}.",
                "",
            ]
    out += [
        "Seeding (services, before timing): "
        + ", ".join(f"{r['seeded']['seconds']:.1f} s" for r in runs)
        + ".",
        "",
    ]
    return "\n".join(out)


def measure(args, app, receiver: Receiver, label: str, worker_env: dict) -> dict:
    """Seed, start a worker with `worker_env` added to its environment, run both parts."""
    seeded = seed(args.promotions, receiver)
    app.control.purge()
    log = ROOT / "var" / "bench-webhooks-worker.log"
    worker = Worker(args.pool, args.concurrency, log, worker_env)
    try:
        worker.wait_ready(app)
        print(f"[{label}] worker ready; load {_load():.2f}")
        one = promotions_measure(seeded, receiver, args.timeout, args.pause)
        lat = one["latencies"]
        print(
            f"[{label}] part 1: {one['received']}/{one['promotions']} received, p50 "
            f"{_ms(lat, 50)} p95 {_ms(lat, 95)} max {_ms(lat)} ms; load {_loads(one['loads'])}"
        )
        seeded["part1_ids"] = set(receiver.arrivals)
        two = None
        if args.burst:
            two = burst_measure(seeded, receiver, args.burst, args.timeout, worker)
            print(
                f"[{label}] part 2: {two['received']}/{two['written']} in "
                f"{two['seconds']:.1f} s ({two['per_second']:.0f}/s, worker CPU "
                f"{two['worker_cpu_ms']:.1f} ms each), lost {two['lost']}, duplicated "
                f"{two['duplicates']}; load {_loads(two['loads'])}"
            )
    finally:
        worker.stop()
    return {"label": label, "seeded": seeded, "one": one, "two": two}


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Promotion -> webhook latency and burst throughput through a real "
        "Celery worker and a signature-verifying receiver on 127.0.0.1.",
    )
    parser.add_argument(
        "--promotions", type=int, default=200, help="promotions timed in part 1 (default 200)"
    )
    parser.add_argument(
        "--burst", type=int, default=1000,
        help="deliveries queued in one transaction in part 2 (default 1000; 0 skips it)",
    )  # fmt: skip
    parser.add_argument(
        "--pool", default="threads", choices=["threads", "prefork", "solo"],
        help="the worker's pool (default threads)",
    )  # fmt: skip
    parser.add_argument(
        "--concurrency", type=int, default=4,
        help="the worker's concurrency (default 4: threads waiting on the database and the "
        "receiver, for 2 cores)",
    )  # fmt: skip
    parser.add_argument(
        "--pause", type=float, default=0,
        help="seconds between promotions in part 1 (default 0: one right after another)",
    )  # fmt: skip
    parser.add_argument(
        "--timeout", type=float, default=120, help="seconds to wait for each part's webhooks"
    )
    parser.add_argument(
        "--compare", action="store_true",
        help="first run both parts with a worker that opens a database connection for "
        "every task (CELERY_DB_REUSE_MAX=0, Celery's default), then as configured",
    )  # fmt: skip
    parser.add_argument(
        "--no-write", action="store_true", help="print the report, leave the results file"
    )
    args = parser.parse_args()
    if args.promotions < 1 or args.burst < 0 or args.concurrency < 1:
        parser.error("--promotions and --concurrency must be at least 1, --burst at least 0")

    environment.setup_django()
    from config.celery import app

    app.conf.task_always_eager = False
    receiver = Receiver()
    try:
        runs = []
        if args.compare:
            runs.append(
                measure(
                    args, app, receiver, "new connection per task", {"CELERY_DB_REUSE_MAX": "0"}
                )
            )
        runs.append(measure(args, app, receiver, "as configured", {}))
        text = report(args, machine(), runs)
        print(text)
        if not args.no_write:
            RESULTS.write_text(text)
            print(f"written to {RESULTS.relative_to(ROOT)}")
    finally:
        receiver.close()


if __name__ == "__main__":
    main()
