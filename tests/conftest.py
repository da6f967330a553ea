"""Shared fixtures: a fixed cast of users and factories that go through the services."""

import os

import pytest
from django.db import connection

REQUIRE_POSTGRES = os.environ.get("MODELGATE_REQUIRE_POSTGRES") == "1"


def pytest_configure(config):
    from django.conf import settings

    from tests.pg_flush import install as allow_flushing_the_audit_log

    allow_flushing_the_audit_log()
    # Password hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if REQUIRE_POSTGRES and not settings.IS_POSTGRES:
        raise pytest.UsageError(
            "MODELGATE_REQUIRE_POSTGRES=1 but DATABASE_URL does not point at PostgreSQL."
        )


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    if settings.IS_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def artifact_dir(settings, tmp_path):
    """Every test stores artifacts in its own temporary folder."""
    location = tmp_path / "artifacts"
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": location},
        },
    }
    return location


@pytest.fixture
def password():
    return "correct-horse-battery-staple"


@pytest.fixture
def admin_user(django_user_model, password):
    return django_user_model.objects.create_superuser("admin", "admin@example.com", password)


@pytest.fixture
def team(admin_user):
    from registry.services import team_create

    return team_create(actor=admin_user, name="Fraud Detection", description="Payments fraud")


@pytest.fixture
def other_team(admin_user):
    from registry.services import team_create

    return team_create(actor=admin_user, name="Search Ranking")


@pytest.fixture
def member(django_user_model, admin_user, team, password):
    """A data scientist in the owning team."""
    from registry.services import team_member_add

    user = django_user_model.objects.create_user("alice", "alice@example.com", password)
    team_member_add(actor=admin_user, team=team, user=user)
    return user


@pytest.fixture
def outsider(django_user_model, admin_user, other_team, password):
    """Signed in, but in another team."""
    from registry.services import team_member_add

    user = django_user_model.objects.create_user("bob", "bob@example.com", password)
    team_member_add(actor=admin_user, team=other_team, user=user)
    return user


MODEL_DEFAULTS = {
    "description": "Scores card payments for fraud risk.",
    "purpose": "Block or review risky payments at checkout.",
    "license": "proprietary",
    "data_classification": "confidential",
    "evaluation_coverage": "Hold-out of 2024-Q3 payments; per-country slices.",
    "risk_tier": "medium",
}


@pytest.fixture
def make_model(member, team):
    from registry.services import model_create

    counter = {"n": 0}

    def make(**overrides):
        counter["n"] += 1
        values = {
            "actor": member,
            "name": f"fraud-scorer-{counter['n']}",
            "team": team,
            "owner": member,
            "tags": ["fraud", "payments"],
            **MODEL_DEFAULTS,
        }
        values.update(overrides)
        return model_create(**values)

    return make


@pytest.fixture
def make_version(member):
    from registry.services import version_register

    def make(model, **overrides):
        n = model.versions.count() + 1
        values = {
            "actor": member,
            "model": model,
            "label": f"{n}.0.0",
            "framework": "sklearn",
            "artifact_uri": f"s3://models/{model.name}/{n}/model.pkl",
            "code_repository": "https://git.example.com/ml/fraud",
            "code_commit": "a" * 40,
            "metrics": [{"name": "auc", "value": 0.8 + n / 100, "dataset": "holdout"}],
        }
        values.update(overrides)
        return version_register(**values)

    return make


@pytest.fixture
def model(make_model):
    return make_model(name="fraud-scorer")


@pytest.fixture
def version(model, make_version):
    return make_version(model)


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def many_models(is_postgres, settings, make_model):
    """24 models (18 MIT, 6 proprietary) and the search's exact limit set to 10, so that
    their counts are estimates (registry/search/bounded.py; PostgreSQL only)."""
    if not is_postgres:
        pytest.skip("estimates are PostgreSQL's (the embedded SQLite catalog counts exactly)")
    settings.SEARCH_EXACT_LIMIT = 10
    settings.SEARCH_SAMPLE_SIZE = 8
    for i in range(24):
        make_model(name=f"scorer-{i:02d}", license="MIT" if i % 4 else "proprietary")
    with connection.cursor() as cursor:  # the planner's row count sizes the sample
        cursor.execute("ANALYZE registry_registeredmodel")


def _celery_app_with_broker():
    """The Celery app, set to send tasks to the configured Redis broker, with nothing
    left queued by an earlier test. Skips with a reason on a machine without a broker,
    unless MODELGATE_REQUIRE_REDIS=1 (CI), where a missing broker is a failure."""
    from django.conf import settings

    from config.celery import app

    if not settings.CELERY_BROKER_URL:
        message = "needs a Redis broker (set CELERY_BROKER_URL=redis://...)"
        if os.environ.get("MODELGATE_REQUIRE_REDIS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    app.conf.task_always_eager = False
    app.control.purge()  # nothing left queued by an earlier test may run in this one
    return app


def _start_worker(app):
    from celery.contrib.testing.worker import start_worker

    return start_worker(
        app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING"
    )


@pytest.fixture
def _worker_connections_closed(monkeypatch):
    """The worker's threads close their database connections after each task (as if
    CONN_MAX_AGE were 0) instead of keeping them (config/celery.py): threads of this
    process that kept theirs would keep the test database from being dropped."""
    from django.db import connections

    monkeypatch.setitem(connections["default"].settings_dict, "CONN_MAX_AGE", 0)


@pytest.fixture
def celery_worker(_worker_connections_closed):
    """A real Celery worker (threads) consuming from the configured Redis broker."""
    with _start_worker(_celery_app_with_broker()) as worker:
        yield worker


@pytest.fixture
def celery_worker_later(_worker_connections_closed):
    """Starts a real Celery worker when the test calls it (`with celery_worker_later():`),
    so a test can see work queued but not yet done; tasks queued before are kept."""
    app = _celery_app_with_broker()
    return lambda: _start_worker(app)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Cached catalog facets must not leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def approval_defaults(request):
    """The default policies and the Governance and Break-glass groups come from a data
    migration; a transactional test (live server, concurrency) flushes them, so they are
    put back for every test that uses the database."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "live_server" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction")
    )
    if marker is None and not transactional and "db" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    import importlib

    from django.apps import apps

    defaults = importlib.import_module("approvals.migrations.0002_default_policies")
    from approvals.models import Policy

    if not Policy.objects.exists():
        defaults.create_defaults(apps, None)
        defaults.create_groups(apps, None)
