"""Settings come from the environment and fail loudly when a value is wrong."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


# Variables the test run itself sets that a real deployment would not have.
_TEST_ONLY = ("DATABASE_URL", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")


def run_check(**env):
    base = {k: v for k, v in os.environ.items() if k not in _TEST_ONLY}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "env,message",
    [
        ({"DEBUG": "0"}, "SECRET_KEY is not set"),
        ({"DEBUG": "maybe"}, "DEBUG must be one of"),
        ({"DEBUG": "1", "ARTIFACT_MAX_BYTES": "lots"}, "ARTIFACT_MAX_BYTES must be an integer"),
        ({"DEBUG": "1", "ARTIFACT_MAX_BYTES": "0"}, "ARTIFACT_MAX_BYTES must be at least 1"),
        ({"DEBUG": "1", "ARTIFACT_STORAGE": "ftp"}, "ARTIFACT_STORAGE must be 'local' or 's3'"),
        ({"DEBUG": "1", "ARTIFACT_STORAGE": "s3"}, "needs AWS_STORAGE_BUCKET_NAME"),
        ({"DEBUG": "1", "DATABASE_URL": "mysql://x@y/z"}, "PostgreSQL or SQLite"),
        ({"DEBUG": "1", "DATABASE_URL": "nonsense"}, "DATABASE_URL"),
        ({"DEBUG": "1", "CACHE_URL": "memcached://127.0.0.1"}, "CACHE_URL must be a Redis URL"),
        ({"DEBUG": "1", "DATABASE_STATEMENT_TIMEOUT": "5s"}, "DATABASE_STATEMENT_TIMEOUT must"),
        ({"DEBUG": "1", "DATABASE_CONNECT_TIMEOUT": "0"}, "DATABASE_CONNECT_TIMEOUT must be"),
        ({"DEBUG": "1", "MODELGATE_PROCESS": "worker"}, "MODELGATE_PROCESS must be"),
        ({"DEBUG": "1", "MODELGATE_GITOPS_LOCAL_DIR": "git"}, "must be an absolute path"),
        ({"DEBUG": "1", "GITOPS_TIMEOUT_SECONDS": "90"}, "GITOPS_TIMEOUT_SECONDS must be"),
        (
            {"DEBUG": "1", "MODELGATE_PROTECTED_ALIASES": "champion,prod line"},
            "MODELGATE_PROTECTED_ALIASES: 'prod line' is not an alias name",
        ),
    ],
)
def test_bad_configuration_stops_start_up_with_the_variable_named(env, message, tmp_path):
    result = run_check(MODELGATE_VAR_DIR=str(tmp_path), **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_embedded_defaults_start_with_debug_only(tmp_path):
    result = run_check(DEBUG="1", MODELGATE_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_is_clean_with_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in _TEST_ONLY},
            "DEBUG": "0",
            "SECRET_KEY": "x7Hq9-production-like-secret-key-with-plenty-of-entropy-4f2a9c0e1b",
            "ALLOWED_HOSTS": "modelgate.example.com",
            "MODELGATE_VAR_DIR": str(tmp_path),
            "SECURE_SSL_REDIRECT": "1",
            "SESSION_COOKIE_SECURE": "1",
            "CSRF_COOKIE_SECURE": "1",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _cache_command(code: str, cache_url: str, tmp_path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in _TEST_ONLY}
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**base, "DEBUG": "1", "MODELGATE_VAR_DIR": str(tmp_path), "CACHE_URL": cache_url},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_processes_share_the_cache_named_by_cache_url(tmp_path):
    """What one process caches, another reads (and a drop in one is seen by the other)."""
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        if os.environ.get("MODELGATE_REQUIRE_REDIS") == "1":
            pytest.fail("needs Redis (CELERY_BROKER_URL=redis://...)")
        pytest.skip("needs Redis (set CELERY_BROKER_URL=redis://...)")
    cache_url = broker.rsplit("/", 1)[0] + "/14"
    key = f"settings-test-{os.getpid()}"
    write = _cache_command(
        f"from django.core.cache import cache; cache.set({key!r}, 42)", cache_url, tmp_path
    )
    assert write.returncode == 0, write.stderr
    read = _cache_command(
        f"from django.core.cache import cache; print(cache.get({key!r})); cache.delete({key!r})",
        cache_url,
        tmp_path,
    )
    assert read.returncode == 0, read.stderr
    assert read.stdout.splitlines()[-1] == "42"
    gone = _cache_command(
        f"from django.core.cache import cache; print(cache.get({key!r}))", cache_url, tmp_path
    )
    assert gone.stdout.splitlines()[-1] == "None"


def test_sessions_are_read_from_the_cache_only_when_it_is_shared(tmp_path):
    code = "from django.conf import settings; print(settings.SESSION_ENGINE)"
    shared = _cache_command(code, "redis://127.0.0.1:6379/14", tmp_path)
    assert shared.stdout.splitlines()[-1] == "django.contrib.sessions.backends.cached_db"
    local = _cache_command(code, "", tmp_path)
    assert local.stdout.splitlines()[-1] == "django.contrib.sessions.backends.db"
