"""A slow or unreachable database makes the production server answer 503 with a retry
hint within its timeouts, instead of hanging the worker or answering 500.

These run the real server (gunicorn with config/gunicorn.conf.py) in a subprocess with
the timeouts set through the environment, as a deployment would.
"""

import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import psycopg
import pytest
import requests
from django.db import connection

from tests.servers import ROOT, production_server


@contextmanager
def frozen_database():
    """A TCP port that accepts connections and never says a word, as a PostgreSQL whose
    process is stopped (or a host behind a black-holing firewall) looks to a client."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for sock in held:
            sock.close()
        listener.close()


def _timed_get(url, **kwargs):
    started = time.monotonic()
    response = requests.get(url, timeout=30, allow_redirects=False, **kwargs)
    return response, time.monotonic() - started


def _database_url() -> str:
    """The test database, for a server or command in another process."""
    s = connection.settings_dict
    host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    return f"postgresql://{s['USER']}@{host}/{s['NAME']}"


def _assert_unavailable_page(response):
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Modelgate is busy right now" in response.text
    assert "Traceback" not in response.text


def _assert_unavailable_json(response):
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.headers["Content-Type"] == "application/json"
    assert "database is busy or unreachable" in response.json()["detail"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_query_over_the_statement_timeout_answers_503_and_the_next_one_succeeds(
    client, member, model
):
    from registry.services import token_create

    _, secret = token_create(actor=member, name="pipeline")
    client.force_login(member)
    cookies = {"sessionid": client.cookies["sessionid"].value}
    bearer = {"Authorization": f"Bearer {secret}"}
    # The server boots first (on a loaded machine that alone can take seconds); then
    # another session holds a lock on the models table, as a long migration would.
    with (
        production_server(DATABASE_URL=_database_url(), DATABASE_STATEMENT_TIMEOUT="1") as base,
        psycopg.connect(_database_url()) as locker,
    ):
        locker.execute("LOCK TABLE registry_registeredmodel IN ACCESS EXCLUSIVE MODE")
        page, page_seconds = _timed_get(f"{base}/", cookies=cookies)
        api, api_seconds = _timed_get(f"{base}/api/models/", headers=bearer)
        locker.rollback()  # the lock is released
        after, _ = _timed_get(f"{base}/", cookies=cookies)
        api_after, _ = _timed_get(f"{base}/api/models/", headers=bearer)

    _assert_unavailable_page(page)
    _assert_unavailable_json(api)
    # Bounded by the 1 s statement timeout, not the lock: a hung worker would wait 30 s.
    # The margin is for a loaded CI machine.
    assert page_seconds < 10 and api_seconds < 10, (page_seconds, api_seconds)
    assert after.status_code == 200 and "fraud-scorer" in after.text
    assert api_after.status_code == 200
    assert [m["name"] for m in api_after.json()["results"]] == ["fraud-scorer"]


@pytest.mark.postgres
def test_an_unresponsive_database_answers_503_within_the_connect_timeout():
    with (
        frozen_database() as port,
        production_server(
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/modelgate",
            DATABASE_CONNECT_TIMEOUT="2",
        ) as base,
    ):
        page, page_seconds = _timed_get(f"{base}/", cookies={"sessionid": "x" * 32})
        api, api_seconds = _timed_get(
            f"{base}/api/models/", headers={"Authorization": "Bearer mg_0000_secret"}
        )
    _assert_unavailable_page(page)
    _assert_unavailable_json(api)
    assert page_seconds < 12 and api_seconds < 12, (page_seconds, api_seconds)


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    "env,expected",
    [({}, "0"), ({"DATABASE_COMMAND_STATEMENT_TIMEOUT": "3600"}, "1h")],
)
def test_manage_py_commands_get_the_command_statement_timeout_not_the_web_one(env, expected):
    show = (
        "from django.db import connection; c = connection.cursor(); "
        "c.execute('SHOW statement_timeout'); print(c.fetchone()[0])"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", show],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": _database_url(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected
    web_env = {k: v for k, v in os.environ.items() if k != "MODELGATE_PROCESS"}
    web = subprocess.run(  # what gunicorn loads
        [sys.executable, "-c", f"import config.wsgi; {show}"],
        cwd=ROOT,
        env={**web_env, "DATABASE_URL": _database_url(), "DATABASE_STATEMENT_TIMEOUT": "5"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert web.stdout.strip() == "5s", web.stderr
