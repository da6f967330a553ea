"""What every benchmark does before measuring: production-like settings from the
environment, a PostgreSQL database that exists, and Django set up.

Benchmarks are scripts (`python bench/<name>.py`), so this module sits beside them.
"""

import os
import sys
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
