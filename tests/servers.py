"""The production server set-up, run for real in tests: gunicorn with
config/gunicorn.conf.py, and nginx with the sample proxy configuration in deploy/nginx/."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent

NGINX_MAIN = """\
worker_processes 1;
pid {tmp}/nginx.pid;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream modelgate {{
        server {upstream};
    }}
    server {{
        listen 127.0.0.1:{port};
        include snippets/modelgate-proxy.conf;
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def production_server(*, workers: int = 1, threads: int = 4, **env):
    """gunicorn with the repository's production configuration on a free port; yields
    its base URL."""
    port = free_port()
    log = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py",
            "--bind", f"127.0.0.1:{port}",
            "--access-logfile", "/dev/null", "config.wsgi",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DEBUG": "0",
            "MODELGATE_PROCESS": "web",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_THREADS": str(threads),
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=log,
        text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60  # a loaded machine boots a worker slowly
        while True:  # until a worker has booted and answers (the sign-in page needs no query)
            try:
                requests.get(f"{base}/accounts/login/", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"gunicorn did not start: {log.read()}") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextmanager
def behind_nginx(upstream: str):
    """nginx in front of `upstream` (a base URL), proxying with the repository's
    deploy/nginx/modelgate-proxy.conf; yields nginx's base URL."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        pytest.skip("needs nginx (Debian: apt-get install nginx-light)")
    tmp = Path(tempfile.mkdtemp(prefix="mg-nginx-"))
    tmp.chmod(0o755)  # nginx's workers run unprivileged when started as root
    (tmp / "snippets").symlink_to(ROOT / "deploy" / "nginx")
    port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(
        NGINX_MAIN.format(tmp=tmp, port=port, upstream=upstream.removeprefix("http://"))
    )
    log = tmp / "error.log"
    process = subprocess.Popen(
        [nginx, "-p", str(tmp), "-c", str(conf), "-e", str(log), "-g", "daemon off; error_log "
         f"{log} warn;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"{base}/accounts/login/", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start: {log.read_text()}") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
