"""The signed HTTP POST of one webhook attempt (Standard Webhooks).

Headers `webhook-id` (the delivery's, the same on every attempt), `webhook-timestamp`
(this attempt's, in seconds) and `webhook-signature`: `v1,` + base64 HMAC-SHA256 of
`id.timestamp.body` under each current secret, space-separated (two during a secret
rotation). Signed with the `standardwebhooks` package, which receivers can verify with.

Timeouts: WEBHOOK_CONNECT_TIMEOUT_SECONDS to connect, and the rest of
WEBHOOK_TOTAL_TIMEOUT_SECONDS (at most 15 s) to answer. Redirects are not followed
(a redirect could lead to an internal address), proxies from the environment are not
used, and the connection refuses a peer address that registry.deployments.addresses
refuses, whatever DNS said a moment earlier.
"""

import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from standardwebhooks.webhooks import Webhook
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError

from .addresses import AddressRefused, address_problem, url_check

RESPONSE_BODY_MAX_BYTES = 1024
ERROR_MAX_CHARS = 500
USER_AGENT = "Modelgate-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: a status code, or an error (and never both); a Git
    target's attempt has no status code, only `delivered` or an error."""

    started_at: datetime
    latency_ms: int
    status_code: int | None = None
    response_body: str = ""
    error: str = ""
    retry_after: str | None = None  # the raw Retry-After header
    refused: bool = False  # the address was refused: retrying would not help
    # Done without an HTTP status: a Git target's push (or a manifest already up to date).
    delivered: bool = False


def signature(*, secrets: list[str], webhook_id: str, timestamp: datetime, body: str) -> str:
    return " ".join(Webhook(s).sign(webhook_id, timestamp, body) for s in secrets)


_local = threading.local()


class _PeerChecked:
    def _new_conn(self):
        sock = super()._new_conn()
        problem = address_problem(sock.getpeername()[0])
        if problem:
            sock.close()
            raise AddressRefused(f"The receiver's address is refused: {problem}.")
        # Known to this attempt's deadline (post_signed), which may have to cut it.
        getattr(_local, "sockets", []).append(sock)
        return sock


class _HTTPConnection(_PeerChecked, HTTPConnection):
    pass


class _HTTPSConnection(_PeerChecked, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _PeerCheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies or .netrc from the environment
    adapter = _PeerCheckedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _DeadlinePassed(Exception):
    pass


def _cut(sockets: list[socket.socket], passed: threading.Event) -> None:
    passed.set()
    for sock in sockets:
        try:
            sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked reading it
        except OSError:
            pass


def _short(text: str) -> str:
    return text if len(text) <= ERROR_MAX_CHARS else text[: ERROR_MAX_CHARS - 1] + "…"


def post_signed(*, url: str, webhook_id: str, body: str, secrets: list[str]) -> Outcome:
    """Send `body` to `url`, signed with `secrets`; never raises for what the network or
    the receiver does."""
    started_at = datetime.now(UTC)
    clock = time.monotonic()

    def took() -> int:
        return round((time.monotonic() - clock) * 1000)

    connect = settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS
    answer = max(1, settings.WEBHOOK_TOTAL_TIMEOUT_SECONDS - connect)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(started_at.timestamp())),
        "webhook-signature": signature(
            secrets=secrets, webhook_id=webhook_id, timestamp=started_at, body=body
        ),
    }
    # Timeouts bound each wait; this deadline bounds them all, however the receiver
    # trickles its answer: it shuts the connection down when the total is spent.
    total = settings.WEBHOOK_TOTAL_TIMEOUT_SECONDS
    _local.sockets = sockets = []
    passed = threading.Event()
    deadline = threading.Timer(total, _cut, args=(sockets, passed))
    deadline.daemon = True
    try:
        url_check(url)  # a clear message for a name that now resolves somewhere refused
        deadline.start()
        with (
            _session() as session,
            session.post(
                url,
                data=body.encode(),
                headers=headers,
                timeout=(connect, answer),
                allow_redirects=False,
                stream=True,
            ) as response,
        ):
            try:
                raw = response.raw.read(RESPONSE_BODY_MAX_BYTES, decode_content=True) or b""
            except (HTTPError, OSError):  # the answer counts; its body is only logged
                raw = b""
            if passed.is_set():
                # Cut off mid-answer, the head may have looked complete: it was not.
                raise _DeadlinePassed
            return Outcome(
                started_at=started_at,
                latency_ms=took(),
                status_code=response.status_code,
                response_body=raw.decode("utf-8", errors="replace"),
                retry_after=response.headers.get("retry-after"),
            )
    except AddressRefused as exc:
        return Outcome(started_at=started_at, latency_ms=took(), error=str(exc), refused=True)
    except requests.ConnectTimeout:
        error = f"Could not connect within {connect} s."
    except (requests.ReadTimeout, _DeadlinePassed):
        error = f"No answer within {total} s."
    except (requests.RequestException, OSError) as exc:
        if passed.is_set():
            error = f"No answer within {total} s."
        elif isinstance(exc, requests.ConnectionError):
            error = f"Connection failed: {exc}"
        else:
            error = f"{type(exc).__name__}: {exc}"
    finally:
        deadline.cancel()
        _local.sockets = []
    return Outcome(started_at=started_at, latency_ms=took(), error=_short(error))
