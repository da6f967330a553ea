"""Production settings for gunicorn: `gunicorn -c config/gunicorn.conf.py config.wsgi`.

Meant to run behind a buffering reverse proxy (deploy/nginx/): the proxy reads whole
requests from slow clients and whole responses from Modelgate, so a worker thread is
only ever busy with a request that is ready to run. Every value can be overridden on the
command line or with GUNICORN_CMD_ARGS, but set the thread count with GUNICORN_THREADS so
that worker_connections follows it. The defaults below are the ones measured by
bench/load.py (bench/results/load.md).
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Threads overlap the time a request waits on PostgreSQL; processes use the cores (one
# Python process runs one thread at a time).
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))

# One queue, first come first served: a worker takes a connection only when it has a
# free thread, so waiting requests stay in the listen backlog, shared by all workers,
# instead of in one busy worker's private queue while another idles. That holds the
# slowest requests near the average under load (Little's law) and keeps throughput flat
# past saturation. With no spare connection slots there is nothing to keep alive: the
# proxy opens a connection per request (cheap on one host) and gunicorn closes it.
worker_connections = threads
keepalive = 0
# The shared queue. Past it the kernel turns new connections away and the proxy answers
# 502 after its connect timeout (5 s), instead of queueing without bound.
backlog = 256
# Kill and replace a worker whose main loop has not reported in this many seconds. The
# database statement timeout (DATABASE_STATEMENT_TIMEOUT) stops slow queries first.
timeout = 30
graceful_timeout = 30

# Replace workers now and then, so a slow leak cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500

# Bounded request heads (gunicorn's defaults, stated): the proxy enforces the same.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

# Heartbeat files on a RAM disk, not a possibly slow /tmp.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# gunicorn 25+ opens a control socket in the home directory; one path shared by every
# server on the host would clash, and nothing here uses it.
control_socket_disable = True

accesslog = "-"
errorlog = "-"


def post_worker_init(worker):
    """Once the worker has loaded Django, move everything loaded so far (~140,000
    objects: modules, URL patterns, templates, the ORM's metadata) out of the cyclic
    garbage collector's reach. They live as long as the worker, yet a full collection
    walked them all: ~80 ms, once every few hundred requests, added to whichever
    request triggered it (measured in-process on a catalog search; 5 ms frozen)."""
    import gc

    gc.freeze()
