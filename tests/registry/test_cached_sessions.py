"""With a shared cache (CACHE_URL), sessions are read from it: a page reads no session
row from PostgreSQL, and signing out ends the session at once everywhere (the cache is Redis, shared
by every process: tests/test_settings.py)."""

import os

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_cache(settings):
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        if os.environ.get("MODELGATE_REQUIRE_REDIS") == "1":
            pytest.fail("needs Redis (CELERY_BROKER_URL=redis://...)")
        pytest.skip("needs Redis (set CELERY_BROKER_URL=redis://...)")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": broker.rsplit("/", 1)[0] + "/14",
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def test_with_a_shared_cache_pages_read_no_session_row_and_sign_out_ends_it(
    shared_cache, settings, member, model, version, password
):
    url = reverse("registry:version_detail", args=[model.name, 1])
    browser = Client()
    assert (
        browser.post(reverse("login"), {"username": "alice", "password": password}).status_code
        == 302
    )
    browser.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert browser.get(url).status_code == 200
    assert not any("django_session" in q["sql"] for q in ctx.captured_queries)
    # The same session from elsewhere (another tab, another process) ...
    other = Client()
    name = settings.SESSION_COOKIE_NAME
    other.cookies[name] = browser.cookies[name].value
    assert other.get(url).status_code == 200
    browser.post(reverse("logout"))
    # ... ends with the sign-out.
    response = other.get(url)
    assert response.status_code == 302 and "/login" in response["Location"]
