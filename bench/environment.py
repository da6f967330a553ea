"""What every benchmark does before measuring: production-like settings from the
environment, a PostgreSQL database that exists, and Django set up.

Benchmarks are scripts (`python bench/<name>.py`), so this module sits beside them.
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def configure(database: str) -> None:
    """Default DATABASE_URL to `database` on the local PostgreSQL, and the settings to
    production-like values: DEBUG off (no query log), plain HTTP for the in-process
    test client. Values already in the environment win."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1/{database}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault(
        "SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
    )
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        os.environ.setdefault(name, "0")


def ensure_database() -> None:
    """Create DATABASE_URL's database if it is missing; refuse anything but PostgreSQL."""
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
    if "postgresql" not in cfg["ENGINE"]:
        sys.exit("The benchmarks need PostgreSQL: set DATABASE_URL=postgres://...")
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
    ensure_database()
    import django

    django.setup()


def cpu_times() -> list[int] | None:
    """The machine's CPU counters (user, nice, system, idle, iowait, irq, softirq,
    steal), or None off Linux."""
    try:
        with open("/proc/stat") as stat:
            return [int(v) for v in stat.readline().split()[1:9]]
    except OSError:
        return None


def python_speed() -> float:
    """Seconds for a fixed pure-Python loop: a yardstick for comparing the machines
    that produced two result files."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def steal_share(before: list[int] | None, after: list[int] | None) -> str:
    """The share of CPU time the hypervisor gave to other guests between two readings."""
    if not before or not after:
        return "unknown"
    delta = [b - a for a, b in zip(before, after, strict=True)]
    return f"{100 * delta[7] / max(1, sum(delta)):.0f}%"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


class RequestCpu:
    """CPU time a request costs, Django and PostgreSQL together: this thread's CPU time
    plus the database backend's time on a CPU (/proc/<pid>/schedstat, nanoseconds).

    On a shared machine a request's wall time also counts the time it waited for a
    CPU; its CPU time does not, so it is close to what the request takes on a quiet
    machine (where it does not wait)."""

    def __init__(self):
        from django.db import connection

        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.path = f"/proc/{cursor.fetchone()[0]}/schedstat"

    def _backend_ns(self) -> int:
        try:
            with open(self.path) as stat:
                return int(stat.read().split()[0])
        except OSError:  # the database runs elsewhere: its CPU time is not counted
            return 0

    def start(self) -> None:
        self.thread, self.backend = time.thread_time_ns(), self._backend_ns()

    def ms(self) -> float:
        spent = time.thread_time_ns() - self.thread + self._backend_ns() - self.backend
        return spent / 1e6
