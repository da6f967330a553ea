"""Slow clients cannot tie up the production server: behind nginx with the sample proxy
configuration, connections that trickle request heads cost nginx a connection each and
never a gunicorn thread. (Latency targets are measured by bench/load.py, not here.)"""

import socket
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
import requests

from tests.servers import behind_nginx, production_server

SLOW_CLIENTS = 64


@contextmanager
def slow_clients(base_url: str, count: int):
    """`count` connections that have sent part of a request head and then go quiet,
    as a slowloris attack between two trickled bytes."""
    address = urlsplit(base_url)
    held = []
    try:
        for _ in range(count):
            sock = socket.create_connection((address.hostname, address.port), timeout=5)
            sock.sendall(b"GET /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow")
            held.append(sock)
        time.sleep(0.5)  # the server has read what was sent
        yield
    finally:
        for sock in held:
            sock.close()


def _sign_in_page(base_url: str, timeout: float):
    started = time.monotonic()
    response = requests.get(f"{base_url}/accounts/login/", timeout=timeout)
    return response, time.monotonic() - started


def test_slow_clients_do_not_hold_up_a_normal_request_behind_nginx():
    with production_server(workers=1, threads=2) as app:
        with slow_clients(app, SLOW_CLIENTS):
            # Without the proxy, every gunicorn thread waits on a slow client's head.
            with pytest.raises(requests.Timeout):
                _sign_in_page(app, timeout=3)
        with behind_nginx(app) as proxy, slow_clients(proxy, SLOW_CLIENTS):
            response, seconds = _sign_in_page(proxy, timeout=10)

    assert response.status_code == 200
    assert "Sign in" in response.text
    assert seconds < 2


def test_a_worker_freezes_what_it_loaded_out_of_the_garbage_collectors_reach():
    """config/gunicorn.conf.py's post_worker_init: a full collection then walks only
    what requests made, not the ~140,000 objects of the loaded application."""
    import gc
    import runpy

    hooks = runpy.run_path("config/gunicorn.conf.py")
    assert gc.get_freeze_count() == 0
    try:
        hooks["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 10_000  # Django and the project, loaded for tests
    finally:
        gc.unfreeze()
